/**
 * Login protection (SPEC §5): failed sign-ins are counted per account name and per source address
 * in the tenant's region store, so every process of the region counts together.
 *
 * - An account name with `accountFailures` failures inside `windowMs` is locked for `lockoutMs`.
 *   The key is the name as typed, whether or not such a user exists: an unknown name locks exactly
 *   like a real one, so the lockout reveals nothing about which accounts exist.
 * - A source address with `addressFailures` failures inside `windowMs` is refused until its window
 *   ends (a password spray across many names from one place).
 */
import { DomainError } from '../domain-error.js';
import type { Clock } from '../clock.js';
import type { TenantData } from '../tenant-data.js';

export interface LoginThrottlePolicy {
  accountFailures: number;
  addressFailures: number;
  windowMs: number;
  lockoutMs: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = {
  accountFailures: 5,
  addressFailures: 50,
  windowMs: 15 * 60_000,
  lockoutMs: 15 * 60_000,
};

export interface ThrottleRefusal {
  reason: 'account-locked' | 'rate-limited';
  retryAfterSeconds: number;
}

/** The throttle key of a user name as typed (also cleared by a completed password reset). */
export const accountKey = (userName: string) => `account:${userName.trim().toLowerCase().slice(0, 256)}`;
const addressKey = (ip: string | null) => `ip:${ip ?? 'unknown'}`;

export class LoginThrottle {
  constructor(
    private readonly clock: Clock,
    private readonly policy: LoginThrottlePolicy = DEFAULT_LOGIN_THROTTLE,
  ) {}

  /** Why a sign-in attempt must be refused before its password is even checked; undefined if it may go on. */
  async refusal(data: TenantData, userName: string, ip: string | null): Promise<ThrottleRefusal | undefined> {
    const now = this.clock.now();
    const address = await data.signInThrottles.get(addressKey(ip));
    if (address && address.failures >= this.policy.addressFailures && address.windowStartedAt > now - this.policy.windowMs) {
      return { reason: 'rate-limited', retryAfterSeconds: seconds(address.windowStartedAt + this.policy.windowMs - now) };
    }
    const account = await data.signInThrottles.get(accountKey(userName));
    if (account?.lockedUntil != null && account.lockedUntil > now) {
      return { reason: 'account-locked', retryAfterSeconds: seconds(account.lockedUntil - now) };
    }
    return undefined;
  }

  /** Counts a failure for the name and the address; true when it locked the account. */
  async recordFailure(data: TenantData, userName: string, ip: string | null): Promise<boolean> {
    const now = this.clock.now();
    const since = now - this.policy.windowMs;
    await data.signInThrottles.recordFailure(addressKey(ip), now, since);
    const account = await data.signInThrottles.recordFailure(accountKey(userName), now, since);
    if (account.failures < this.policy.accountFailures) return false;
    await data.signInThrottles.lock(accountKey(userName), now + this.policy.lockoutMs, now);
    return true;
  }

  /** A successful sign-in forgets the account's failures (the address keeps its count). */
  async recordSuccess(data: TenantData, userName: string): Promise<void> {
    await data.signInThrottles.clear(accountKey(userName));
  }
}

export function throttleError(refusal: ThrottleRefusal): DomainError {
  return refusal.reason === 'account-locked'
    ? new DomainError('account-locked', 'Too many failed sign-ins for this account; try again later.', {}, refusal.retryAfterSeconds)
    : new DomainError('rate-limited', 'Too many failed sign-ins from this address; try again later.', {}, refusal.retryAfterSeconds);
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
