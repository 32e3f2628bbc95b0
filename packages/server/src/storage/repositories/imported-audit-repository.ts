/**
 * The audit chains an import brought along (`imported_audit_events`, migration 0017): written only
 * by the import (through the export row store), read here. Rows map to events whose `tenantId` is
 * the source tenant's, so they verify with the hash their source computed. The actor name and the
 * targets are stored encrypted like the tenant's own log (sensitive-audit-columns.ts).
 */
import type { Kysely } from 'kysely';
import type { AuditFilter } from '../../domain/audit/audit-log.js';
import type { ImportedAuditEvent, ImportedAuditStore } from '../../domain/audit/imported-audit.js';
import type { CipherSource } from '../../domain/encryption/tenant-cipher.js';
import type { ImportedAuditEventTable, RegionDatabase } from '../database.js';
import { auditFilterConditions, toAuditEvent } from './audit-repository.js';
import { openRows, reencryptBatch, type ReencryptedBatch } from './sealed-columns.js';
import { IMPORTED_AUDIT_EVENT_COLUMNS } from './sensitive-audit-columns.js';

/** An imported row as the source tenant's event, with its place in the imported chain. */
function toEvent(r: ImportedAuditEventTable): ImportedAuditEvent {
  return { ...toAuditEvent({ ...r, tenant_id: r.source_tenant_id }), position: r.position };
}

export class ImportedAuditRepository implements ImportedAuditStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {}

  async list(filter: AuditFilter, page: { limit: number; beforePosition?: number }): Promise<ImportedAuditEvent[]> {
    let q = this.db.selectFrom('imported_audit_events').selectAll().where('tenant_id', '=', this.tenantId);
    if (page.beforePosition !== undefined) q = q.where('position', '<', page.beforePosition);
    for (const condition of auditFilterConditions(filter)) q = q.where(condition);
    const rows = await q.orderBy('position', 'desc').limit(page.limit).execute();
    return (await openRows(this.cipher, IMPORTED_AUDIT_EVENT_COLUMNS, rows)).map(toEvent);
  }

  async *all(batchSize = 1000): AsyncIterable<ImportedAuditEvent> {
    let after: [string, number] | null = null;
    for (;;) {
      let q = this.db.selectFrom('imported_audit_events').selectAll().where('tenant_id', '=', this.tenantId);
      if (after) {
        const [source, sequence] = after;
        q = q.where((eb) =>
          eb.or([eb('source_tenant_id', '>', source), eb.and([eb('source_tenant_id', '=', source), eb('sequence', '>', sequence)])]),
        );
      }
      const rows = await q.orderBy('source_tenant_id').orderBy('sequence').limit(batchSize).execute();
      for (const row of await openRows(this.cipher, IMPORTED_AUDIT_EVENT_COLUMNS, rows)) yield toEvent(row);
      const last = rows.at(-1);
      if (!last || rows.length < batchSize) return;
      after = [last.source_tenant_id, last.sequence];
    }
  }

  /** Re-encrypts one keyset batch (by position) under the current key version (`custos keys rotate`). */
  async reencryptBatch(afterPosition: string | null, limit: number): Promise<ReencryptedBatch> {
    return reencryptBatch(this.db, IMPORTED_AUDIT_EVENT_COLUMNS, this.tenantId, await this.cipher({ refresh: true }), afterPosition, limit);
  }
}
