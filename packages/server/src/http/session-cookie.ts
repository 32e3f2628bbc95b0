/**
 * The portal session cookie (SPEC §5): `custos_session`, HttpOnly (no script reads it), Secure (sent
 * over HTTPS only; browsers treat http://localhost as secure too), SameSite=Lax (not sent on
 * cross-site subrequests or form posts) and Path=/. It expires with the session's absolute lifetime.
 */
import type { FastifyReply } from 'fastify';
import { DomainError } from '../domain/domain-error.js';
import type { RequestContext } from '../domain/access/authorize.js';
import { SESSION_COOKIE, type AuthenticatedSession, type SessionService } from '../domain/identity/session-service.js';

const ATTRIBUTES = { httpOnly: true, secure: true, sameSite: 'lax', path: '/' } as const;

export function setSessionCookie(reply: FastifyReply, value: string, expiresAt: number): void {
  reply.setCookie(SESSION_COOKIE, value, { ...ATTRIBUTES, expires: new Date(expiresAt) });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, ATTRIBUTES);
}

/**
 * The session a request's cookie names. A cookie that names no live session (expired, revoked,
 * unknown) is cleared along with the refusal, so the browser stops sending it.
 */
export async function sessionOfCookie(
  sessions: SessionService,
  cookie: string,
  context: RequestContext,
  reply: FastifyReply,
): Promise<AuthenticatedSession> {
  try {
    return await sessions.authenticate(cookie, context);
  } catch (error) {
    if (error instanceof DomainError && (error.code === 'session-expired' || error.code === 'unauthenticated')) clearSessionCookie(reply);
    throw error;
  }
}
