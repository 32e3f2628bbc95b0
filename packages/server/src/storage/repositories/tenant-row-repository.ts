/**
 * Whole-table access to one tenant's rows for export and import (domain/export): keyset pages in
 * primary-key order, so an export never holds more than one page, and batched inserts. Device rows
 * pass through the same encryption as everywhere else: pages come out decrypted (without the
 * lookup hashes), inserts are encrypted.
 */
import { sql, type Kysely } from 'kysely';
import type { ExportedRow, ExportTable, TenantRowStore } from '../../domain/export/tenant-row-store.js';
import type { CipherSource } from '../../domain/encryption/tenant-cipher.js';
import type { DeviceTable, RegionDatabase } from '../database.js';
import { cipherFor, openDeviceValues, sealDeviceValues } from './sensitive-device-columns.js';

type AnyDatabase = Record<string, Record<string, unknown>>;

/** Rows per INSERT: well under SQLite's bound-parameter limit for the widest table (devices). */
const INSERT_BATCH = 100;

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
    const cipher = table === 'devices' ? await cipherFor(this.cipher, rows) : undefined;
    return rows.map((stored) => {
      const row: ExportedRow = { ...(cipher ? openDeviceValues(cipher, stored as Partial<DeviceTable>) : stored) };
      delete row['tenant_id'];
      if (table === 'devices') {
        delete row['serial_number_hash'];
        delete row['user_email_hash'];
      }
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
    const cipher = table === 'devices' ? await this.cipher() : undefined;
    const values = rows.map((row) => {
      const value = { ...row, tenant_id: this.tenantId };
      return cipher ? sealDeviceValues(cipher, value as Partial<DeviceTable>) : value;
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
