/**
 * Tells every process of a deployment that a tenant's directory entry changed (a lifecycle
 * transition, a purge), so each drops its cached copy at once instead of serving the old state until
 * the cache entry expires (tenant-service.ts). Carried by the device wake-up channel: in-process on
 * SQLite, PostgreSQL LISTEN/NOTIFY when several processes share the databases. Best effort like the
 * wake-ups; what must never happen — a purged tenant's rows written again — is refused by the region
 * store itself (storage/repositories/audit-repository.ts).
 */
/** `null`: changes may have been missed (the channel was re-opened), so every cached tenant is suspect. */
export type TenantChangeListener = (tenantId: string | null) => void;

export interface TenantChangeFeed {
  /** Announces that `tenantId`'s directory entry changed, to every process (this one included). */
  publishTenantChange(tenantId: string): Promise<void>;
  /** Calls `listener` for every change announced in the deployment; returns the unsubscribe. */
  onTenantChange(listener: TenantChangeListener): () => void;
}
