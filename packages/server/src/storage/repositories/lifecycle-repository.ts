/** The subscription lifecycle columns of the directory's `tenants` table (global migration 0005). */
import type { Kysely } from 'kysely';
import type { LifecycleChange, LifecycleDirectory, TenantTombstone } from '../../domain/lifecycle/lifecycle-store.js';
import type { TenantLifecycle } from '../../domain/lifecycle/lifecycle.js';
import type { PurgeReceipt } from '../../domain/lifecycle/purge-receipt.js';
import type { SubscriptionState } from '../../domain/tenants/tenant.js';
import type { DirectoryTenantTable, GlobalDatabase } from '../database.js';

function toLifecycle(r: DirectoryTenantTable): TenantLifecycle {
  return {
    tenantId: r.id,
    name: r.name,
    region: r.region,
    state: r.subscription_state as SubscriptionState,
    stateSince: r.state_changed_at ?? r.created_at,
    subscriptionEndsAt: r.subscription_ends_at,
    deletionRequestedAt: r.deletion_requested_at,
  };
}

export class LifecycleRepository implements LifecycleDirectory {
  constructor(private readonly db: Kysely<GlobalDatabase>) {}

  async listLifecycles(): Promise<TenantLifecycle[]> {
    const rows = await this.db.selectFrom('tenants').selectAll().where('purged_at', 'is', null).orderBy('created_at').execute();
    return rows.map(toLifecycle);
  }

  async getLifecycle(tenantId: string): Promise<TenantLifecycle | undefined> {
    const row = await this.db
      .selectFrom('tenants')
      .selectAll()
      .where('id', '=', tenantId)
      .where('purged_at', 'is', null)
      .executeTakeFirst();
    return row && toLifecycle(row);
  }

  async updateLifecycle(tenantId: string, expected: SubscriptionState, change: LifecycleChange): Promise<boolean> {
    const result = await this.db
      .updateTable('tenants')
      .set({
        subscription_state: change.state,
        state_changed_at: change.stateSince,
        subscription_ends_at: change.subscriptionEndsAt,
        deletion_requested_at: change.deletionRequestedAt,
      })
      .where('id', '=', tenantId)
      .where('subscription_state', '=', expected)
      .where('purged_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recordPurgeStarted(tenantId: string, rows: Record<string, number>): Promise<void> {
    // Until `purged_at` is set, the receipt column holds the counts of the purge under way.
    await this.db
      .updateTable('tenants')
      .set({ purge_receipt: JSON.stringify({ pending: true, deletedRows: rows }) })
      .where('id', '=', tenantId)
      .where('purged_at', 'is', null)
      .execute();
  }

  async pendingPurge(tenantId: string): Promise<Record<string, number> | undefined> {
    const row = await this.db
      .selectFrom('tenants')
      .select('purge_receipt')
      .where('id', '=', tenantId)
      .where('purged_at', 'is', null)
      .executeTakeFirst();
    if (!row?.purge_receipt) return undefined;
    const pending = JSON.parse(row.purge_receipt) as { pending?: boolean; deletedRows?: Record<string, number> };
    return pending.pending ? pending.deletedRows : undefined;
  }

  async recordPurge(tenantId: string, purgedAt: number, receipt: PurgeReceipt): Promise<void> {
    await this.db
      .updateTable('tenants')
      .set({
        name: '',
        subscription_state: 'purged',
        state_changed_at: purgedAt,
        purged_at: purgedAt,
        subscription_ends_at: null,
        deletion_requested_at: null,
        purge_receipt: JSON.stringify(receipt),
      })
      .where('id', '=', tenantId)
      .execute();
  }

  async findTombstone(tenantId: string): Promise<TenantTombstone | undefined> {
    const row = await this.db
      .selectFrom('tenants')
      .select(['id', 'purged_at', 'purge_receipt'])
      .where('id', '=', tenantId)
      .where('purged_at', 'is not', null)
      .executeTakeFirst();
    if (!row || row.purged_at === null || row.purge_receipt === null) return undefined;
    return { tenantId: row.id, purgedAt: row.purged_at, receipt: JSON.parse(row.purge_receipt) as PurgeReceipt };
  }
}
