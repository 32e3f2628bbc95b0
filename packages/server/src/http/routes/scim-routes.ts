/**
 * SCIM 2.0 (RFC 7644) at `/scim/v2/`: Users, Groups and the discovery endpoints, for an identity
 * provider holding the tenant's SCIM token. This scope has its own authentication (the SCIM bearer
 * token only) and answers errors as SCIM Error messages; bodies are `application/scim+json` (plain
 * `application/json` is accepted too). The token itself is managed in the admin scope
 * (`POST/DELETE /api/v1/scim/token`).
 */
import type { FastifyError, FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ProblemSchema, ScimTokenSchema } from '@custos/shared';
import { DomainError } from '../../domain/domain-error.js';
import { ScimError } from '../../domain/identity/scim-errors.js';
import { resourceTypes, schemas, SCIM_ERROR, SCIM_LIST, serviceProviderConfig } from '../../domain/identity/scim-resources.js';
import { actorTenant, requestContext } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';

const SCIM_TYPE = 'application/scim+json; charset=utf-8';
const ScimBody = Type.Object({}, { additionalProperties: true, description: 'A SCIM resource or PatchOp message (RFC 7643, RFC 7644).' });
const ScimListQuery = Type.Object({
  filter: Type.Optional(Type.String({ maxLength: 1024 })),
  startIndex: Type.Optional(Type.Integer()),
  count: Type.Optional(Type.Integer()),
  attributes: Type.Optional(Type.String({ maxLength: 1024 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 1024 })),
});
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Ids that are not ours are "not found", not a schema error, so IdPs treat them as absent. */
function checkId(id: string): string {
  if (!UUID.test(id)) throw new ScimError(404, `No resource has the id ${id}.`);
  return id;
}

function excludesMembers(excluded: string | undefined): boolean {
  return (excluded ?? '').split(',').some((a) => a.trim().toLowerCase() === 'members');
}

function sendScim(reply: FastifyReply, status: number, body: unknown, version?: string): FastifyReply {
  if (version) reply.header('etag', version);
  return reply.code(status).type(SCIM_TYPE).send(body);
}

const DOMAIN_TO_SCIM: Partial<Record<string, { status: number; scimType?: ScimError['scimType'] }>> = {
  'validation-failed': { status: 400, scimType: 'invalidValue' },
  'malformed-json': { status: 400, scimType: 'invalidSyntax' },
  conflict: { status: 409, scimType: 'uniqueness' },
  'not-found': { status: 404 },
  unauthenticated: { status: 401 },
  forbidden: { status: 403 },
};

/** SCIM token management, in the admin scope. */
export const scimTokenRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.post(
    '/api/v1/scim/token',
    {
      config: { permission: 'tenant.write' },
      schema: {
        tags: ['identity'],
        summary: "Creates the tenant's SCIM token (shown once); an earlier token stops working",
        response: { 201: ScimTokenSchema, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
      },
    },
    async (request, reply) => {
      const created = await services.scimTokens.create(request.actor, actorTenant(request));
      return reply
        .code(201)
        .send({ token: created.token, scimUrl: services.scim.base, createdAt: new Date(created.createdAt).toISOString() });
    },
  );

  app.delete(
    '/api/v1/scim/token',
    {
      config: { permission: 'tenant.write' },
      schema: {
        tags: ['identity'],
        summary: "Revokes the tenant's SCIM token",
        response: { 204: Type.Null(), 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      await services.scimTokens.revoke(request.actor, actorTenant(request));
      return reply.code(204).send(null);
    },
  );
};

/** The SCIM service provider, registered in its own scope. */
export const scimRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const scim = services.scim;
  app.addContentTypeParser('application/scim+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'ignore'));
  app.decorateRequest('actor', null as unknown as { getter(): never });
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, tags: ['scim'], security: [{ scimBearer: [] }] };
  });
  app.addHook('onRequest', async (request) => {
    const match = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(request.headers.authorization ?? '');
    if (!match?.[1]) throw new DomainError('unauthenticated', 'Send the tenant SCIM token as "Authorization: Bearer <token>".');
    request.actor = await services.scimTokens.authenticate(match[1], requestContext(request));
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status = 500;
    let scimType: string | undefined;
    let detail = 'An unexpected error occurred; it was logged.';
    if (error instanceof ScimError) {
      ({ status, scimType } = error);
      detail = error.message;
    } else if (error instanceof DomainError) {
      const mapped = DOMAIN_TO_SCIM[error.code];
      status = mapped?.status ?? error.status;
      scimType = mapped?.scimType;
      detail = error.message;
    } else if (error.validation) {
      status = 400;
      scimType = 'invalidValue';
      detail = error.message;
    } else if (
      error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      error instanceof SyntaxError
    ) {
      status = 400;
      scimType = 'invalidSyntax';
      detail = 'The body is not valid JSON.';
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode;
      detail = error.message;
    } else {
      request.log.error({ err: error }, 'unhandled SCIM error');
    }
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="custos-scim"');
    return sendScim(reply, status, { schemas: [SCIM_ERROR], status: String(status), ...(scimType ? { scimType } : {}), detail });
  });

  app.get('/scim/v2/ServiceProviderConfig', { schema: { summary: 'What this SCIM service supports' } }, (_request, reply) =>
    sendScim(reply, 200, serviceProviderConfig(scim.base)),
  );
  app.get('/scim/v2/ResourceTypes', { schema: { summary: 'The SCIM resource types (User, Group)' } }, (_request, reply) => {
    const types = resourceTypes(scim.base);
    return sendScim(reply, 200, {
      schemas: [SCIM_LIST],
      totalResults: types.length,
      startIndex: 1,
      itemsPerPage: types.length,
      Resources: types,
    });
  });
  app.get('/scim/v2/Schemas', { schema: { summary: 'The SCIM schemas of User and Group as Custos keeps them' } }, (_request, reply) => {
    const all = schemas(scim.base);
    return sendScim(reply, 200, {
      schemas: [SCIM_LIST],
      totalResults: all.length,
      startIndex: 1,
      itemsPerPage: all.length,
      Resources: all,
    });
  });

  // ---- Users ----
  app.get(
    '/scim/v2/Users',
    { schema: { summary: 'Lists users (filter userName/externalId eq, startIndex/count paging)', querystring: ScimListQuery } },
    async (request, reply) => {
      const q = request.query;
      const list = await scim.listUsers(request.actor, actorTenant(request), {
        ...(q.filter === undefined ? {} : { filter: q.filter }),
        ...(q.startIndex === undefined ? {} : { startIndex: q.startIndex }),
        ...(q.count === undefined ? {} : { count: q.count }),
      });
      return sendScim(reply, 200, { schemas: [SCIM_LIST], ...list });
    },
  );
  app.get('/scim/v2/Users/:id', { schema: { summary: 'One user', params: IdParams } }, async (request, reply) => {
    const user = await scim.getUser(request.actor, actorTenant(request), checkId(request.params.id));
    return sendScim(reply, 200, user, user.meta.version);
  });
  app.post(
    '/scim/v2/Users',
    { schema: { summary: 'Creates a user (409 uniqueness for a taken userName)', body: ScimBody } },
    async (request, reply) => {
      const user = await scim.createUser(request.actor, actorTenant(request), request.body);
      reply.header('location', user.meta.location);
      return sendScim(reply, 201, user, user.meta.version);
    },
  );
  app.put(
    '/scim/v2/Users/:id',
    { schema: { summary: 'Replaces a user; active false ends their sessions and tokens', params: IdParams, body: ScimBody } },
    async (request, reply) => {
      const user = await scim.replaceUser(request.actor, actorTenant(request), checkId(request.params.id), request.body);
      return sendScim(reply, 200, user, user.meta.version);
    },
  );
  app.patch(
    '/scim/v2/Users/:id',
    { schema: { summary: 'Changes a user with PatchOp operations', params: IdParams, body: ScimBody } },
    async (request, reply) => {
      const user = await scim.patchUser(request.actor, actorTenant(request), checkId(request.params.id), request.body);
      return sendScim(reply, 200, user, user.meta.version);
    },
  );
  app.delete(
    '/scim/v2/Users/:id',
    { schema: { summary: 'Deletes a user; their sessions and tokens end at once', params: IdParams } },
    async (request, reply) => {
      await scim.deleteUser(request.actor, actorTenant(request), checkId(request.params.id));
      return reply.code(204).send(null);
    },
  );

  // ---- Groups ----
  app.get(
    '/scim/v2/Groups',
    { schema: { summary: 'Lists groups (filter displayName/externalId eq, paging)', querystring: ScimListQuery } },
    async (request, reply) => {
      const q = request.query;
      const list = await scim.listGroups(request.actor, actorTenant(request), {
        ...(q.filter === undefined ? {} : { filter: q.filter }),
        ...(q.startIndex === undefined ? {} : { startIndex: q.startIndex }),
        ...(q.count === undefined ? {} : { count: q.count }),
        excludeMembers: excludesMembers(q.excludedAttributes),
      });
      return sendScim(reply, 200, { schemas: [SCIM_LIST], ...list });
    },
  );
  app.get(
    '/scim/v2/Groups/:id',
    { schema: { summary: 'One group with its members', params: IdParams, querystring: ScimListQuery } },
    async (request, reply) => {
      const group = await scim.getGroup(
        request.actor,
        actorTenant(request),
        checkId(request.params.id),
        excludesMembers(request.query.excludedAttributes),
      );
      return sendScim(reply, 200, group, group.meta.version);
    },
  );
  app.post('/scim/v2/Groups', { schema: { summary: 'Creates a group', body: ScimBody } }, async (request, reply) => {
    const group = await scim.createGroup(request.actor, actorTenant(request), request.body);
    reply.header('location', group.meta.location);
    return sendScim(reply, 201, group, group.meta.version);
  });
  app.put(
    '/scim/v2/Groups/:id',
    { schema: { summary: 'Replaces a group and its members', params: IdParams, body: ScimBody } },
    async (request, reply) => {
      const group = await scim.replaceGroup(request.actor, actorTenant(request), checkId(request.params.id), request.body);
      return sendScim(reply, 200, group, group.meta.version);
    },
  );
  app.patch(
    '/scim/v2/Groups/:id',
    { schema: { summary: 'Renames a group or adds and removes members', params: IdParams, body: ScimBody } },
    async (request, reply) => {
      const group = await scim.patchGroup(request.actor, actorTenant(request), checkId(request.params.id), request.body);
      return sendScim(reply, 200, group, group.meta.version);
    },
  );
  app.delete('/scim/v2/Groups/:id', { schema: { summary: 'Deletes a group', params: IdParams } }, async (request, reply) => {
    await scim.deleteGroup(request.actor, actorTenant(request), checkId(request.params.id));
    return reply.code(204).send(null);
  });
};
