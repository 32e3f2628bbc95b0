/**
 * Single sign-on with the tenant's OpenID Connect provider: the admin's IdP configuration (admin
 * scope) and the two browser redirects of a sign-in (public: the browser has no session yet).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { IdentityProviderInputSchema, IdentityProviderSchema, OidcCallbackQuery, OidcStartQuery, ProblemSchema } from '@custos/shared';
import type { IdentityProviderRecord } from '../../domain/identity/oidc-stores.js';
import { OIDC_BINDING_COOKIE } from '../../domain/identity/oidc-sign-in-service.js';
import { actorTenant, requestContext } from '../plugins/authenticate.js';
import { setSessionCookie } from '../session-cookie.js';
import type { AppServices } from '../services.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema };
/** The binding cookie is sent back only to the callback, and only on a top-level navigation. */
const BINDING_COOKIE = { httpOnly: true, secure: true, sameSite: 'lax', path: '/api/v1/auth/oidc' } as const;

function toIdentityProviderDto(record: IdentityProviderRecord, services: AppServices) {
  return {
    issuer: record.issuer,
    clientId: record.clientId,
    clientSecretSet: record.clientSecretEncrypted !== null,
    ...record.options,
    redirectUri: services.oidcSignIn.redirectUri,
    signInUrl: services.oidcSignIn.startUrl,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}

/** Admin scope: `GET/PUT/DELETE /api/v1/identity-provider`. */
export const identityProviderRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/identity-provider',
    {
      config: { permission: 'tenant.read' },
      schema: {
        tags: ['identity'],
        summary: "The tenant's OpenID Connect identity provider (the client secret is never returned)",
        response: { 200: IdentityProviderSchema, 404: ProblemSchema, ...errors },
      },
    },
    async (request) => toIdentityProviderDto(await services.identityProviders.get(request.actor, actorTenant(request)), services),
  );

  app.put(
    '/api/v1/identity-provider',
    {
      config: { permission: 'tenant.write' },
      schema: {
        tags: ['identity'],
        summary: 'Configures single sign-on; the issuer is discovered first and nothing is stored if that fails',
        body: IdentityProviderInputSchema,
        response: { 200: IdentityProviderSchema, 422: ProblemSchema, ...errors },
      },
    },
    async (request) =>
      toIdentityProviderDto(await services.identityProviders.put(request.actor, actorTenant(request), request.body), services),
  );

  app.delete(
    '/api/v1/identity-provider',
    {
      config: { permission: 'tenant.write' },
      schema: {
        tags: ['identity'],
        summary: 'Turns single sign-on off; users already signed in keep their sessions until they end',
        response: { 204: Type.Null(), 404: ProblemSchema, ...errors },
      },
    },
    async (request, reply) => {
      await services.identityProviders.delete(request.actor, actorTenant(request));
      return reply.code(204).send(null);
    },
  );
};

/** Public: the sign-in redirects. */
export const oidcSignInRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/auth/oidc/start',
    {
      schema: {
        tags: ['auth'],
        summary: "Starts single sign-on: redirects to the tenant's identity provider (code flow with PKCE)",
        querystring: OidcStartQuery,
        response: { 302: Type.Null(), 400: ProblemSchema, 404: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (request, reply) => {
      const started = await services.oidcSignIn.start(request.query.tenant, {
        ...(request.query.returnTo === undefined ? {} : { returnTo: request.query.returnTo }),
      });
      reply.setCookie(OIDC_BINDING_COOKIE, started.bindingCookie, { ...BINDING_COOKIE, maxAge: started.maxAgeSeconds });
      reply.header('cache-control', 'no-store');
      return reply.redirect(started.authorizationUrl, 302);
    },
  );

  app.get(
    '/api/v1/auth/oidc/callback',
    {
      schema: {
        tags: ['auth'],
        summary: 'Where the identity provider returns the browser; starts the session and redirects to returnTo',
        querystring: OidcCallbackQuery,
        response: { 302: Type.Null(), 400: ProblemSchema, 401: ProblemSchema },
      },
    },
    async (request, reply) => {
      const query = request.url.indexOf('?');
      const params = new URLSearchParams(query < 0 ? '' : request.url.slice(query + 1));
      reply.clearCookie(OIDC_BINDING_COOKIE, BINDING_COOKIE);
      reply.header('cache-control', 'no-store');
      const signedIn = await services.oidcSignIn.complete({
        bindingCookie: request.cookies[OIDC_BINDING_COOKIE],
        params,
        context: requestContext(request),
        userAgent: request.headers['user-agent'] ?? null,
      });
      setSessionCookie(reply, signedIn.cookie, signedIn.absoluteExpiresAt);
      return reply.redirect(signedIn.returnTo, 302);
    },
  );
};
