import type { Tenant } from '../tenants/tenant.js';
import type { PurgeReceipt } from './purge-receipt.js';
import type { TenantLifecycle } from './lifecycle.js';

export type LifecycleChange = Pick<TenantLifecycle, 'state' | 'stateSince' | 'subscriptionEndsAt' | 'deletionRequestedAt'>;

export interface TenantTombstone {
  tenantId: string;
  purgedAt: number;
  receipt: PurgeReceipt;
}

/** The subscription fields of the global directory (global migration 0005). */
export interface LifecycleDirectory {
  /** Every tenant not yet purged. */
  listLifecycles(): Promise<TenantLifecycle[]>;
  getLifecycle(tenantId: string): Promise<TenantLifecycle | undefined>;
  /**
   * Applies `change` only while the tenant is still in `expected` (and not purged), so two processes
   * ticking at once apply a transition once; false when another got there first.
   */
  updateLifecycle(tenantId: string, expected: TenantLifecycle['state'], change: LifecycleChange): Promise<boolean>;
  /**
   * Notes, before any row is deleted, how many rows the purge is about to delete, so a purge
   * interrupted after its (atomic) deletion still reports them when it is run again.
   */
  recordPurgeStarted(tenantId: string, rows: Record<string, number>): Promise<void>;
  /** The counts `recordPurgeStarted` noted, while the purge is unfinished. */
  pendingPurge(tenantId: string): Promise<Record<string, number> | undefined>;
  /** Turns the directory entry into a tombstone: state `purged`, the name blanked, the receipt kept. */
  recordPurge(tenantId: string, purgedAt: number, receipt: PurgeReceipt): Promise<void>;
  findTombstone(tenantId: string): Promise<TenantTombstone | undefined>;
}

/**
 * Deletes every row of a tenant from its region's store: every table that has a `tenant_id` column,
 * found from the live schema (so a table added later cannot be forgotten). Returns rows per table.
 */
export interface TenantRowPurger {
  purgeTenantRows(tenant: Tenant): Promise<Record<string, number>>;
  countTenantRows(tenant: Tenant): Promise<Record<string, number>>;
}
