/**
 * The device columns that hold a privacy-catalog field marked sensitive, and how they are stored:
 * encrypted with the tenant's data key (storage/repositories/sealed-columns.ts), with a keyed hash
 * next to the ones that equality lookups need (serial number search, a user's devices). Derived from
 * the catalog, so a field newly marked sensitive is encrypted without touching this list.
 */
import { CATALOG_FIELDS } from '@custos/shared';
import type { Kysely } from 'kysely';
import type { CipherSource, TenantCipher } from '../../domain/encryption/tenant-cipher.js';
import type { DeviceTable, RegionDatabase } from '../database.js';
import { HARDWARE_COLUMNS } from './hardware-columns.js';
import {
  cipherForRows,
  encryptLegacyValues,
  normalizedLookupValue,
  openValues,
  reencryptBatch,
  sealValues,
  type ReencryptedBatch,
  type SealedColumns,
} from './sealed-columns.js';

export type SensitiveDeviceColumn = 'serial_number' | 'exchange_device_id' | 'wifi_mac' | 'ethernet_mac' | 'imei' | 'user_email';

/** Catalog field → devices column, for every sensitive field stored on the devices table. */
const FIELD_COLUMNS: Record<string, SensitiveDeviceColumn> = {
  ...Object.fromEntries(Object.entries(HARDWARE_COLUMNS).map(([field, spec]) => [field, spec.column])),
  userEmail: 'user_email',
};

/** Device columns keep their bare column name as associated data (the format of migration 0012). */
export const DEVICE_COLUMNS: SealedColumns<SensitiveDeviceColumn> = {
  table: 'devices',
  columns: CATALOG_FIELDS.filter((f) => f.sensitivity === 'sensitive' && FIELD_COLUMNS[f.name] !== undefined).map(
    (f) => FIELD_COLUMNS[f.name] as SensitiveDeviceColumn,
  ),
  hashes: { serial_number: 'serial_number_hash', user_email: 'user_email_hash' },
  caseInsensitive: ['user_email'],
  context: (column) => column,
};

export function normalizeForLookup(column: 'serial_number' | 'user_email', value: string): string {
  return normalizedLookupValue(DEVICE_COLUMNS, column, value);
}

/** Encrypts the sensitive columns present in `values` and sets their lookup hashes. */
export function sealDeviceValues<T extends Partial<DeviceTable>>(cipher: TenantCipher, values: T): T {
  return sealValues(cipher, DEVICE_COLUMNS, values);
}

/** The row with its sensitive columns decrypted. */
export function openDeviceValues<T extends Partial<Pick<DeviceTable, SensitiveDeviceColumn>>>(cipher: TenantCipher, row: T): T {
  return openValues(cipher, DEVICE_COLUMNS, row);
}

/** The tenant's cipher, knowing every key version the device rows carry. */
export function cipherFor(source: CipherSource, rows: readonly Partial<Pick<DeviceTable, SensitiveDeviceColumn>>[]): Promise<TenantCipher> {
  return cipherForRows(source, DEVICE_COLUMNS, rows);
}

/** Re-encrypts one keyset batch of a tenant's devices under the current key version (`custos keys rotate`). */
export function reencryptDeviceBatch(
  db: Kysely<RegionDatabase>,
  tenantId: string,
  cipher: TenantCipher,
  afterId: string | null,
  limit: number,
): Promise<ReencryptedBatch> {
  return reencryptBatch(db, DEVICE_COLUMNS, tenantId, cipher, afterId, limit);
}

/** The one-time step after migration 0012: encrypts every device value still stored in clear. */
export function encryptLegacyDeviceValues(
  db: Kysely<RegionDatabase>,
  cipherOf: (tenantId: string) => Promise<TenantCipher>,
): Promise<number> {
  return encryptLegacyValues(db, DEVICE_COLUMNS, cipherOf);
}
