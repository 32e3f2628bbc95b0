/**
 * Signing in to the portals (SPEC §5), outside the admin scope: password sign-in, the current
 * session, sign-out, the user's own sessions and second factors, and password reset by emailed link.
 *
 * These routes read the session cookie themselves because some of them serve a session that still
 * owes MFA (verification, and enrollment for a user with no factor yet), which the admin scope
 * refuses. Every cookie-authenticated write checks the session's CSRF token (`X-CSRF-Token`) first.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  LoginRequestSchema,
  LoginResponseSchema,
  MfaVerifiedSchema,
  MfaVerifySchema,
  OwnSessionParams,
  PasskeyAuthenticationSchema,
  PasskeyIdParams,
  PasskeyListSchema,
  PasskeyRegistrationSchema,
  PasskeySchema,
  PasswordResetAcceptedSchema,
  PasswordResetCompleteSchema,
  PasswordResetRequestSchema,
  ProblemSchema,
  RecoveryCodesSchema,
  RevokedSessionsSchema,
  SessionInfoSchema,
  TotpCodeSchema,
  TotpSetupSchema,
  UserSessionListSchema,
  WebAuthnOptionsSchema,
} from '@custos/shared';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { permissionsOf } from '../../domain/access/authorize.js';
import { DomainError } from '../../domain/domain-error.js';
import type { PasskeyRecord } from '../../domain/identity/sign-in-stores.js';
import { SESSION_COOKIE, type AuthenticatedSession } from '../../domain/identity/session-service.js';
import { requestContext } from '../plugins/authenticate.js';
import { clearSessionCookie, sessionOfCookie, setSessionCookie } from '../session-cookie.js';
import type { AppServices } from '../services.js';
import { toSessionDto, toSignedInUser } from './session-dto.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 429: ProblemSchema };
const tags = ['sign-in'];
const cookieAuth = [{ session: [] }];

const iso = (ms: number) => new Date(ms).toISOString();

function toPasskeyDto(p: PasskeyRecord) {
  return {
    id: p.id,
    name: p.name,
    transports: p.transports,
    createdAt: iso(p.createdAt),
    lastUsedAt: p.lastUsedAt === null ? null : iso(p.lastUsedAt),
  };
}

export const authRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  /**
   * The request's session. `mfa: 'pending-ok'` lets a session that still owes MFA through (the
   * service then decides what it may do); writes need the CSRF token.
   */
  const sessionOf = async (
    request: FastifyRequest,
    reply: FastifyReply,
    mfa: 'complete' | 'pending-ok' = 'complete',
  ): Promise<AuthenticatedSession> => {
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie === undefined) throw new DomainError('unauthenticated', 'Sign in first.');
    const auth = await sessionOfCookie(services.sessions, cookie, requestContext(request), reply);
    if (!SAFE_METHODS.has(request.method)) {
      const csrf = request.headers['x-csrf-token'];
      services.sessions.checkCsrf(auth.session.id, typeof csrf === 'string' ? csrf : undefined);
    }
    if (auth.mfaPending && mfa === 'complete') throw new DomainError('mfa-required', 'Complete multi-factor authentication to continue.');
    return auth;
  };

  app.post(
    '/api/v1/auth/login',
    {
      schema: {
        tags,
        summary: 'Sign in with user name and password; sets the session cookie',
        description:
          'Every failure (unknown user, wrong password, deactivated or federated user) is the same 401 `sign-in-failed`. Too many failures lock the account name (429 `account-locked`) or the address (429 `rate-limited`), with Retry-After.',
        security: [],
        body: LoginRequestSchema,
        response: { 200: LoginResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const userAgent = request.headers['user-agent'] ?? null;
      const result = await services.signIn.signIn(request.body, requestContext(request), userAgent);
      setSessionCookie(reply, result.cookie, result.session.absoluteExpiresAt);
      return {
        csrfToken: result.csrfToken,
        mfaRequired: result.mfaPending,
        mfaMethods: result.mfaMethods,
        mfaEnrollmentRequired: result.mfaEnrollmentRequired,
        user: toSignedInUser(result.user),
        expiresAt: iso(result.session.absoluteExpiresAt),
      };
    },
  );

  app.get(
    '/api/v1/auth/session',
    {
      schema: {
        tags,
        summary: 'The current session: user, permissions, CSRF token, MFA state, timeouts',
        security: cookieAuth,
        response: { 200: SessionInfoSchema, ...errors },
      },
    },
    async (request, reply) => {
      const auth = await sessionOf(request, reply, 'pending-ok');
      const tenantId = auth.actor.tenantId;
      const settings = await services.tenants.settings(tenantId);
      const mfa = await services.mfa.status(auth);
      return {
        sessionId: auth.session.id,
        tenantId,
        tenantName: settings.name,
        user: toSignedInUser(auth.user),
        permissions: [...permissionsOf(auth.actor, tenantId)].sort(),
        csrfToken: auth.csrfToken,
        mfaPending: auth.mfaPending,
        mfaMethods: mfa.methods,
        mfaEnrollmentRequired: mfa.enrollmentRequired,
        idleTimeoutMinutes: settings.identity.sessionIdleMinutes,
        idleExpiresAt: iso(auth.session.lastSeenAt + settings.identity.sessionIdleMinutes * 60_000),
        expiresAt: iso(auth.session.absoluteExpiresAt),
      };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { schema: { tags, summary: 'Sign out of this session', security: cookieAuth, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      const auth = await sessionOf(request, reply, 'pending-ok');
      await services.sessions.signOut(auth.actor, auth.actor.tenantId, auth.session.id);
      clearSessionCookie(reply);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/logout-everywhere',
    {
      schema: {
        tags,
        summary: 'Sign out of every session of the signed-in user, this one included',
        security: cookieAuth,
        response: { 200: RevokedSessionsSchema, ...errors },
      },
    },
    async (request, reply) => {
      const auth = await sessionOf(request, reply);
      const revoked = await services.sessions.revokeAll(auth.actor, auth.actor.tenantId, auth.user.id);
      clearSessionCookie(reply);
      return { revoked };
    },
  );

  app.get(
    '/api/v1/me/sessions',
    {
      schema: {
        tags,
        summary: "The signed-in user's open sessions, newest first",
        security: cookieAuth,
        response: { 200: UserSessionListSchema, ...errors },
      },
    },
    async (request, reply) => {
      const auth = await sessionOf(request, reply);
      const sessions = await services.sessions.list(auth.actor, auth.actor.tenantId, auth.user.id);
      return { items: sessions.map((s) => toSessionDto(s, auth.session.id)) };
    },
  );

  app.delete(
    '/api/v1/me/sessions/:sessionId',
    {
      schema: {
        tags,
        summary: 'End one of your own sessions',
        security: cookieAuth,
        params: OwnSessionParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const auth = await sessionOf(request, reply);
      await services.sessions.revoke(auth.actor, auth.actor.tenantId, auth.user.id, request.params.sessionId);
      if (request.params.sessionId === auth.session.id) clearSessionCookie(reply);
      return reply.code(204).send(null);
    },
  );

  // ---- TOTP and recovery codes ----

  app.post(
    '/api/v1/auth/mfa/totp/setup',
    {
      schema: {
        tags,
        summary: 'Start setting up an authenticator app: a new secret and its otpauth:// URI',
        security: cookieAuth,
        response: { 200: TotpSetupSchema, ...errors },
      },
    },
    async (request, reply) => services.mfa.setupTotp(await sessionOf(request, reply, 'pending-ok')),
  );

  app.post(
    '/api/v1/auth/mfa/totp/confirm',
    {
      schema: {
        tags,
        summary: 'Confirm the authenticator app with its current code; returns ten recovery codes, shown once',
        security: cookieAuth,
        body: TotpCodeSchema,
        response: { 200: RecoveryCodesSchema, ...errors },
      },
    },
    async (request, reply) => services.mfa.confirmTotp(await sessionOf(request, reply, 'pending-ok'), request.body.code),
  );

  app.delete(
    '/api/v1/auth/mfa/totp',
    {
      schema: {
        tags,
        summary: 'Remove the authenticator app and its recovery codes',
        security: cookieAuth,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.mfa.removeTotp(await sessionOf(request, reply));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/mfa/verify',
    {
      schema: {
        tags,
        summary: 'Complete sign-in with an authenticator code or a recovery code',
        description: 'Each code works once. Wrong codes count towards the account lockout.',
        security: cookieAuth,
        body: MfaVerifySchema,
        response: { 200: MfaVerifiedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const auth = await sessionOf(request, reply, 'pending-ok');
      const body = request.body;
      const method = await services.mfa.verify(auth, 'code' in body ? { code: body.code } : { recoveryCode: body.recoveryCode });
      return { mfaPending: false, method };
    },
  );

  // ---- passkeys ----

  app.post(
    '/api/v1/auth/passkeys/registration-options',
    {
      schema: {
        tags,
        summary: 'WebAuthn options for registering a passkey (navigator.credentials.create)',
        security: cookieAuth,
        response: { 200: WebAuthnOptionsSchema, ...errors },
      },
    },
    async (request, reply) => services.passkeys.registrationOptions(await sessionOf(request, reply, 'pending-ok')),
  );

  app.post(
    '/api/v1/auth/passkeys/registration',
    {
      schema: {
        tags,
        summary: 'Register a passkey with the authenticator response to the registration options',
        security: cookieAuth,
        body: PasskeyRegistrationSchema,
        response: { 201: PasskeySchema, ...errors },
      },
    },
    async (request, reply) => {
      const auth = await sessionOf(request, reply, 'pending-ok');
      const passkey = await services.passkeys.register(auth, {
        ...(request.body.name === undefined ? {} : { name: request.body.name }),
        response: request.body.response as unknown as RegistrationResponseJSON,
      });
      return reply.code(201).send(toPasskeyDto(passkey));
    },
  );

  app.post(
    '/api/v1/auth/passkeys/authentication-options',
    {
      schema: {
        tags,
        summary: 'WebAuthn options for completing sign-in with a passkey (navigator.credentials.get)',
        security: cookieAuth,
        response: { 200: WebAuthnOptionsSchema, ...errors },
      },
    },
    async (request, reply) => services.passkeys.authenticationOptions(await sessionOf(request, reply, 'pending-ok')),
  );

  app.post(
    '/api/v1/auth/passkeys/authentication',
    {
      schema: {
        tags,
        summary: 'Complete sign-in with the passkey assertion',
        security: cookieAuth,
        body: PasskeyAuthenticationSchema,
        response: { 200: MfaVerifiedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const auth = await sessionOf(request, reply, 'pending-ok');
      await services.passkeys.authenticate(auth, request.body.response as unknown as AuthenticationResponseJSON);
      return { mfaPending: false, method: 'passkey' as const };
    },
  );

  app.get(
    '/api/v1/me/passkeys',
    { schema: { tags, summary: 'Your registered passkeys', security: cookieAuth, response: { 200: PasskeyListSchema, ...errors } } },
    async (request, reply) => ({ items: (await services.passkeys.list(await sessionOf(request, reply))).map(toPasskeyDto) }),
  );

  app.delete(
    '/api/v1/me/passkeys/:passkeyId',
    {
      schema: {
        tags,
        summary: 'Remove one of your passkeys',
        security: cookieAuth,
        params: PasskeyIdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.passkeys.remove(await sessionOf(request, reply), request.params.passkeyId);
      return reply.code(204).send(null);
    },
  );

  // ---- password reset ----

  app.post(
    '/api/v1/auth/password-reset/request',
    {
      schema: {
        tags,
        summary: 'Email a one-time password reset link (the answer is the same whether or not the user exists)',
        security: [],
        body: PasswordResetRequestSchema,
        response: { 202: PasswordResetAcceptedSchema, ...errors },
      },
    },
    async (request, reply) => {
      await services.passwordResets.request(request.body.tenantId, request.body.userName, requestContext(request));
      return reply.code(202).send({ status: 'accepted' as const });
    },
  );

  app.post(
    '/api/v1/auth/password-reset/complete',
    {
      schema: {
        tags,
        summary: "Set a new password with the emailed link's token; ends every session of the user",
        security: [],
        body: PasswordResetCompleteSchema,
        response: { 204: Type.Null(), 422: ProblemSchema, ...errors },
      },
    },
    async (request, reply) => {
      await services.passwordResets.complete(request.body.token, request.body.password, requestContext(request));
      return reply.code(204).send(null);
    },
  );
};
