/**
 * The subscription lifecycle (SPEC §9) as a pure state machine: given what the directory records of
 * a tenant and the configured durations, which transition is due at `now`. Nothing here reads a
 * clock or a store; `LifecycleService` applies what this decides.
 *
 *   active ──(subscription end)──▶ warning ──(warningDays)──▶ suspended ──(suspendedDays)──▶
 *   retention ──(retentionDays)──▶ purged
 *
 * Cancellation moves to `retention` at once; a deletion request purges once its confirmation window
 * passes (it can be withdrawn until then); renewal returns to `active` from any state but `purged`.
 */
import type { SubscriptionState } from '../tenants/tenant.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface LifecycleDurations {
  /** Days of full service with notices after the subscription ended (CUSTOS_LIFECYCLE_WARNING_DAYS). */
  warningDays: number;
  /** Days without new enrollments (CUSTOS_LIFECYCLE_SUSPENDED_DAYS). */
  suspendedDays: number;
  /** Days read-only with export before the purge (CUSTOS_LIFECYCLE_RETENTION_DAYS). */
  retentionDays: number;
  /** Days a deletion request waits, withdrawable, before the purge (CUSTOS_LIFECYCLE_DELETION_CONFIRM_DAYS). */
  deletionConfirmDays: number;
}

export const DEFAULT_LIFECYCLE_DURATIONS: LifecycleDurations = {
  warningDays: 30,
  suspendedDays: 30,
  retentionDays: 90,
  deletionConfirmDays: 7,
};

const ENV_NAMES: Record<keyof LifecycleDurations, string> = {
  warningDays: 'CUSTOS_LIFECYCLE_WARNING_DAYS',
  suspendedDays: 'CUSTOS_LIFECYCLE_SUSPENDED_DAYS',
  retentionDays: 'CUSTOS_LIFECYCLE_RETENTION_DAYS',
  deletionConfirmDays: 'CUSTOS_LIFECYCLE_DELETION_CONFIRM_DAYS',
};

/** Durations from the environment over the defaults; throws naming the variable when one is not 0–3650 whole days. */
export function lifecycleDurationsFrom(env: Readonly<Record<string, string | undefined>>): LifecycleDurations {
  const durations = { ...DEFAULT_LIFECYCLE_DURATIONS };
  for (const key of Object.keys(ENV_NAMES) as (keyof LifecycleDurations)[]) {
    const raw = env[ENV_NAMES[key]];
    if (raw === undefined || raw === '') continue;
    const days = Number(raw);
    if (!Number.isInteger(days) || days < 0 || days > 3650)
      throw new Error(`${ENV_NAMES[key]} must be a whole number of days from 0 to 3650.`);
    durations[key] = days;
  }
  return durations;
}

/** What the global directory keeps of a tenant's subscription. */
export interface TenantLifecycle {
  tenantId: string;
  name: string;
  region: string;
  state: SubscriptionState;
  /** When the current state began (for due transitions: when it was due, so a late tick catches up exactly). */
  stateSince: number;
  subscriptionEndsAt: number | null;
  deletionRequestedAt: number | null;
}

export type TransitionReason = 'subscription-ended' | 'warning-elapsed' | 'suspension-elapsed' | 'retention-elapsed' | 'deletion-confirmed';

export interface DueTransition {
  from: SubscriptionState;
  to: SubscriptionState;
  /** The moment the transition became due (≤ now). */
  at: number;
  reason: TransitionReason;
}

/** The one transition due for `t` at `now`, if any; apply it and ask again to catch up on several. */
export function dueTransition(t: TenantLifecycle, d: LifecycleDurations, now: number): DueTransition | undefined {
  if (t.state === 'purged') return undefined;
  if (t.deletionRequestedAt !== null) {
    const at = t.deletionRequestedAt + d.deletionConfirmDays * DAY_MS;
    if (now >= at) return { from: t.state, to: 'purged', at, reason: 'deletion-confirmed' };
  }
  switch (t.state) {
    case 'active':
      if (t.subscriptionEndsAt !== null && now >= t.subscriptionEndsAt) {
        return { from: 'active', to: 'warning', at: t.subscriptionEndsAt, reason: 'subscription-ended' };
      }
      return undefined;
    case 'warning': {
      const at = t.stateSince + d.warningDays * DAY_MS;
      return now >= at ? { from: 'warning', to: 'suspended', at, reason: 'warning-elapsed' } : undefined;
    }
    case 'suspended': {
      const at = t.stateSince + d.suspendedDays * DAY_MS;
      return now >= at ? { from: 'suspended', to: 'retention', at, reason: 'suspension-elapsed' } : undefined;
    }
    case 'retention': {
      const at = t.stateSince + d.retentionDays * DAY_MS;
      return now >= at ? { from: 'retention', to: 'purged', at, reason: 'retention-elapsed' } : undefined;
    }
  }
}

/** When the tenant leaves its current state if nothing changes (null: not scheduled), for notices. */
export function nextStateAt(t: TenantLifecycle, d: LifecycleDurations): { state: SubscriptionState; at: number } | null {
  const deletion =
    t.deletionRequestedAt === null ? null : { state: 'purged' as const, at: t.deletionRequestedAt + d.deletionConfirmDays * DAY_MS };
  let scheduled: { state: SubscriptionState; at: number } | null = null;
  switch (t.state) {
    case 'active':
      scheduled = t.subscriptionEndsAt === null ? null : { state: 'warning', at: t.subscriptionEndsAt };
      break;
    case 'warning':
      scheduled = { state: 'suspended', at: t.stateSince + d.warningDays * DAY_MS };
      break;
    case 'suspended':
      scheduled = { state: 'retention', at: t.stateSince + d.suspendedDays * DAY_MS };
      break;
    case 'retention':
      scheduled = { state: 'purged', at: t.stateSince + d.retentionDays * DAY_MS };
      break;
    case 'purged':
      return null;
  }
  if (deletion && (!scheduled || deletion.at < scheduled.at)) return deletion;
  return scheduled;
}
