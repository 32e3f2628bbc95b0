/**
 * Operator accounts (SPEC §5 operator plane): the people who run a Custos deployment. They are not
 * tenant users — they live in the global directory, see no tenant data of their own, and always
 * sign in with a password AND a TOTP code (there is no way to switch MFA off for an operator).
 *
 * Sessions work like portal sessions: an opaque cookie (`custos_operator_session`) whose SHA-256
 * is stored, an inactivity timeout and an absolute lifetime, and an HMAC CSRF token for writes.
 * Failed sign-ins lock the account for a while after `MAX_FAILURES`, with the same generic answer
 * whether the email, the password or the code was wrong.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { RequestContext } from '../access/authorize.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { MfaSecretBox } from '../identity/mfa-secret-box.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../identity/passwords.js';
import { newTotpSecret, totpUri, verifyTotp } from '../identity/totp.js';
import { constantTimeEqual, hashSecret } from '../secrets.js';
import type { OperatorRecord, OperatorSessionRecord, OperatorStore } from './operator-store.js';

export const OPERATOR_SESSION_COOKIE = 'custos_operator_session';
const MINUTE = 60_000;
export const OPERATOR_IDLE_MS = 30 * MINUTE;
export const OPERATOR_ABSOLUTE_MS = 12 * 60 * MINUTE;
const TOUCH_EVERY = MINUTE;
export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 15 * MINUTE;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SECRET = /^custos_opr_[A-Za-z0-9_-]{43}$/;

export interface CreatedOperator {
  operator: OperatorRecord;
  /** Shown once; to be changed (a later issue adds password change for operators). */
  initialPassword: string;
  totpSecret: string;
  otpauthUri: string;
}

export interface OperatorSignIn {
  cookie: string;
  csrfToken: string;
  session: OperatorSessionRecord;
  operator: OperatorRecord;
}

export interface AuthenticatedOperator {
  operator: OperatorRecord;
  session: OperatorSessionRecord;
}

/** The AAD binding a sealed TOTP secret to its operator (see MfaSecretBox). */
const SEAL_SCOPE = 'operators';

export class OperatorService {
  constructor(
    private readonly store: OperatorStore,
    private readonly box: MfaSecretBox,
    private readonly csrfKey: Buffer,
    private readonly clock: Clock,
  ) {}

  /** `custos operator create`: a new operator with a generated password and TOTP secret (shown once). */
  async create(email: string): Promise<CreatedOperator> {
    const normalized = email.trim().toLowerCase();
    if (!EMAIL.test(normalized) || normalized.length > 320)
      throw new DomainError('validation-failed', `"${email}" is not an email address.`);
    if (await this.store.findByEmail(normalized))
      throw new DomainError('conflict', `An operator with the email ${normalized} already exists.`);
    const id = randomUUID();
    const initialPassword = randomBytes(18).toString('base64url');
    const totpSecret = newTotpSecret();
    const operator: OperatorRecord = {
      id,
      email: normalized,
      passwordHash: await hashPassword(initialPassword),
      totpSecretSealed: this.box.seal(SEAL_SCOPE, id, totpSecret),
      totpLastStep: null,
      createdAt: this.clock.now(),
      disabledAt: null,
      lastSignInAt: null,
      failedSignIns: 0,
      lockedUntil: null,
    };
    await this.store.insert(operator);
    return { operator, initialPassword, totpSecret, otpauthUri: totpUri(totpSecret, 'Custos operators', normalized) };
  }

  list(): Promise<OperatorRecord[]> {
    return this.store.list();
  }

  get(id: string): Promise<OperatorRecord | undefined> {
    return this.store.get(id);
  }

  /** Disables the operator and ends every session of theirs; false when already disabled or unknown. */
  async disable(id: string): Promise<boolean> {
    const now = this.clock.now();
    const disabled = await this.store.disable(id, now);
    await this.store.revokeSessionsOf(id, now);
    return disabled;
  }

  /** Password and TOTP code, always both. Every failure is the same `sign-in-failed`. */
  async signIn(email: string, password: string, totpCode: string, context: RequestContext): Promise<OperatorSignIn> {
    const now = this.clock.now();
    const operator = await this.store.findByEmail(email.trim().toLowerCase());
    if (!operator) {
      await verifyPassword(await dummyPasswordHash(), password);
      throw signInFailed();
    }
    if (operator.lockedUntil !== null && operator.lockedUntil > now) {
      const retryAfterSeconds = Math.ceil((operator.lockedUntil - now) / 1000);
      throw new DomainError('account-locked', 'Too many failed sign-ins; try again later.', {}, retryAfterSeconds);
    }
    const passwordOk = await verifyPassword(operator.passwordHash, password);
    const step = passwordOk
      ? await verifyTotp(this.box.open(SEAL_SCOPE, operator.id, operator.totpSecretSealed), totpCode, now, operator.totpLastStep)
      : undefined;
    if (!passwordOk || step === undefined || operator.disabledAt !== null) {
      const failures = operator.failedSignIns + 1;
      await this.store.recordSignIn(operator.id, {
        failedSignIns: failures >= MAX_FAILURES ? 0 : failures,
        lockedUntil: failures >= MAX_FAILURES ? now + LOCKOUT_MS : operator.lockedUntil,
      });
      throw signInFailed();
    }
    await this.store.recordSignIn(operator.id, { failedSignIns: 0, lockedUntil: null, totpLastStep: step, lastSignInAt: now });
    const secret = `custos_opr_${randomBytes(32).toString('base64url')}`;
    const session: OperatorSessionRecord = {
      id: randomUUID(),
      operatorId: operator.id,
      secretHash: hashSecret(secret),
      createdAt: now,
      lastSeenAt: now,
      absoluteExpiresAt: now + OPERATOR_ABSOLUTE_MS,
      revokedAt: null,
      ip: context.ip,
    };
    await this.store.insertSession(session);
    return { cookie: secret, csrfToken: this.csrfTokenOf(session.id), session, operator: { ...operator, lastSignInAt: now } };
  }

  /** Resolves an operator cookie; an idle, over-age or revoked session, or a disabled operator, is refused. */
  async authenticate(cookie: string): Promise<AuthenticatedOperator> {
    if (!SECRET.test(cookie)) throw new DomainError('unauthenticated', 'Sign in as an operator first.');
    const session = await this.store.findSessionBySecretHash(hashSecret(cookie));
    if (!session || session.revokedAt !== null) throw new DomainError('unauthenticated', 'Sign in as an operator first.');
    const now = this.clock.now();
    if (now - session.lastSeenAt > OPERATOR_IDLE_MS || now >= session.absoluteExpiresAt) {
      await this.store.revokeSession(session.id, now);
      throw new DomainError('session-expired', 'Your operator session ended; sign in again.');
    }
    const operator = await this.store.get(session.operatorId);
    if (!operator || operator.disabledAt !== null) {
      await this.store.revokeSession(session.id, now);
      throw new DomainError('unauthenticated', 'Sign in as an operator first.');
    }
    if (now - session.lastSeenAt >= TOUCH_EVERY) await this.store.touchSession(session.id, now);
    return { operator, session };
  }

  async signOut(sessionId: string): Promise<void> {
    await this.store.revokeSession(sessionId, this.clock.now());
  }

  csrfTokenOf(sessionId: string): string {
    return createHmac('sha256', this.csrfKey).update(`operator:${sessionId}`).digest('base64url');
  }

  checkCsrf(sessionId: string, presented: string | undefined): void {
    if (!presented || !constantTimeEqual(presented, this.csrfTokenOf(sessionId))) {
      throw new DomainError('csrf-failed', 'Send the X-CSRF-Token header your operator sign-in returned with every change.');
    }
  }
}

function signInFailed(): DomainError {
  return new DomainError('sign-in-failed', 'The email, password or code is wrong.');
}
