/**
 * The device columns that hold a privacy-catalog field marked sensitive, and how they are stored:
 * encrypted with the tenant's data key (domain/encryption/tenant-cipher.ts), with a keyed hash next
 * to the ones that equality lookups need (serial number search, a user's devices). Derived from the
 * catalog, so a field newly marked sensitive is encrypted without touching this list.
 */
import { CATALOG_FIELDS } from '@custos/shared';
import type { Kysely } from 'kysely';
import type { CipherSource, TenantCipher } from '../../domain/encryption/tenant-cipher.js';
import { keyVersionOf } from '../../domain/encryption/tenant-cipher.js';
import type { DeviceTable, RegionDatabase } from '../database.js';
import { HARDWARE_COLUMNS } from './hardware-columns.js';

export type SensitiveDeviceColumn = 'serial_number' | 'exchange_device_id' | 'wifi_mac' | 'ethernet_mac' | 'imei' | 'user_email';

/** Catalog field → devices column, for every sensitive field stored on the devices table. */
const FIELD_COLUMNS: Record<string, SensitiveDeviceColumn> = {
  ...Object.fromEntries(Object.entries(HARDWARE_COLUMNS).map(([field, spec]) => [field, spec.column])),
  userEmail: 'user_email',
};

export const SENSITIVE_DEVICE_COLUMNS: readonly SensitiveDeviceColumn[] = CATALOG_FIELDS.filter(
  (f) => f.sensitivity === 'sensitive' && FIELD_COLUMNS[f.name] !== undefined,
).map((f) => FIELD_COLUMNS[f.name] as SensitiveDeviceColumn);

/** Hash columns for equality lookups; the email hash is over the lower-cased address (emails match case-insensitively). */
export const LOOKUP_HASHES = { serial_number: 'serial_number_hash', user_email: 'user_email_hash' } as const;

export function normalizeForLookup(column: keyof typeof LOOKUP_HASHES, value: string): string {
  return column === 'user_email' ? value.toLowerCase() : value;
}

type DeviceValues = Partial<DeviceTable>;

/** Encrypts the sensitive columns present in `values` and sets their lookup hashes. */
export function sealDeviceValues<T extends DeviceValues>(cipher: TenantCipher, values: T): T {
  const sealed: DeviceValues = { ...values };
  for (const column of SENSITIVE_DEVICE_COLUMNS) {
    if (!Object.hasOwn(values, column)) continue;
    const clear = values[column] ?? null;
    sealed[column] = cipher.encryptNullable(column, clear);
    if (column === 'serial_number' || column === 'user_email') {
      sealed[LOOKUP_HASHES[column]] = clear === null ? null : cipher.searchHash(column, normalizeForLookup(column, clear));
    }
  }
  return sealed as T;
}

/** The row with its sensitive columns decrypted. */
export function openDeviceValues<T extends Partial<Pick<DeviceTable, SensitiveDeviceColumn>>>(cipher: TenantCipher, row: T): T {
  const open: Partial<Pick<DeviceTable, SensitiveDeviceColumn>> = { ...row };
  for (const column of SENSITIVE_DEVICE_COLUMNS) {
    const stored = row[column];
    if (typeof stored === 'string') open[column] = cipher.decrypt(column, stored);
  }
  return open as T;
}

/**
 * The tenant's cipher, re-read when a row carries a key version this process has not loaded yet
 * (another process rotated the key since).
 */
export async function cipherFor(
  source: CipherSource,
  rows: readonly Partial<Pick<DeviceTable, SensitiveDeviceColumn>>[],
): Promise<TenantCipher> {
  const cipher = await source();
  for (const row of rows) {
    for (const column of SENSITIVE_DEVICE_COLUMNS) {
      const stored = row[column];
      if (typeof stored !== 'string') continue;
      const version = keyVersionOf(stored);
      if (version !== undefined && !cipher.knows(version)) return source({ refresh: true });
    }
  }
  return cipher;
}

const SELECT_SENSITIVE = ['tenant_id', 'id', ...SENSITIVE_DEVICE_COLUMNS] as const;

/** True when one of the row's sensitive values is plaintext or under an older key version. */
function isStale(cipher: TenantCipher, row: Partial<Pick<DeviceTable, SensitiveDeviceColumn>>): boolean {
  return SENSITIVE_DEVICE_COLUMNS.some((c) => cipher.isStale(row[c] ?? null));
}

async function rewriteRow(
  db: Kysely<RegionDatabase>,
  cipher: TenantCipher,
  row: Pick<DeviceTable, 'tenant_id' | 'id' | SensitiveDeviceColumn>,
): Promise<void> {
  const clear = openDeviceValues(cipher, row);
  const values: DeviceValues = {};
  for (const column of SENSITIVE_DEVICE_COLUMNS) values[column] = clear[column];
  await db
    .updateTable('devices')
    .set(sealDeviceValues(cipher, values))
    .where('tenant_id', '=', row.tenant_id)
    .where('id', '=', row.id)
    .execute();
}

/**
 * Re-encrypts up to `limit` devices of one tenant after `afterId` (keyset order) whose sensitive
 * values are plaintext or under an older key version. Each batch is one short transaction, so
 * check-ins keep running while a rotation proceeds.
 */
export async function reencryptDeviceBatch(
  db: Kysely<RegionDatabase>,
  tenantId: string,
  cipher: TenantCipher,
  afterId: string | null,
  limit: number,
): Promise<{ lastId: string | null; scanned: number; rewritten: number }> {
  return db.transaction().execute(async (trx) => {
    let q = trx.selectFrom('devices').select(SELECT_SENSITIVE).where('tenant_id', '=', tenantId);
    if (afterId !== null) q = q.where('id', '>', afterId);
    const rows = await q.orderBy('id').limit(limit).execute();
    let rewritten = 0;
    for (const row of rows) {
      if (!isStale(cipher, row)) continue;
      await rewriteRow(trx, cipher, row);
      rewritten++;
    }
    return { lastId: rows.at(-1)?.id ?? null, scanned: rows.length, rewritten };
  });
}

/** The one-time step after migration 0012: encrypts every device value still stored in clear. */
export async function encryptLegacyDeviceValues(
  db: Kysely<RegionDatabase>,
  cipherOf: (tenantId: string) => Promise<TenantCipher>,
): Promise<number> {
  const tenants = await db.selectFrom('devices').select('tenant_id').distinct().execute();
  let rewritten = 0;
  for (const { tenant_id } of tenants) {
    const cipher = await cipherOf(tenant_id);
    let afterId: string | null = null;
    for (;;) {
      const batch = await reencryptDeviceBatch(db, tenant_id, cipher, afterId, 500);
      rewritten += batch.rewritten;
      if (batch.scanned < 500) break;
      afterId = batch.lastId;
    }
  }
  return rewritten;
}
