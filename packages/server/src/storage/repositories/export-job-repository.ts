import type { Kysely } from 'kysely';
import type { ExportJobRecord, ExportJobStore, ExportStatus } from '../../domain/export/export-job-store.js';
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
  };
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

  async update(id: string, changes: Partial<Omit<ExportJobRecord, 'id' | 'requestedBy' | 'createdAt'>>): Promise<void> {
    const set: Partial<TenantExportTable> = {};
    if (changes.status !== undefined) set.status = changes.status;
    if (changes.finishedAt !== undefined) set.finished_at = changes.finishedAt;
    if (changes.entitiesDone !== undefined) set.entities_done = changes.entitiesDone;
    if (changes.entitiesTotal !== undefined) set.entities_total = changes.entitiesTotal;
    if (changes.rowsWritten !== undefined) set.rows_written = changes.rowsWritten;
    if (changes.bytes !== undefined) set.bytes = changes.bytes;
    if (changes.manifestSha256 !== undefined) set.manifest_sha256 = changes.manifestSha256;
    if (changes.error !== undefined) set.error = changes.error;
    await this.db.updateTable('tenant_exports').set(set).where('tenant_id', '=', this.tenantId).where('id', '=', id).execute();
  }
}
