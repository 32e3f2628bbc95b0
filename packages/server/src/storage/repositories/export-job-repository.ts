/** Export job rows (`tenant_exports`, migrations 0012 and 0017); every change of a job names the status it expects. */
import type { Kysely } from 'kysely';
import type {
  ExportErrorCode,
  ExportJobChanges,
  ExportJobRecord,
  ExportJobStore,
  ExportStatus,
} from '../../domain/export/export-job-store.js';
import type { RegionDatabase, TenantExportTable } from '../database.js';

function toRecord(row: TenantExportTable): ExportJobRecord {
  return {
    id: row.id,
    status: row.status as ExportStatus,
    requestedBy: row.requested_by,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    entitiesDone: row.entities_done,
    entitiesTotal: row.entities_total,
    rowsWritten: Number(row.rows_written),
    bytes: row.bytes === null ? null : Number(row.bytes),
    manifestSha256: row.manifest_sha256,
    error: row.error,
    errorCode: row.error_code as ExportErrorCode | null,
    heartbeatAt: row.heartbeat_at,
    expiresAt: row.expires_at,
  };
}

function toColumns(changes: ExportJobChanges): Partial<TenantExportTable> {
  const set: Partial<TenantExportTable> = {};
  if (changes.status !== undefined) set.status = changes.status;
  if (changes.finishedAt !== undefined) set.finished_at = changes.finishedAt;
  if (changes.entitiesDone !== undefined) set.entities_done = changes.entitiesDone;
  if (changes.entitiesTotal !== undefined) set.entities_total = changes.entitiesTotal;
  if (changes.rowsWritten !== undefined) set.rows_written = changes.rowsWritten;
  if (changes.bytes !== undefined) set.bytes = changes.bytes;
  if (changes.manifestSha256 !== undefined) set.manifest_sha256 = changes.manifestSha256;
  if (changes.error !== undefined) set.error = changes.error;
  if (changes.errorCode !== undefined) set.error_code = changes.errorCode;
  if (changes.heartbeatAt !== undefined) set.heartbeat_at = changes.heartbeatAt;
  if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt;
  return set;
}

export class ExportJobRepository implements ExportJobStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(job: ExportJobRecord): Promise<void> {
    await this.db
      .insertInto('tenant_exports')
      .values({
        tenant_id: this.tenantId,
        id: job.id,
        status: job.status,
        requested_by: job.requestedBy,
        created_at: job.createdAt,
        finished_at: job.finishedAt,
        entities_done: job.entitiesDone,
        entities_total: job.entitiesTotal,
        rows_written: job.rowsWritten,
        bytes: job.bytes,
        manifest_sha256: job.manifestSha256,
        error: job.error,
        error_code: job.errorCode,
        heartbeat_at: job.heartbeatAt,
        expires_at: job.expiresAt,
      })
      .execute();
  }

  async get(id: string): Promise<ExportJobRecord | undefined> {
    const row = await this.db
      .selectFrom('tenant_exports')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async updateRunning(id: string, changes: ExportJobChanges): Promise<boolean> {
    const result = await this.db
      .updateTable('tenant_exports')
      .set(toColumns(changes))
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listStale(before: number): Promise<ExportJobRecord[]> {
    const rows = await this.db
      .selectFrom('tenant_exports')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('status', '=', 'running')
      .where((eb) => eb.or([eb('heartbeat_at', '<', before), eb.and([eb('heartbeat_at', 'is', null), eb('created_at', '<', before)])]))
      .execute();
    return rows.map(toRecord);
  }

  async listExpired(now: number): Promise<ExportJobRecord[]> {
    const rows = await this.db
      .selectFrom('tenant_exports')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('status', '=', 'completed')
      .where('expires_at', '<=', now)
      .execute();
    return rows.map(toRecord);
  }

  async markExpired(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('tenant_exports')
      .set({ status: 'expired' })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('status', '=', 'completed')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
