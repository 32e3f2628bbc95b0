/**
 * Password sign-in for the portals (SPEC §5). Every way a sign-in can fail — unknown user, wrong
 * password, deactivated user, a federated user without a password, unknown tenant — answers the
 * same `sign-in-failed` problem after the same argon2id work (`dummyPasswordHash` stands in for a
 * missing hash), so neither the body nor the time tells them apart. The reason is kept only in the
 * tenant's audit log. Throttling and lockout: login-throttle.ts.
 */
import type { Actor, RequestContext } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { UserRecord } from './identity-stores.js';
import { throttleError, type LoginThrottle } from './login-throttle.js';
import { mfaMethodsOf, type MfaMethod } from './mfa-service.js';
import { dummyPasswordHash, MAX_PASSWORD_LENGTH, verifyPassword } from './passwords.js';
import type { SessionService, StartedSession } from './session-service.js';

export interface SignInInput {
  tenantId: string;
  userName: string;
  password: string;
}

export interface SignInResult extends StartedSession {
  user: UserRecord;
  /** The factors the user can complete MFA with (empty when none is set up). */
  mfaMethods: MfaMethod[];
  /** MFA is required (an admin role) but the user has no factor yet: only enrollment is open. */
  mfaEnrollmentRequired: boolean;
}

type FailureReason = 'unknown-user' | 'wrong-password' | 'deactivated' | 'no-password' | 'account-locked' | 'rate-limited';

const FAILED = 'The user name or password is not correct.';

export class SignInService {
  constructor(
    private readonly tenants: TenantService,
    private readonly sessions: SessionService,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
  ) {}

  async signIn(input: SignInInput, context: RequestContext, userAgent: string | null): Promise<SignInResult> {
    const userName = input.userName.trim();
    let data: TenantData;
    try {
      data = await this.tenants.data(input.tenantId);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'tenant-not-found')) throw error;
      await verifyPassword(await dummyPasswordHash(), input.password);
      throw new DomainError('sign-in-failed', FAILED);
    }

    const refusal = await this.throttle.refusal(data, userName, context.ip);
    if (refusal) {
      const user = await data.users.findByUserName(userName);
      await this.audit(data, input.tenantId, user, userName, context, refusal.reason);
      throw throttleError(refusal);
    }

    const user = userName.length > 0 ? await data.users.findByUserName(userName) : undefined;
    const tooLong = input.password.length > MAX_PASSWORD_LENGTH;
    const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), tooLong ? '' : input.password);
    const reason: FailureReason | undefined = !user
      ? 'unknown-user'
      : user.passwordHash === null
        ? 'no-password'
        : !passwordOk || tooLong
          ? 'wrong-password'
          : !user.active
            ? 'deactivated'
            : undefined;
    if (reason !== undefined || !user) {
      await data.transaction(async (trx) => {
        await this.throttle.recordFailure(trx, userName, context.ip);
        await this.audit(trx, input.tenantId, user, userName, context, reason ?? 'unknown-user');
      });
      throw new DomainError('sign-in-failed', FAILED);
    }

    const mfaMethods = await mfaMethodsOf(data, user.id);
    const started = await this.sessions.start(input.tenantId, user, {
      method: 'password',
      mfaSatisfied: false,
      mfaRequired: mfaMethods.length > 0,
      context,
      userAgent,
    });
    // The failure count is forgiven only once the whole sign-in succeeded: a correct password in
    // between must not reset the count of wrong second factors (unlimited code guessing otherwise).
    if (!started.mfaPending) await this.throttle.recordSuccess(data, userName);
    return { ...started, user, mfaMethods, mfaEnrollmentRequired: started.mfaPending && mfaMethods.length === 0 };
  }

  private async audit(
    data: TenantData,
    tenantId: string,
    user: UserRecord | undefined,
    userName: string,
    context: RequestContext,
    reason: FailureReason,
  ): Promise<void> {
    // The attempt's actor is whoever claimed the name; an unknown name is kept as typed (shortened).
    const name = (user?.userName ?? userName).slice(0, 256);
    const actor: Actor = { type: 'user', id: user?.id ?? 'unknown', name, tenantId, sessionId: null, grants: [], context };
    await recordAudit(data, actor, this.clock, {
      activity: 'Sign in',
      category: 'SignIn',
      operation: 'signIn',
      result: 'failure',
      targets: [
        {
          type: 'user',
          id: user?.id ?? 'unknown',
          name,
          modifiedProperties: [{ name: 'failureReason', oldValue: null, newValue: reason }],
        },
      ],
    });
  }
}
