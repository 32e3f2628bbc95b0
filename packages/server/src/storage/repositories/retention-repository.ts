/** The retention rules' reads and deletes (region migration 0013-retention). */
import type { Kysely } from 'kysely';
import type { ImportedChainCheckpoint } from '../../domain/audit/imported-audit.js';
import type { AuditCheckpoint, ImportedAuditCheckpoint, RetentionStore } from '../../domain/retention/retention-store.js';
import type { RegionDatabase } from '../database.js';

const FINISHED_COMMAND_STATES = ['acknowledged', 'error', 'expired'] as const;

export class RetentionRepository implements RetentionStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async staleDeviceDays(): Promise<number | null> {
    const row = await this.db
      .selectFrom('tenant_settings')
      .select('stale_device_days')
      .where('tenant_id', '=', this.tenantId)
      .executeTakeFirst();
    return row?.stale_device_days ?? null;
  }

  async setStaleDeviceDays(days: number | null, at: number): Promise<void> {
    await this.db
      .updateTable('tenant_settings')
      .set({ stale_device_days: days, updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .execute();
  }

  async staleDeviceIds(before: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('devices as d')
      .leftJoin('device_checkin_state as s', (j) => j.onRef('s.tenant_id', '=', 'd.tenant_id').onRef('s.device_id', '=', 'd.id'))
      .select('d.id')
      .where('d.tenant_id', '=', this.tenantId)
      .where('d.status', '=', 'active')
      .where((eb) => eb(eb.fn.coalesce('s.last_check_in_at', 'd.enrolled_at'), '<', before))
      .orderBy('d.id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  async pruneFinishedCommands(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('device_commands')
      .where('tenant_id', '=', this.tenantId)
      .where('state', 'in', FINISHED_COMMAND_STATES)
      .where('updated_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async auditCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const row = await this.db.selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', this.tenantId).executeTakeFirst();
    return row && { sequence: row.sequence, hash: row.hash, prunedEvents: row.pruned_events, prunedAt: row.pruned_at };
  }

  async lastAuditEventBefore(before: number): Promise<{ sequence: number; hash: string } | undefined> {
    return this.db
      .selectFrom('audit_events')
      .select(['sequence', 'hash'])
      .where('tenant_id', '=', this.tenantId)
      .where('occurred_at', '<', before)
      .orderBy('sequence', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async pruneAuditThrough(checkpoint: Omit<AuditCheckpoint, 'prunedEvents'>): Promise<number> {
    const deleted = await this.db
      .deleteFrom('audit_events')
      .where('tenant_id', '=', this.tenantId)
      .where('sequence', '<=', checkpoint.sequence)
      .executeTakeFirst();
    const count = Number(deleted.numDeletedRows);
    const previous = await this.auditCheckpoint();
    const row = {
      tenant_id: this.tenantId,
      sequence: checkpoint.sequence,
      hash: checkpoint.hash,
      pruned_events: (previous?.prunedEvents ?? 0) + count,
      pruned_at: checkpoint.prunedAt,
    };
    await this.db
      .insertInto('audit_checkpoints')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('tenant_id')
          .doUpdateSet({ sequence: row.sequence, hash: row.hash, pruned_events: row.pruned_events, pruned_at: row.pruned_at }),
      )
      .execute();
    return count;
  }

  async importedAuditCheckpoints(): Promise<ImportedAuditCheckpoint[]> {
    const rows = await this.db
      .selectFrom('imported_audit_checkpoints')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .orderBy('source_tenant_id')
      .execute();
    return rows.map((r) => ({
      sourceTenantId: r.source_tenant_id,
      sequence: Number(r.sequence),
      hash: r.hash,
      prunedEvents: Number(r.pruned_events),
      prunedAt: Number(r.pruned_at),
    }));
  }

  async lastImportedAuditEventsBefore(before: number): Promise<ImportedChainCheckpoint[]> {
    const ends = await this.db
      .selectFrom('imported_audit_events')
      .select((eb) => ['source_tenant_id', eb.fn.max('sequence').as('sequence')])
      .where('tenant_id', '=', this.tenantId)
      .where('occurred_at', '<', before)
      .groupBy('source_tenant_id')
      .execute();
    const checkpoints: ImportedChainCheckpoint[] = [];
    for (const end of ends) {
      const row = await this.db
        .selectFrom('imported_audit_events')
        .select(['sequence', 'hash'])
        .where('tenant_id', '=', this.tenantId)
        .where('source_tenant_id', '=', end.source_tenant_id)
        .where('sequence', '=', Number(end.sequence))
        .executeTakeFirstOrThrow();
      checkpoints.push({ sourceTenantId: end.source_tenant_id, sequence: Number(row.sequence), hash: row.hash });
    }
    return checkpoints;
  }

  async pruneImportedAuditThrough(checkpoint: Omit<ImportedAuditCheckpoint, 'prunedEvents'>): Promise<number> {
    const deleted = await this.db
      .deleteFrom('imported_audit_events')
      .where('tenant_id', '=', this.tenantId)
      .where('source_tenant_id', '=', checkpoint.sourceTenantId)
      .where('sequence', '<=', checkpoint.sequence)
      .executeTakeFirst();
    const count = Number(deleted.numDeletedRows);
    const previous = await this.db
      .selectFrom('imported_audit_checkpoints')
      .select('pruned_events')
      .where('tenant_id', '=', this.tenantId)
      .where('source_tenant_id', '=', checkpoint.sourceTenantId)
      .executeTakeFirst();
    const row = {
      tenant_id: this.tenantId,
      source_tenant_id: checkpoint.sourceTenantId,
      sequence: checkpoint.sequence,
      hash: checkpoint.hash,
      pruned_events: Number(previous?.pruned_events ?? 0) + count,
      pruned_at: checkpoint.prunedAt,
    };
    await this.db
      .insertInto('imported_audit_checkpoints')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'source_tenant_id'])
          .doUpdateSet({ sequence: row.sequence, hash: row.hash, pruned_events: row.pruned_events, pruned_at: row.pruned_at }),
      )
      .execute();
    return count;
  }
}
