/**
 * Multi-factor authentication with TOTP (RFC 6238) and recovery codes (SPEC §5). Passkeys, the
 * other factor, live in passkeys.ts.
 *
 * Enrollment: `setupTotp` makes a secret (stored sealed, unconfirmed); `confirmTotp` with a first
 * code switches it on and returns ten recovery codes, shown once and stored as SHA-256 (80 random
 * bits each, so a fast hash is enough). A session still owing MFA may enroll only while the user has
 * no factor yet (an admin's first sign-in); otherwise it must verify with a factor it already has —
 * a password alone never replaces a second factor.
 *
 * Verification at sign-in (`verify`): a TOTP code (each time step once) or an unused recovery code
 * completes the session's MFA. Wrong codes count towards the account's lockout like wrong passwords.
 */
import { createHash, randomBytes } from 'node:crypto';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { throttleError, type LoginThrottle } from './login-throttle.js';
import type { MfaSecretBox } from './mfa-secret-box.js';
import type { AuthenticatedSession } from './session-service.js';
import { newTotpSecret, totpUri, verifyTotp } from './totp.js';

export type MfaMethod = 'totp' | 'recoveryCode' | 'passkey';

export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** The second factors the user can sign in with now. */
export async function mfaMethodsOf(data: TenantData, userId: string): Promise<MfaMethod[]> {
  const methods: MfaMethod[] = [];
  const totp = await data.totp.get(userId);
  if (totp?.confirmedAt != null) {
    methods.push('totp');
    if ((await data.recoveryCodes.countUnused(userId)) > 0) methods.push('recoveryCode');
  }
  if ((await data.passkeys.listForUser(userId)).length > 0) methods.push('passkey');
  return methods;
}

/** Refuses enrollment to a session that owes MFA while the user already has a factor to verify with. */
export async function assertMayEnroll(data: TenantData, auth: AuthenticatedSession): Promise<void> {
  if (auth.mfaPending && (await mfaMethodsOf(data, auth.user.id)).length > 0) {
    throw new DomainError('mfa-required', 'Verify with your existing second factor before adding another.');
  }
}

/** A code as people type it: case, spaces and dashes do not matter. */
function normalizeRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normalizeRecoveryCode(code)).digest('base64url');
}

/** 16 characters of a 32-letter alphabet (80 bits), shown as XXXX-XXXX-XXXX-XXXX. */
function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length] as string).join('');
  return chars.match(/.{4}/g)?.join('-') ?? chars;
}

export class MfaService {
  constructor(
    private readonly tenants: TenantService,
    private readonly box: MfaSecretBox,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
    private readonly issuer = 'Custos',
  ) {}

  /** The user's factors, and whether the session may only enroll (MFA owed, no factor yet). */
  async status(auth: AuthenticatedSession): Promise<{ methods: MfaMethod[]; enrollmentRequired: boolean }> {
    const methods = await mfaMethodsOf(await this.tenants.data(auth.actor.tenantId), auth.user.id);
    return { methods, enrollmentRequired: auth.mfaPending && methods.length === 0 };
  }

  /** A new, unconfirmed TOTP secret for the signed-in user; replaces an earlier unconfirmed one. */
  async setupTotp(auth: AuthenticatedSession): Promise<{ secret: string; otpauthUri: string }> {
    const tenantId = auth.actor.tenantId;
    const data = await this.tenants.data(tenantId);
    await assertMayEnroll(data, auth);
    const existing = await data.totp.get(auth.user.id);
    if (existing?.confirmedAt != null)
      throw new DomainError('conflict', 'An authenticator app is already set up; remove it before adding another.');
    const secret = newTotpSecret();
    await data.totp.put({
      userId: auth.user.id,
      secretSealed: this.box.seal(tenantId, auth.user.id, secret),
      confirmedAt: null,
      lastUsedStep: null,
      createdAt: this.clock.now(),
    });
    return { secret, otpauthUri: totpUri(secret, this.issuer, auth.user.userName) };
  }

  /** Switches TOTP on with a first code and returns new recovery codes (shown this once). */
  async confirmTotp(auth: AuthenticatedSession, code: string): Promise<{ recoveryCodes: string[] }> {
    const tenantId = auth.actor.tenantId;
    const data = await this.tenants.data(tenantId);
    await assertMayEnroll(data, auth);
    const pending = await data.totp.get(auth.user.id);
    if (!pending || pending.confirmedAt !== null)
      throw new DomainError('conflict', 'Start the authenticator setup first (POST /api/v1/auth/mfa/totp/setup).');
    const secret = this.box.open(tenantId, auth.user.id, pending.secretSealed);
    const step = await verifyTotp(secret, code, this.clock.now(), null);
    if (step === undefined)
      throw new DomainError('mfa-failed', 'The code does not match; check the time on the device and try the current code.');
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await data.transaction(async (trx) => {
      await trx.totp.confirm(auth.user.id, this.clock.now(), step);
      await trx.recoveryCodes.replace(auth.user.id, recoveryCodes.map(hashRecoveryCode));
      // Proving the new app is a second factor: an enrolling session is complete now.
      if (auth.mfaPending) await trx.sessions.markMfaSatisfied(auth.session.id);
      await recordAudit(trx, auth.actor, this.clock, {
        activity: 'Register authenticator app',
        category: 'UserManagement',
        operation: 'update',
        targets: [
          {
            type: 'user',
            id: auth.user.id,
            name: auth.user.userName,
            modifiedProperties: [{ name: 'mfa.totp', oldValue: false, newValue: true }],
          },
        ],
      });
    });
    if (auth.mfaPending) await this.throttle.recordSuccess(data, auth.user.userName);
    return { recoveryCodes };
  }

  /** Turns TOTP off (and its recovery codes); only from a session that completed MFA. */
  async removeTotp(auth: AuthenticatedSession): Promise<void> {
    const data = await this.tenants.data(auth.actor.tenantId);
    await data.transaction(async (trx) => {
      if (!(await trx.totp.delete(auth.user.id))) throw new DomainError('not-found', 'No authenticator app is set up.');
      await trx.recoveryCodes.deleteForUser(auth.user.id);
      await recordAudit(trx, auth.actor, this.clock, {
        activity: 'Remove authenticator app',
        category: 'UserManagement',
        operation: 'update',
        targets: [
          {
            type: 'user',
            id: auth.user.id,
            name: auth.user.userName,
            modifiedProperties: [{ name: 'mfa.totp', oldValue: true, newValue: false }],
          },
        ],
      });
    });
  }

  /** Completes the session's MFA with a TOTP code or a recovery code. */
  async verify(auth: AuthenticatedSession, proof: { code?: string; recoveryCode?: string }): Promise<MfaMethod> {
    if (!auth.mfaPending) throw new DomainError('conflict', 'This session has already completed multi-factor authentication.');
    const tenantId = auth.actor.tenantId;
    const data = await this.tenants.data(tenantId);
    const context = auth.actor.context ?? { ip: null, correlationId: null };
    const refusal = await this.throttle.refusal(data, auth.user.userName, context.ip);
    if (refusal) throw throttleError(refusal);
    const method: MfaMethod = proof.code !== undefined ? 'totp' : 'recoveryCode';
    const accepted =
      method === 'totp'
        ? await this.acceptTotp(data, auth, proof.code ?? '')
        : await this.acceptRecoveryCode(data, auth, proof.recoveryCode ?? '');
    if (!accepted) {
      await data.transaction(async (trx) => {
        await this.throttle.recordFailure(trx, auth.user.userName, context.ip);
        await recordAudit(trx, auth.actor, this.clock, {
          activity: 'Verify second factor',
          category: 'SignIn',
          operation: 'signIn',
          result: 'failure',
          targets: [
            {
              type: 'session',
              id: auth.session.id,
              name: auth.user.userName,
              modifiedProperties: [{ name: 'failureReason', oldValue: null, newValue: `invalid-${method}` }],
            },
          ],
        });
      });
      throw new DomainError(
        'mfa-failed',
        method === 'totp' ? 'The code is not valid (or was already used).' : 'The recovery code is not valid (or was already used).',
      );
    }
    await completeSessionMfa(data, auth, method, this.clock);
    await this.throttle.recordSuccess(data, auth.user.userName);
    return method;
  }

  private async acceptTotp(data: TenantData, auth: AuthenticatedSession, code: string): Promise<boolean> {
    const totp = await data.totp.get(auth.user.id);
    if (!totp || totp.confirmedAt === null) return false;
    const secret = this.box.open(auth.actor.tenantId, auth.user.id, totp.secretSealed);
    const step = await verifyTotp(secret, code, this.clock.now(), totp.lastUsedStep);
    return step !== undefined && (await data.totp.useStep(auth.user.id, step));
  }

  private async acceptRecoveryCode(data: TenantData, auth: AuthenticatedSession, code: string): Promise<boolean> {
    if (code.length === 0 || code.length > 64) return false;
    return data.recoveryCodes.use(auth.user.id, hashRecoveryCode(code), this.clock.now());
  }
}

/** Marks the session's MFA as done and audits which factor did it. */
export async function completeSessionMfa(data: TenantData, auth: AuthenticatedSession, method: MfaMethod, clock: Clock): Promise<void> {
  await data.transaction(async (trx) => {
    await trx.sessions.markMfaSatisfied(auth.session.id);
    await recordAudit(trx, auth.actor, clock, {
      activity: 'Verify second factor',
      category: 'SignIn',
      operation: 'signIn',
      targets: [
        {
          type: 'session',
          id: auth.session.id,
          name: auth.user.userName,
          modifiedProperties: [{ name: 'method', oldValue: null, newValue: method }],
        },
      ],
    });
  });
}
