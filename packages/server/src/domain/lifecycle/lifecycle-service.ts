/**
 * Applies the subscription lifecycle (lifecycle.ts) to the directory: the operator's commands
 * (subscription end, renewal, cancellation, deletion request), the periodic tick that runs due
 * transitions, and the purge. Every transition is recorded in the tenant's audit log and emailed to
 * its Tenant Administrators; the purge leaves a signed receipt in the directory's tombstone instead,
 * since the tenant's log goes with its rows.
 *
 * Two stores and no distributed transaction: the directory changes first, with a condition on the
 * state it expects (so two processes ticking at once apply a transition once); the audit event and
 * the mail follow.
 */
import type { Actor } from '../access/authorize.js';
import { authorize } from '../access/authorize.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { Mailer } from '../mail/mailer.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { SubscriptionState, Tenant } from '../tenants/tenant.js';
import {
  DAY_MS,
  dueTransition,
  nextStateAt,
  type DueTransition,
  type LifecycleDurations,
  type TenantLifecycle,
  type TransitionReason,
} from './lifecycle.js';
import type { LifecycleChange, LifecycleDirectory, TenantRowPurger, TenantTombstone } from './lifecycle-store.js';
import type { PurgeReceipt, PurgeReceiptSigner } from './purge-receipt.js';

export interface AppliedTransition {
  tenantId: string;
  from: SubscriptionState;
  to: SubscriptionState;
  at: number;
  reason: TransitionReason | 'renewed' | 'cancelled';
  /** `sent` to n admins, `skipped` (no SMTP or no admin address) or `failed` (with the error). */
  mail: string;
  receipt?: PurgeReceipt;
}

export interface SubscriptionView {
  state: SubscriptionState;
  stateSince: number;
  subscriptionEndsAt: number | null;
  deletionRequestedAt: number | null;
  next: { state: SubscriptionState; at: number } | null;
  /** What the state means for the tenant, for portals' banners; null while active with nothing scheduled. */
  notice: string | null;
}

export interface LifecycleDependencies {
  directory: LifecycleDirectory;
  purger: TenantRowPurger;
  tenants: TenantService;
  /** Deletes the tenant's files outside the stores (export archives). */
  destroyTenantFiles?(tenantId: string): Promise<void>;
  /** Destroys the tenant's data key(s); resolves true when none is left (crypto-shredding). */
  destroyTenantKey(tenantId: string): Promise<boolean>;
  signer: PurgeReceiptSigner;
  mailer: Mailer | undefined;
  durations: LifecycleDurations;
  clock: Clock;
}

const STATE_MEANING: Record<SubscriptionState, string> = {
  active: 'Full service.',
  warning: 'The subscription has ended. Everything keeps working for now; renew to avoid suspension.',
  suspended: 'The subscription is suspended: enrolled devices and all data keep working, but no new devices can enroll.',
  retention:
    'The subscription is in retention: all data can be read and exported, but nothing can be changed and devices can no longer check in.',
  purged: 'Every row of the organization was deleted and its encryption key destroyed.',
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class LifecycleService {
  constructor(private readonly deps: LifecycleDependencies) {}

  get durations(): LifecycleDurations {
    return this.deps.durations;
  }

  /** Runs every due transition of every tenant at `now` (the clock's time by default). */
  async tick(actor: Actor, now = this.deps.clock.now()): Promise<AppliedTransition[]> {
    const applied: AppliedTransition[] = [];
    for (const lifecycle of await this.deps.directory.listLifecycles()) {
      let current: TenantLifecycle | undefined = lifecycle;
      // Catch up on every transition that fell due since the last tick, each at the time it was due.
      while (current) {
        const due = dueTransition(current, this.deps.durations, now);
        if (!due) break;
        const result = due.to === 'purged' ? await this.purge(current, due, now) : await this.advance(actor, current, due);
        if (!result) break;
        applied.push(result);
        current = due.to === 'purged' ? undefined : await this.deps.directory.getLifecycle(current.tenantId);
      }
    }
    return applied;
  }

  async view(actor: Actor, tenantId: string): Promise<SubscriptionView> {
    authorize(actor, 'tenant.read', { tenantId });
    const lifecycle = await this.lifecycleOf(tenantId);
    const next = nextStateAt(lifecycle, this.deps.durations);
    let notice: string | null = lifecycle.state === 'active' ? null : STATE_MEANING[lifecycle.state];
    if (lifecycle.state === 'active' && lifecycle.subscriptionEndsAt !== null)
      notice = `The subscription ends on ${iso(lifecycle.subscriptionEndsAt)}.`;
    if (lifecycle.deletionRequestedAt !== null && next) {
      notice = `${notice ?? ''} Deletion was requested: every row is purged on ${iso(next.at)} unless the request is withdrawn.`.trim();
    } else if (next && lifecycle.state !== 'active') notice = `${notice} Next: ${next.state} on ${iso(next.at)}.`;
    return {
      state: lifecycle.state,
      stateSince: lifecycle.stateSince,
      subscriptionEndsAt: lifecycle.subscriptionEndsAt,
      deletionRequestedAt: lifecycle.deletionRequestedAt,
      next,
      notice,
    };
  }

  /** Sets when the paid subscription ends (the tick moves the tenant to `warning` then). */
  async setSubscriptionEnd(actor: Actor, tenantId: string, endsAt: number): Promise<TenantLifecycle> {
    authorize(actor, 'lifecycle.manage', { tenantId });
    const before = await this.lifecycleOf(tenantId);
    const change: LifecycleChange = { ...before, subscriptionEndsAt: endsAt };
    await this.update(before, change);
    await this.audit(actor, tenantId, 'Set subscription end', before, change);
    return { ...before, ...change };
  }

  /** Renewal: back to `active` from any state before `purged`; a pending deletion request is withdrawn. */
  async renew(actor: Actor, tenantId: string, until: number | null): Promise<AppliedTransition> {
    authorize(actor, 'lifecycle.manage', { tenantId });
    const before = await this.lifecycleOf(tenantId);
    const now = this.deps.clock.now();
    if (until !== null && until <= now) throw new DomainError('validation-failed', 'A renewal must run until a time in the future.');
    const change: LifecycleChange = {
      state: 'active',
      stateSince: before.state === 'active' ? before.stateSince : now,
      subscriptionEndsAt: until,
      deletionRequestedAt: null,
    };
    await this.update(before, change);
    return this.announce(actor, before, change, 'Renew subscription', 'renewed', now);
  }

  /** An active cancellation: straight to `retention` (read-only, export allowed) from `now`. */
  async cancel(actor: Actor, tenantId: string): Promise<AppliedTransition> {
    authorize(actor, 'lifecycle.manage', { tenantId });
    const before = await this.lifecycleOf(tenantId);
    if (before.state === 'retention') throw new DomainError('conflict', `Tenant ${tenantId} is already in retention.`);
    const now = this.deps.clock.now();
    const change: LifecycleChange = {
      ...before,
      state: 'retention',
      stateSince: now,
      subscriptionEndsAt: before.subscriptionEndsAt ?? now,
    };
    await this.update(before, change);
    return this.announce(actor, before, change, 'Cancel subscription', 'cancelled', now);
  }

  /** A deletion request: the purge follows after the confirmation window unless withdrawn. */
  async requestDeletion(actor: Actor, tenantId: string): Promise<TenantLifecycle> {
    authorize(actor, 'lifecycle.manage', { tenantId });
    const before = await this.lifecycleOf(tenantId);
    if (before.deletionRequestedAt !== null) throw new DomainError('conflict', `Deletion of tenant ${tenantId} is already requested.`);
    const change: LifecycleChange = { ...before, deletionRequestedAt: this.deps.clock.now() };
    await this.update(before, change);
    await this.audit(actor, tenantId, 'Request tenant deletion', before, change);
    const purgeAt = (change.deletionRequestedAt ?? 0) + this.deps.durations.deletionConfirmDays * DAY_MS;
    await this.mail(
      tenantId,
      before.name,
      `Deletion of "${before.name}" requested`,
      `Deletion of every piece of data of "${before.name}" was requested. Unless the request is withdrawn, everything is purged on ${iso(purgeAt)} and cannot be recovered. Export your data before then.`,
    );
    return { ...before, ...change };
  }

  async withdrawDeletion(actor: Actor, tenantId: string): Promise<TenantLifecycle> {
    authorize(actor, 'lifecycle.manage', { tenantId });
    const before = await this.lifecycleOf(tenantId);
    if (before.deletionRequestedAt === null) throw new DomainError('conflict', `Tenant ${tenantId} has no pending deletion request.`);
    const change: LifecycleChange = { ...before, deletionRequestedAt: null };
    await this.update(before, change);
    await this.audit(actor, tenantId, 'Withdraw tenant deletion', before, change);
    return { ...before, ...change };
  }

  /** The purge receipt of a purged tenant (anyone holding the tenant id may ask: it names no person). */
  tombstone(tenantId: string): Promise<TenantTombstone | undefined> {
    return this.deps.directory.findTombstone(tenantId);
  }

  private async lifecycleOf(tenantId: string): Promise<TenantLifecycle> {
    const lifecycle = await this.deps.directory.getLifecycle(tenantId);
    if (!lifecycle) throw new DomainError('tenant-not-found', `No tenant has the id ${tenantId}.`);
    return lifecycle;
  }

  private async update(before: TenantLifecycle, change: LifecycleChange): Promise<void> {
    if (!(await this.deps.directory.updateLifecycle(before.tenantId, before.state, change))) {
      throw new DomainError('conflict', `The subscription of tenant ${before.tenantId} changed meanwhile; try again.`);
    }
    await this.deps.tenants.changed(before.tenantId);
  }

  private async advance(actor: Actor, current: TenantLifecycle, due: DueTransition): Promise<AppliedTransition | undefined> {
    const change: LifecycleChange = { ...current, state: due.to, stateSince: due.at };
    if (!(await this.deps.directory.updateLifecycle(current.tenantId, current.state, change))) return undefined;
    await this.deps.tenants.changed(current.tenantId);
    return this.announce(actor, current, change, `Subscription ${due.to}`, due.reason, due.at);
  }

  /** Audits a state change in the tenant's log and emails its admins. */
  private async announce(
    actor: Actor,
    before: TenantLifecycle,
    change: LifecycleChange,
    activity: string,
    reason: AppliedTransition['reason'],
    at: number,
  ): Promise<AppliedTransition> {
    await this.audit(actor, before.tenantId, activity, before, change);
    const after: TenantLifecycle = { ...before, ...change };
    const next = nextStateAt(after, this.deps.durations);
    const mail = await this.mail(
      before.tenantId,
      before.name,
      `Subscription of "${before.name}": ${change.state}`,
      [
        `The subscription of "${before.name}" moved from ${before.state} to ${change.state} on ${iso(at)}.`,
        STATE_MEANING[change.state],
        next ? `Next: ${next.state} on ${iso(next.at)}.` : '',
        change.state === 'active' ? '' : 'Renew the subscription with your Custos provider to return to full service.',
      ]
        .filter((line) => line !== '')
        .join('\n\n'),
    );
    return { tenantId: before.tenantId, from: before.state, to: change.state, at, reason, mail };
  }

  private async audit(actor: Actor, tenantId: string, activity: string, before: TenantLifecycle, after: LifecycleChange): Promise<void> {
    const data = await this.deps.tenants.data(tenantId);
    const view = (l: LifecycleChange) => ({
      subscriptionState: l.state,
      subscriptionEndsAt: l.subscriptionEndsAt === null ? null : iso(l.subscriptionEndsAt),
      deletionRequestedAt: l.deletionRequestedAt === null ? null : iso(l.deletionRequestedAt),
    });
    await data.transaction(async (trx) => {
      await recordAudit(trx, actor, this.deps.clock, {
        activity,
        category: 'Tenant',
        operation: 'update',
        targets: [{ type: 'tenant', id: tenantId, name: before.name, modifiedProperties: changedProperties(view(before), view(after)) }],
      });
    });
  }

  /** The email addresses of the tenant's Tenant Administrators (active users, directly or through a group). */
  private async adminAddresses(data: TenantData): Promise<string[]> {
    const userIds = new Set<string>();
    for (const assignment of await data.roleAssignments.list()) {
      if (assignment.role !== 'Tenant Administrator') continue;
      if (assignment.principalKind === 'user') userIds.add(assignment.principalId);
      else for (const id of await data.groups.members(assignment.principalId)) userIds.add(id);
    }
    const addresses = new Set<string>();
    for (const id of userIds) {
      const user = await data.users.get(id);
      if (user?.active && user.email) addresses.add(user.email.toLowerCase());
    }
    const settings = await data.settings.get();
    if (settings?.adminEmail) addresses.add(settings.adminEmail.toLowerCase());
    return [...addresses].sort();
  }

  /** Mail never blocks a transition: a failure is reported in the tick's result and the log. */
  private async mail(tenantId: string, name: string, subject: string, text: string, recipients?: string[]): Promise<string> {
    if (!this.deps.mailer) return 'skipped: no SMTP server configured';
    try {
      const to = recipients ?? (await this.adminAddresses(await this.deps.tenants.data(tenantId)));
      if (to.length === 0) return 'skipped: no administrator has an email address';
      await this.deps.mailer.send({ to, subject: `Custos: ${subject}`, text: `${text}\n\nOrganization: ${name} (${tenantId})\n` });
      return `sent to ${to.length}`;
    } catch (error) {
      return `failed: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /**
   * The purge: every row of the tenant in its region's store, then its data key, then the directory
   * entry becomes a tombstone holding the signed receipt. The admins are told first (their addresses
   * go with the rows), with the receipt's content following in the tombstone.
   */
  private async purge(current: TenantLifecycle, due: DueTransition, now: number): Promise<AppliedTransition | undefined> {
    const tenant: Tenant = {
      id: current.tenantId,
      name: current.name,
      region: current.region,
      subscriptionState: current.state,
      createdAt: current.stateSince,
    };
    let recipients: string[] = [];
    try {
      recipients = await this.adminAddresses(this.deps.tenants.dataOf(tenant));
    } catch {
      // No addresses (for example after an interrupted earlier purge): the receipt is still kept.
    }
    // Counted and noted first: the deletion is one transaction, so after an interruption either every
    // row is still there (counted again) or none is (the noted counts say what was deleted).
    const pending = await this.deps.directory.pendingPurge(current.tenantId);
    const counted = await this.deps.purger.countTenantRows(tenant);
    const deletedRows: Record<string, number> = {};
    for (const [table, n] of Object.entries(counted)) deletedRows[table] = n > 0 ? n : (pending?.[table] ?? 0);
    if (!pending) await this.deps.directory.recordPurgeStarted(current.tenantId, counted);
    await this.deps.purger.purgeTenantRows(tenant);
    await this.deps.destroyTenantFiles?.(current.tenantId);
    const keyDestroyed = await this.deps.destroyTenantKey(current.tenantId);
    const receipt = this.deps.signer.sign({
      tenantId: current.tenantId,
      region: current.region,
      purgedAt: iso(now),
      reason: due.reason,
      deletedRows,
      keyDestroyed,
    });
    await this.deps.directory.recordPurge(current.tenantId, now, receipt);
    await this.deps.tenants.changed(current.tenantId);
    const total = Object.values(deletedRows).reduce((a, b) => a + b, 0);
    const mail =
      recipients.length === 0
        ? 'skipped: no administrator has an email address'
        : await this.mail(
            current.tenantId,
            current.name,
            `"${current.name}" was purged`,
            [
              `Every piece of data of "${current.name}" was deleted on ${iso(now)} (${total} rows in region ${current.region}) and its encryption key ${keyDestroyed ? 'destroyed' : 'was not found'}.`,
              'The signed purge receipt follows; verify it with `custos purge-receipt verify FILE`.',
              JSON.stringify(receipt, null, 2),
            ].join('\n\n'),
            recipients,
          );
    return { tenantId: current.tenantId, from: current.state, to: 'purged', at: now, reason: due.reason, mail, receipt };
  }
}
