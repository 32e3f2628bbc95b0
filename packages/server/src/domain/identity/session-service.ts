/**
 * Portal sessions (SPEC §5): server-side records behind an opaque cookie value that carries the
 * tenant id and 256 random bits (stored as SHA-256, like API tokens). A session ends when it is
 * revoked (sign-out, sign-out everywhere, an admin, deactivation), when it was not used for the
 * tenant's inactivity timeout, or at its absolute lifetime. An IdP's "remember me" may lengthen the
 * absolute lifetime; the inactivity timeout and revocation always apply.
 *
 * CSRF: cookie-authenticated writes must send `X-CSRF-Token`, an HMAC of the session id under a
 * server secret — no extra state, and useless to another site that cannot read our responses.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { authorize, type Actor, type RequestContext } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import { constantTimeEqual, hashSecret, newSecret, tenantOfSecret } from '../secrets.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { SessionRecord, UserRecord } from './identity-stores.js';
import { grantsOfUser, isAdmin } from './principals.js';

const MINUTE = 60_000;
/** `last_seen_at` is written at most this often per session: one UPDATE a minute, not per request. */
const TOUCH_EVERY = MINUTE;

export interface StartSessionInput {
  method: SessionRecord['method'];
  /** True when the sign-in already included a second factor (or the IdP asserted one). */
  mfaSatisfied: boolean;
  /** The user has a second factor of their own: MFA is owed even where the tenant does not require it. */
  mfaRequired?: boolean;
  /** Overrides the tenant's absolute lifetime (an IdP's "remember me"); never the idle timeout. */
  absoluteLifetimeMs?: number;
  context: RequestContext;
  userAgent?: string | null;
}

export interface StartedSession {
  /** The cookie value; shown once, stored only as a hash. */
  cookie: string;
  csrfToken: string;
  session: SessionRecord;
  /** True when the user must complete MFA before the session is usable. */
  mfaPending: boolean;
}

export interface AuthenticatedSession {
  actor: Extract<Actor, { type: 'user' }>;
  session: SessionRecord;
  user: UserRecord;
  csrfToken: string;
  /** MFA is required for this user and not yet done: only MFA endpoints may be used. */
  mfaPending: boolean;
}

export const SESSION_COOKIE = 'custos_session';

export class SessionService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
    private readonly csrfKey: Buffer,
  ) {}

  csrfTokenOf(sessionId: string): string {
    return createHmac('sha256', this.csrfKey).update(sessionId).digest('base64url');
  }

  checkCsrf(sessionId: string, presented: string | undefined): void {
    if (!presented || !constantTimeEqual(presented, this.csrfTokenOf(sessionId))) {
      throw new DomainError('csrf-failed', 'Send the X-CSRF-Token header your sign-in returned with every change.');
    }
  }

  /** Starts a session for a user who just proved who they are; audited as a sign-in. */
  async start(tenantId: string, user: UserRecord, input: StartSessionInput): Promise<StartedSession> {
    if (!user.active) throw new DomainError('unauthenticated', 'This account is deactivated.');
    const settings = await this.tenants.settings(tenantId);
    const data = await this.tenants.data(tenantId);
    const grants = await grantsOfUser(data, user.id);
    const mfaNeeded = input.mfaRequired === true || (settings.identity.mfaRequiredForAdmins && isAdmin(grants));
    const now = this.clock.now();
    const { secret, hash } = newSecret('ses', tenantId);
    const session: SessionRecord = {
      id: randomUUID(),
      secretHash: hash,
      userId: user.id,
      method: input.method,
      mfaSatisfied: input.mfaSatisfied || !mfaNeeded,
      createdAt: now,
      lastSeenAt: now,
      absoluteExpiresAt: now + (input.absoluteLifetimeMs ?? settings.identity.sessionAbsoluteHours * 60 * MINUTE),
      ip: input.context.ip,
      userAgent: input.userAgent?.slice(0, 512) ?? null,
      revokedAt: null,
    };
    await data.transaction(async (trx) => {
      await trx.sessions.insert(session);
      await trx.users.update({ ...user, lastSignInAt: now });
      await recordAudit(trx, userActor(tenantId, user, session.id, [], input.context), this.clock, {
        activity: input.method === 'oidc' ? 'Sign in with SSO' : 'Sign in',
        category: 'SignIn',
        operation: 'signIn',
        targets: [{ type: 'session', id: session.id, name: user.userName }],
      });
    });
    return { cookie: secret, csrfToken: this.csrfTokenOf(session.id), session, mfaPending: !session.mfaSatisfied };
  }

  /**
   * Resolves a cookie to its session and user. Every failure is `unauthenticated` or
   * `session-expired`, never which part was wrong; an idle or over-age session is revoked here.
   */
  async authenticate(cookie: string, context: RequestContext): Promise<AuthenticatedSession> {
    const tenantId = tenantOfSecret('ses', cookie);
    if (!tenantId) throw new DomainError('unauthenticated', 'Sign in first.');
    let data;
    try {
      data = await this.tenants.data(tenantId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') throw new DomainError('unauthenticated', 'Sign in first.');
      throw error;
    }
    const session = await data.sessions.findBySecretHash(hashSecret(cookie));
    if (!session || session.revokedAt !== null) throw new DomainError('unauthenticated', 'Sign in first.');
    const now = this.clock.now();
    const settings = await this.tenants.settings(tenantId);
    const idleLimit = settings.identity.sessionIdleMinutes * MINUTE;
    if (now - session.lastSeenAt > idleLimit || now >= session.absoluteExpiresAt) {
      await data.sessions.revoke(session.id, now);
      throw new DomainError(
        'session-expired',
        now >= session.absoluteExpiresAt
          ? 'Your session reached its maximum lifetime; sign in again.'
          : `You were signed out after ${settings.identity.sessionIdleMinutes} minutes without activity; sign in again.`,
      );
    }
    const user = await data.users.get(session.userId);
    if (!user || !user.active) {
      await data.sessions.revoke(session.id, now);
      throw new DomainError('unauthenticated', 'Sign in first.');
    }
    if (now - session.lastSeenAt >= TOUCH_EVERY) await data.sessions.touch(session.id, now);
    const grants = session.mfaSatisfied ? await grantsOfUser(data, user.id) : [];
    return {
      actor: userActor(tenantId, user, session.id, grants, context),
      session,
      user,
      csrfToken: this.csrfTokenOf(session.id),
      mfaPending: !session.mfaSatisfied,
    };
  }

  /** Marks the session's MFA as done (after a TOTP code, recovery code or passkey). */
  async completeMfa(tenantId: string, sessionId: string): Promise<void> {
    await (await this.tenants.data(tenantId)).sessions.markMfaSatisfied(sessionId);
  }

  async signOut(actor: Actor, tenantId: string, sessionId: string): Promise<void> {
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      await trx.sessions.revoke(sessionId, this.clock.now());
      await recordAudit(trx, actor, this.clock, {
        activity: 'Sign out',
        category: 'SignIn',
        operation: 'update',
        targets: [{ type: 'session', id: sessionId }],
      });
    });
  }

  /** Ends every session of a user: "sign out everywhere", or an admin's revocation. */
  async revokeAll(actor: Actor, tenantId: string, userId: string): Promise<number> {
    const self = actor.type === 'user' && actor.id === userId;
    if (!self) authorizeUsersWrite(actor, tenantId);
    const data = await this.tenants.data(tenantId);
    return data.transaction(async (trx) => {
      const count = await trx.sessions.revokeAllForUser(userId, this.clock.now());
      await recordAudit(trx, actor, this.clock, {
        activity: self ? 'Sign out everywhere' : 'Revoke sessions',
        category: 'SignIn',
        operation: 'update',
        targets: [{ type: 'user', id: userId, modifiedProperties: [{ name: 'revokedSessions', oldValue: null, newValue: count }] }],
      });
      return count;
    });
  }

  async revoke(actor: Actor, tenantId: string, userId: string, sessionId: string): Promise<void> {
    const self = actor.type === 'user' && actor.id === userId;
    if (!self) authorizeUsersWrite(actor, tenantId);
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      const session = await trx.sessions.get(sessionId);
      if (!session || session.userId !== userId) throw new DomainError('not-found', `User ${userId} has no session ${sessionId}.`);
      await trx.sessions.revoke(sessionId, this.clock.now());
      await recordAudit(trx, actor, this.clock, {
        activity: 'Revoke session',
        category: 'SignIn',
        operation: 'update',
        targets: [
          { type: 'session', id: sessionId },
          { type: 'user', id: userId },
        ],
      });
    });
  }

  /** A user's sessions, newest first; the user themself or an admin with `users.read`. */
  async list(actor: Actor, tenantId: string, userId: string): Promise<SessionRecord[]> {
    const self = actor.type === 'user' && actor.id === userId;
    if (!self) authorizeUsersRead(actor, tenantId);
    const sessions = await (await this.tenants.data(tenantId)).sessions.listForUser(userId);
    const now = this.clock.now();
    return sessions.filter((s) => s.revokedAt === null && s.absoluteExpiresAt > now);
  }
}

function authorizeUsersWrite(actor: Actor, tenantId: string): void {
  authorize(actor, 'users.write', { tenantId });
}

function authorizeUsersRead(actor: Actor, tenantId: string): void {
  authorize(actor, 'users.read', { tenantId });
}

export function userActor(
  tenantId: string,
  user: UserRecord,
  sessionId: string | null,
  grants: Extract<Actor, { type: 'user' }>['grants'],
  context: RequestContext,
): Extract<Actor, { type: 'user' }> {
  return { type: 'user', id: user.id, name: user.userName, tenantId, sessionId, grants, context };
}
