/**
 * Admin side of signing in (SPEC §5), in the admin scope: a user's sessions (`users.read` to list,
 * `users.write` to revoke), setting a user's password or emailing them a reset link (`users.write`),
 * and the tenant's sign-in settings (`tenant.read` / `tenant.write`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  AdminPasswordResultSchema,
  AdminPasswordSchema,
  IdentitySettingsSchema,
  ProblemSchema,
  RevokedSessionsSchema,
  UserSessionListSchema,
  UserSessionParams,
  UserSessionsParams,
} from '@custos/shared';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';
import { toSessionDto } from './session-dto.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

export const sessionAdminRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const currentSession = (actor: { type: string; sessionId?: string | null }) => (actor.type === 'user' ? (actor.sessionId ?? null) : null);

  app.get(
    '/api/v1/users/:id/sessions',
    {
      config: { permission: 'users.read' },
      schema: {
        tags: ['users'],
        summary: "A user's open sessions, newest first",
        params: UserSessionsParams,
        response: { 200: UserSessionListSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      const user = await services.users.getUser(request.actor, tenantId, request.params.id);
      const sessions = await services.sessions.list(request.actor, tenantId, user.id);
      return { items: sessions.map((s) => toSessionDto(s, currentSession(request.actor))) };
    },
  );

  app.delete(
    '/api/v1/users/:id/sessions',
    {
      config: { permission: 'users.write' },
      schema: {
        tags: ['users'],
        summary: 'End every session of a user at once',
        params: UserSessionsParams,
        response: { 200: RevokedSessionsSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      const user = await services.users.getUser(request.actor, tenantId, request.params.id);
      return { revoked: await services.sessions.revokeAll(request.actor, tenantId, user.id) };
    },
  );

  app.delete(
    '/api/v1/users/:id/sessions/:sessionId',
    {
      config: { permission: 'users.write' },
      schema: {
        tags: ['users'],
        summary: 'End one session of a user',
        params: UserSessionParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.sessions.revoke(request.actor, actorTenant(request), request.params.id, request.params.sessionId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/users/:id/password',
    {
      config: { permission: 'users.write' },
      schema: {
        tags: ['users'],
        summary: "Set a user's password (ends their sessions), or email them a one-time reset link",
        params: UserSessionsParams,
        body: AdminPasswordSchema,
        response: { 200: AdminPasswordResultSchema, 422: ProblemSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      const body = request.body;
      if ('password' in body) {
        await services.users.setPassword(request.actor, tenantId, request.params.id, body.password);
        return { passwordSet: true, resetLinkSent: false };
      }
      await services.passwordResets.sendLink(request.actor, tenantId, request.params.id);
      return { passwordSet: false, resetLinkSent: true };
    },
  );

  app.get(
    '/api/v1/tenant/identity-settings',
    {
      config: { permission: 'tenant.read' },
      schema: {
        tags: ['tenant'],
        summary: "The tenant's sign-in settings: MFA for admins, session timeouts, password length",
        response: { 200: IdentitySettingsSchema, ...errors },
      },
    },
    async (request) => services.identitySettings.get(request.actor, actorTenant(request)),
  );

  app.put(
    '/api/v1/tenant/identity-settings',
    {
      config: { permission: 'tenant.write' },
      schema: {
        tags: ['tenant'],
        summary: "Replace the tenant's sign-in settings (applies to open sessions at their next request)",
        body: IdentitySettingsSchema,
        response: { 200: IdentitySettingsSchema, ...errors },
      },
    },
    async (request) => services.identitySettings.update(request.actor, actorTenant(request), request.body),
  );
};
