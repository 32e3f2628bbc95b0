/**
 * Whole-table access to one tenant's rows for export and import (domain/export): keyset pages in
 * primary-key order, so an export never holds more than one page, and batched inserts. Rows of the
 * tables with encrypted columns (devices, users, enrollment tokens, audit events) pass through the
 * same encryption as everywhere else: pages come out decrypted (without the lookup hashes and derived
 * columns), inserts are encrypted under the importing tenant's key.
 */
import { sql, type Kysely } from 'kysely';
import type { ExportedRow, ExportTable, TenantRowStore } from '../../domain/export/tenant-row-store.js';
import type { CipherSource } from '../../domain/encryption/tenant-cipher.js';
import type { RegionDatabase } from '../database.js';
import { openRows, sealValues, type SealedColumns } from './sealed-columns.js';
import { DEVICE_COLUMNS } from './sensitive-device-columns.js';
import { ENROLLMENT_TOKEN_COLUMNS, USER_COLUMNS } from './sensitive-identity-columns.js';
import { AUDIT_EVENT_COLUMNS, IMPORTED_AUDIT_EVENT_COLUMNS } from './sensitive-audit-columns.js';

type AnyDatabase = Record<string, Record<string, unknown>>;

/** Rows per INSERT: well under SQLite's bound-parameter limit for the widest table (devices). */
const INSERT_BATCH = 100;

const SEALED: Partial<Record<ExportTable, SealedColumns>> = {
  devices: DEVICE_COLUMNS,
  users: USER_COLUMNS,
  enrollment_tokens: ENROLLMENT_TOKEN_COLUMNS,
  audit_events: AUDIT_EVENT_COLUMNS,
  imported_audit_events: IMPORTED_AUDIT_EVENT_COLUMNS,
};

export class TenantRowRepository implements TenantRowStore {
  private readonly db: Kysely<AnyDatabase>;

  constructor(
    db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {
    this.db = db as unknown as Kysely<AnyDatabase>;
  }

  async page(table: ExportTable, keyColumns: readonly string[], after: readonly unknown[] | null, limit: number): Promise<ExportedRow[]> {
    let q = this.db.selectFrom(table).selectAll().where('tenant_id', '=', this.tenantId);
    if (after !== null) {
      // Row-value comparison: the next page starts strictly after the last key (both dialects).
      q = q.where(sql<boolean>`(${sql.join(keyColumns.map((c) => sql.ref(c)))}) > (${sql.join(after.map((v) => sql`${v}`))})`);
    }
    for (const c of keyColumns) q = q.orderBy(c);
    const rows = await q.limit(limit).execute();
    const spec = SEALED[table];
    return (spec ? await openRows(this.cipher, spec, rows) : rows).map((stored) => {
      const row: ExportedRow = { ...stored };
      delete row['tenant_id'];
      for (const hash of Object.values(spec?.hashes ?? {})) if (hash !== undefined) delete row[hash];
      for (const derived of spec?.derived ?? []) delete row[derived.column];
      return row;
    });
  }

  async count(table: ExportTable): Promise<number> {
    const row = await this.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .executeTakeFirstOrThrow();
    return Number(row['n']);
  }

  async insert(table: ExportTable, rows: readonly ExportedRow[]): Promise<void> {
    const spec = SEALED[table];
    const cipher = spec ? await this.cipher() : undefined;
    const values = rows.map((row) => {
      const value = { ...row, tenant_id: this.tenantId };
      return spec && cipher ? sealValues(cipher, spec, value) : value;
    });
    for (let i = 0; i < values.length; i += INSERT_BATCH) {
      await this.db
        .insertInto(table)
        .values(values.slice(i, i + INSERT_BATCH))
        .execute();
    }
  }

  async replaceSettings(row: ExportedRow): Promise<void> {
    const values: Record<string, unknown> = { ...row };
    delete values['tenant_id'];
    await this.db.updateTable('tenant_settings').set(values).where('tenant_id', '=', this.tenantId).execute();
  }
}
