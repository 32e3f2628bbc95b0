/**
 * How a table's sensitive columns are stored: encrypted with the tenant's data key
 * (domain/encryption/tenant-cipher.ts), with a keyed hash next to the ones that equality lookups
 * need. One description per table (`SealedColumns`) drives sealing on write, opening on read, the
 * re-encryption of `custos keys rotate` and the one-time encryption of values written in clear
 * before a table's columns were encrypted.
 */
import type { Kysely } from 'kysely';
import type { CipherSource, TenantCipher } from '../../domain/encryption/tenant-cipher.js';
import { keyVersionOf } from '../../domain/encryption/tenant-cipher.js';
import type { RegionDatabase } from '../database.js';

export type SealedTable = 'devices' | 'users' | 'enrollment_tokens' | 'apple_mdm_enrollments' | 'audit_events' | 'imported_audit_events';

/** A clear column computed from a sealed one on every write (never exported: an import computes it again). */
export interface DerivedColumn<C extends string = string> {
  column: string;
  from: C;
  value(clear: string | null): string | null;
}

export interface SealedColumns<C extends string = string> {
  /** A table whose rows are keyed by (tenant_id, key). */
  table: SealedTable;
  /**
   * The column the re-encryption pages by: `id` unless given — a whole-number column of the table's
   * primary key, for tables whose ids are not guaranteed unique or not indexed.
   */
  key?: 'sequence' | 'position';
  columns: readonly C[];
  /** Encrypted column → the column holding its keyed hash, for the columns looked up by value. */
  hashes: Readonly<Partial<Record<C, string>>>;
  /** Columns compared case-insensitively (emails, user names): their hash is over the lower-cased value. */
  caseInsensitive: readonly C[];
  /**
   * The name bound into the ciphertext as associated data and into the hash: the column, or
   * `table.column` for tables encrypted after devices, so a value copied to the same-named column of
   * another table does not decrypt either.
   */
  context(column: C): string;
  /** Clear columns kept beside the sealed ones (the audit tables' target ids). */
  derived?: readonly DerivedColumn<C>[];
}

type Row = Record<string, unknown>;

export function normalizedLookupValue<C extends string>(spec: SealedColumns<C>, column: C, value: string): string {
  return spec.caseInsensitive.includes(column) ? value.toLowerCase() : value;
}

/** The hashes `value` may be stored under (one per live key version), for `where hash in (...)`. */
export function lookupHashes<C extends string>(cipher: TenantCipher, spec: SealedColumns<C>, column: C, value: string): string[] {
  return cipher.searchHashes(spec.context(column), normalizedLookupValue(spec, column, value));
}

/** Encrypts the sensitive columns present in `values` and sets their lookup hashes. */
export function sealValues<T extends object>(cipher: TenantCipher, spec: SealedColumns, values: T): T {
  const clear = values as Row;
  const sealed: Row = { ...clear };
  for (const column of spec.columns) {
    if (!Object.hasOwn(clear, column)) continue;
    const value = (clear[column] ?? null) as string | null;
    sealed[column] = cipher.encryptNullable(spec.context(column), value);
    const hashColumn = spec.hashes[column];
    if (hashColumn !== undefined) {
      sealed[hashColumn] = value === null ? null : cipher.searchHash(spec.context(column), normalizedLookupValue(spec, column, value));
    }
  }
  for (const derived of spec.derived ?? []) {
    if (Object.hasOwn(clear, derived.from)) sealed[derived.column] = derived.value((clear[derived.from] ?? null) as string | null);
  }
  return sealed as T;
}

/** The row with its sensitive columns decrypted. */
export function openValues<T extends object>(cipher: TenantCipher, spec: SealedColumns, row: T): T {
  const stored = row as Row;
  const open: Row = { ...stored };
  for (const column of spec.columns) {
    const value = stored[column];
    if (typeof value === 'string') open[column] = cipher.decrypt(spec.context(column), value);
  }
  return open as T;
}

/**
 * The tenant's cipher, re-read when a row carries a key version this process has not loaded yet
 * (another process rotated the key since).
 */
export async function cipherForRows(source: CipherSource, spec: SealedColumns, rows: readonly object[]): Promise<TenantCipher> {
  const cipher = await source();
  for (const row of rows) {
    for (const column of spec.columns) {
      const stored = (row as Row)[column];
      if (typeof stored !== 'string') continue;
      const version = keyVersionOf(stored);
      if (version !== undefined && !cipher.knows(version)) return source({ refresh: true });
    }
  }
  return cipher;
}

/** Decrypts rows read from the store, with a cipher that knows every key version they carry. */
export async function openRows<T extends object>(source: CipherSource, spec: SealedColumns, rows: readonly T[]): Promise<T[]> {
  if (rows.length === 0) return [];
  const cipher = await cipherForRows(source, spec, rows);
  return rows.map((row) => openValues(cipher, spec, row));
}

export interface ReencryptedBatch {
  lastId: string | null;
  scanned: number;
  rewritten: number;
}

/**
 * Re-encrypts up to `limit` rows of one tenant after `afterId` (keyset order) whose sensitive
 * values are plaintext or under an older key version. Each batch is one short transaction, so
 * requests keep running while a rotation proceeds.
 */
export async function reencryptBatch(
  db: Kysely<RegionDatabase>,
  spec: SealedColumns,
  tenantId: string,
  cipher: TenantCipher,
  afterId: string | null,
  limit: number,
): Promise<ReencryptedBatch> {
  const any = db as unknown as Kysely<Record<string, Row>>;
  const key = spec.key ?? 'id';
  return any.transaction().execute(async (trx) => {
    let q = trx
      .selectFrom(spec.table)
      .select([key, ...spec.columns])
      .where('tenant_id', '=', tenantId);
    if (afterId !== null) q = q.where(key, '>', key === 'id' ? afterId : Number(afterId));
    const rows = await q.orderBy(key).limit(limit).execute();
    let rewritten = 0;
    for (const row of rows) {
      if (!spec.columns.some((c) => cipher.isStale((row[c] ?? null) as string | null))) continue;
      const clear = openValues(cipher, spec, row);
      const values: Row = {};
      for (const column of spec.columns) values[column] = clear[column] ?? null;
      await trx
        .updateTable(spec.table)
        .set(sealValues(cipher, spec, values))
        .where('tenant_id', '=', tenantId)
        .where(key, '=', row[key])
        .execute();
      rewritten++;
    }
    const last = rows.at(-1);
    return { lastId: last ? String(last[key]) : null, scanned: rows.length, rewritten };
  });
}

/**
 * The one-time step after the migration that encrypts a table: seals every value still stored in
 * clear (and fills its derived columns). Values already sealed are skipped, so a rerun does nothing.
 */
export async function encryptLegacyValues(
  db: Kysely<RegionDatabase>,
  spec: SealedColumns,
  cipherOf: (tenantId: string) => Promise<TenantCipher>,
): Promise<number> {
  const any = db as unknown as Kysely<Record<string, Row>>;
  const tenants = await any.selectFrom(spec.table).select('tenant_id').distinct().execute();
  let rewritten = 0;
  for (const { tenant_id } of tenants) {
    const cipher = await cipherOf(String(tenant_id));
    let afterId: string | null = null;
    for (;;) {
      const batch = await reencryptBatch(db, spec, String(tenant_id), cipher, afterId, 500);
      rewritten += batch.rewritten;
      if (batch.scanned < 500) break;
      afterId = batch.lastId;
    }
  }
  return rewritten;
}
