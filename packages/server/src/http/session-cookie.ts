/**
 * The portal session cookie (SPEC §5): `custos_session`, HttpOnly (no script reads it), Secure (sent
 * over HTTPS only; browsers treat http://localhost as secure too), SameSite=Lax (not sent on
 * cross-site subrequests or form posts) and Path=/. It expires with the session's absolute lifetime.
 */
import type { FastifyReply } from 'fastify';
import { SESSION_COOKIE } from '../domain/identity/session-service.js';

const ATTRIBUTES = { httpOnly: true, secure: true, sameSite: 'lax', path: '/' } as const;

export function setSessionCookie(reply: FastifyReply, value: string, expiresAt: number): void {
  reply.setCookie(SESSION_COOKIE, value, { ...ATTRIBUTES, expires: new Date(expiresAt) });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, ATTRIBUTES);
}
