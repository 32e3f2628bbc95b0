/**
 * Authentication for the admin API, installed on the admin scope only: routes registered in that
 * scope see `request.actor`, and a request without a valid credential never reaches them.
 *
 * Two credentials: an API token (`Authorization: Bearer …`, for automation) or a portal session
 * cookie (for the web portals). A cookie-authenticated write must also carry the session's CSRF
 * token, and a session whose user still owes MFA may use nothing here.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tenantOf, type Actor, type RequestContext } from '../../domain/access/authorize.js';
import { DomainError } from '../../domain/domain-error.js';
import { SESSION_COOKIE, type SessionService } from '../../domain/identity/session-service.js';
import { sessionOfCookie } from '../session-cookie.js';
import type { ApiTokenService } from '../../domain/tokens/api-token-service.js';
import type { OperatorTenantAuthentication } from './operator-authentication.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The tenant the authenticated actor belongs to; the admin API always works inside it. */
export function actorTenant(request: FastifyRequest): string {
  const tenantId = tenantOf(request.actor);
  if (tenantId === null) throw new DomainError('forbidden', 'This endpoint needs a tenant-bound credential.');
  return tenantId;
}

/** Where the request came from, for the audit log: the client address and a correlation id. */
export function requestContext(request: FastifyRequest): RequestContext {
  const header = request.headers['x-correlation-id'];
  const correlationId = typeof header === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : request.id || randomUUID();
  return { ip: request.ip || null, correlationId };
}

export function installAdminAuthentication(
  scope: FastifyInstance,
  tokens: ApiTokenService,
  sessions: SessionService,
  operatorInTenant?: OperatorTenantAuthentication,
): void {
  scope.decorateRequest('actor', null as unknown as { getter(): Actor });
  scope.addHook('onRequest', async (request, reply) => {
    const context = requestContext(request);
    // A deployment operator under an approved lockbox request (operator cookie + X-Custos-Tenant).
    const operator = await operatorInTenant?.(request, context);
    if (operator) {
      request.actor = operator;
      return;
    }
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(header);
      if (!match?.[1]) throw new DomainError('unauthenticated', 'Send an API token as "Authorization: Bearer <token>".');
      request.actor = { ...(await tokens.authenticate(match[1])), context };
      return;
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie === undefined) {
      throw new DomainError('unauthenticated', 'Sign in, or send an API token as "Authorization: Bearer <token>".');
    }
    const session = await sessionOfCookie(sessions, cookie, context, reply);
    if (session.mfaPending) throw new DomainError('mfa-required', 'Complete multi-factor authentication to continue.');
    if (!SAFE_METHODS.has(request.method)) {
      const csrf = request.headers['x-csrf-token'];
      sessions.checkCsrf(session.session.id, typeof csrf === 'string' ? csrf : undefined);
    }
    request.actor = session.actor;
  });
}
