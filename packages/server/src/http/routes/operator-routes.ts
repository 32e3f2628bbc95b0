/**
 * The operator plane over HTTP (SPEC §5):
 * - operators sign in (password AND TOTP code, always) to their own cookie, `custos_operator_session`,
 *   and ask a tenant for time-boxed access (lockbox);
 * - tenant admins holding `lockbox.approve` list, approve and deny those requests (`accessRequestAdminRoutes`,
 *   registered in the admin scope).
 * With an approved request the operator calls the tenant's admin API with the operator cookie and
 * `X-Custos-Tenant: <tenant id>` (http/plugins/operator-authentication.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  AccessRequestCreateSchema,
  AccessRequestListSchema,
  AccessRequestSchema,
  IdentityIdParams,
  OperatorLoginSchema,
  OperatorSessionSchema,
  ProblemSchema,
} from '@custos/shared';
import { DomainError } from '../../domain/domain-error.js';
import type { LockboxService } from '../../domain/operators/lockbox-service.js';
import type { LockboxRequestRecord } from '../../domain/operators/operator-store.js';
import { OPERATOR_SESSION_COOKIE, type AuthenticatedOperator } from '../../domain/operators/operator-service.js';
import { actorTenant, requestContext } from '../plugins/authenticate.js';
import { withPermissionExtension } from '../plugins/route-permission.js';
import type { AppServices } from '../services.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 429: ProblemSchema };
const COOKIE_ATTRIBUTES = { httpOnly: true, secure: true, sameSite: 'lax', path: '/api/v1' } as const;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    operatorSession: AuthenticatedOperator;
  }
}

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toAccessRequestDto(tenantId: string, r: LockboxRequestRecord, status: ReturnType<LockboxService['statusOf']>) {
  return {
    id: r.id,
    tenantId,
    operatorId: r.operatorId,
    operatorEmail: r.operatorEmail,
    reason: r.reason,
    role: r.role,
    durationMinutes: r.durationMinutes,
    status,
    requestedAt: new Date(r.requestedAt).toISOString(),
    decidedAt: isoOrNull(r.decidedAt),
    decidedBy: r.decidedBy,
    expiresAt: isoOrNull(r.expiresAt),
    lastAccessAt: isoOrNull(r.lastAccessAt),
  };
}

/** Operator sign-in, sign-out and the operator's own access requests. */
export const operatorRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.post(
    '/api/v1/operator/login',
    {
      schema: {
        tags: ['operators'],
        summary: 'Operator sign-in: email, password and a TOTP code (always); sets the custos_operator_session cookie',
        body: OperatorLoginSchema,
        response: { 200: OperatorSessionSchema, ...errors },
      },
      config: {
        auditExempt:
          'an operator sign-in touches no tenant; what an operator then does inside a tenant is audited there, and operator sessions are listed by custos access-review',
      },
    },
    async (request, reply) => {
      const { cookie, csrfToken, session, operator } = await services.operators.signIn(
        request.body.email,
        request.body.password,
        request.body.totpCode,
        requestContext(request),
      );
      reply.setCookie(OPERATOR_SESSION_COOKIE, cookie, { ...COOKIE_ATTRIBUTES, expires: new Date(session.absoluteExpiresAt) });
      return {
        operatorId: operator.id,
        email: operator.email,
        csrfToken,
        absoluteExpiresAt: new Date(session.absoluteExpiresAt).toISOString(),
      };
    },
  );

  const signedInRoutes: FastifyPluginAsyncTypebox = async (signedIn) => {
    signedIn.decorateRequest('operatorSession', null as unknown as { getter(): AuthenticatedOperator });
    signedIn.addHook('onRoute', (route) => {
      route.schema = withPermissionExtension({ ...route.schema, security: [{ operatorSession: [] }] }, 'operator');
    });
    signedIn.addHook('onRequest', async (request) => {
      const cookie = request.cookies[OPERATOR_SESSION_COOKIE];
      if (cookie === undefined) throw new DomainError('unauthenticated', 'Sign in as an operator first (POST /api/v1/operator/login).');
      request.operatorSession = await services.operators.authenticate(cookie);
      if (!SAFE_METHODS.has(request.method)) {
        const csrf = request.headers['x-csrf-token'];
        services.operators.checkCsrf(request.operatorSession.session.id, typeof csrf === 'string' ? csrf : undefined);
      }
    });

    signedIn.post(
      '/api/v1/operator/logout',
      { schema: { tags: ['operators'], summary: 'End the operator session', response: { 204: Type.Null(), ...errors } } },
      async (request, reply) => {
        await services.operators.signOut(request.operatorSession.session.id);
        reply.clearCookie(OPERATOR_SESSION_COOKIE, COOKIE_ATTRIBUTES);
        return reply.code(204).send(null);
      },
    );

    signedIn.post(
      '/api/v1/operator/access-requests',
      {
        schema: {
          tags: ['operators'],
          summary: "Ask a tenant's admins for time-boxed access to its data (lockbox); audited in the tenant's log",
          body: AccessRequestCreateSchema,
          response: { 201: AccessRequestSchema, ...errors },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const record = await services.lockbox.request(
          request.operatorSession.operator,
          { tenantId: b.tenantId, reason: b.reason, durationMinutes: b.durationMinutes, ...(b.role === undefined ? {} : { role: b.role }) },
          requestContext(request),
        );
        return reply.code(201).send(toAccessRequestDto(b.tenantId, record, services.lockbox.statusOf(record)));
      },
    );

    signedIn.get(
      '/api/v1/operator/access-requests',
      {
        schema: {
          tags: ['operators'],
          summary: "The operator's own access requests to one tenant",
          querystring: Type.Object({ tenantId: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
          response: { 200: AccessRequestListSchema, ...errors },
        },
      },
      async (request) => {
        const items = await services.lockbox.listOwn(request.operatorSession.operator, request.query.tenantId);
        return { items: items.map((r) => toAccessRequestDto(request.query.tenantId, r, services.lockbox.statusOf(r))) };
      },
    );
  };
  await app.register(signedInRoutes);
};

/** The tenant side of lockbox, in the admin scope: list, approve, deny (`lockbox.approve`). */
export const accessRequestAdminRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/access-requests',
    {
      config: { permission: 'lockbox.approve' },
      schema: {
        tags: ['operators'],
        summary: "Operators' lockbox requests for access to this tenant, newest first",
        response: { 200: AccessRequestListSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      const items = await services.lockbox.list(request.actor, tenantId);
      return { items: items.map((r) => toAccessRequestDto(tenantId, r, services.lockbox.statusOf(r))) };
    },
  );

  for (const decision of ['approve', 'deny'] as const) {
    app.post(
      `/api/v1/access-requests/:id/${decision}`,
      {
        config: { permission: 'lockbox.approve' },
        schema: {
          tags: ['operators'],
          summary:
            decision === 'approve'
              ? 'Approve a pending lockbox request: the operator has its role until now + its duration'
              : 'Deny a pending lockbox request',
          params: IdentityIdParams,
          response: { 200: AccessRequestSchema, ...errors },
        },
      },
      async (request) => {
        const tenantId = actorTenant(request);
        const record =
          decision === 'approve'
            ? await services.lockbox.approve(request.actor, tenantId, request.params.id)
            : await services.lockbox.deny(request.actor, tenantId, request.params.id);
        return toAccessRequestDto(tenantId, record, services.lockbox.statusOf(record));
      },
    );
  }
};
