/**
 * API tokens through the API (SPEC §5): bound to the caller's tenant and to a built-in or custom
 * role over a scope; the secret is in the creating response only. A token created by a user is
 * revoked when that user is deactivated or deleted.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ApiTokenCreateSchema,
  ApiTokenCreatedSchema,
  ApiTokenListSchema,
  IdentityIdParams,
  ProblemSchema,
  isBuiltInRole,
} from '@custos/shared';
import type { ApiTokenRecord } from '../../domain/tokens/api-token.js';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toApiTokenDto(t: ApiTokenRecord, customRoleNames: ReadonlyMap<string, string>) {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    roleName: isBuiltInRole(t.role) ? t.role : (customRoleNames.get(t.role) ?? null),
    scopeTags: t.scopeTags === null ? null : [...t.scopeTags],
    createdAt: new Date(t.createdAt).toISOString(),
    expiresAt: new Date(t.expiresAt).toISOString(),
    revokedAt: isoOrNull(t.revokedAt),
    lastUsedAt: isoOrNull(t.lastUsedAt),
    createdBy: t.createdBy,
  };
}

export const tokenRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const customRoleNames = async (tenantId: string) =>
    new Map((await (await services.tenants.data(tenantId)).roles.list()).map((r) => [r.id, r.name]));

  app.get(
    '/api/v1/api-tokens',
    {
      config: { permission: 'tokens.read' },
      schema: {
        tags: ['api tokens'],
        summary: "The tenant's API tokens (never their secrets)",
        response: { 200: ApiTokenListSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      const tokens = await services.apiTokens.list(request.actor, tenantId);
      const names = await customRoleNames(tenantId);
      return { items: tokens.map((t) => toApiTokenDto(t, names)) };
    },
  );

  app.post(
    '/api/v1/api-tokens',
    {
      config: { permission: 'tokens.write' },
      schema: {
        tags: ['api tokens'],
        summary: 'Create an API token for a role the caller holds itself; the secret is shown once',
        body: ApiTokenCreateSchema,
        response: { 201: ApiTokenCreatedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const tenantId = actorTenant(request);
      const b = request.body;
      const { token, record } = await services.apiTokens.create(request.actor, tenantId, {
        role: b.role,
        ...(b.name === undefined ? {} : { name: b.name }),
        ...(b.expiresInDays === undefined ? {} : { expiresInDays: b.expiresInDays }),
        ...(b.scopeTags === undefined ? {} : { scopeTags: b.scopeTags }),
      });
      return reply.code(201).send({ ...toApiTokenDto(record, await customRoleNames(tenantId)), token });
    },
  );

  app.delete(
    '/api/v1/api-tokens/:id',
    {
      config: { permission: 'tokens.write' },
      schema: {
        tags: ['api tokens'],
        summary: 'Revoke an API token; it stops working at once',
        params: IdentityIdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.apiTokens.revoke(request.actor, actorTenant(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
