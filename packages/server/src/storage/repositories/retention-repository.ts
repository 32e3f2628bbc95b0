/** The retention rules' reads and deletes (region migration 0013-retention). */
import type { Kysely } from 'kysely';
import type { AuditCheckpoint, RetentionStore } from '../../domain/retention/retention-store.js';
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
}
