/**
 * How each catalog hardware field is stored on the devices table. A catalog field with no column
 * here fails the storage test suite, so the catalog and the schema cannot drift apart.
 */
import type { HardwareInventory, HardwareValue } from '@custos/shared';
import type { DeviceTable } from '../database.js';

type HardwareColumn = keyof DeviceTable;
/** The hardware columns of a device row, as written by an insert or update. */
export type HardwareColumnValues = Partial<Pick<DeviceTable, (typeof HARDWARE_COLUMNS)[keyof typeof HARDWARE_COLUMNS]['column']>>;

export const HARDWARE_COLUMNS = {
  deviceName: { column: 'device_name', kind: 'text' },
  manufacturer: { column: 'manufacturer', kind: 'text' },
  model: { column: 'model', kind: 'text' },
  operatingSystem: { column: 'operating_system', kind: 'text' },
  osVersion: { column: 'os_version', kind: 'text' },
  processor: { column: 'processor', kind: 'text' },
  serialNumber: { column: 'serial_number', kind: 'text' },
  cellularTechnology: { column: 'cellular_technology', kind: 'text' },
  jailBroken: { column: 'jail_broken', kind: 'boolean' },
  freeStorageBytes: { column: 'free_storage_bytes', kind: 'integer' },
  totalStorageBytes: { column: 'total_storage_bytes', kind: 'integer' },
  exchangeDeviceId: { column: 'exchange_device_id', kind: 'text' },
  wifiMac: { column: 'wifi_mac', kind: 'text' },
  ethernetMac: { column: 'ethernet_mac', kind: 'text' },
  encrypted: { column: 'encrypted', kind: 'boolean' },
  imei: { column: 'imei', kind: 'text' },
  supervised: { column: 'supervised', kind: 'boolean' },
  secureBoot: { column: 'secure_boot', kind: 'boolean' },
  passwordRequired: { column: 'password_required', kind: 'boolean' },
  passwordMinimumLength: { column: 'password_minimum_length', kind: 'integer' },
  passwordType: { column: 'password_type', kind: 'text' },
  firewallEnabled: { column: 'firewall_enabled', kind: 'boolean' },
} as const satisfies Record<string, { column: HardwareColumn; kind: 'text' | 'boolean' | 'integer' }>;

export type HardwareFieldName = keyof typeof HARDWARE_COLUMNS;

function toColumnValue(kind: 'text' | 'boolean' | 'integer', value: HardwareValue | undefined): string | number | null {
  if (value === undefined || value === null) return null;
  if (kind === 'boolean') return value ? 1 : 0;
  return value as string | number;
}

/** Column values for the fields present in `hardware` (absent fields are left out, not nulled). */
export function hardwareToColumns(hardware: HardwareInventory): HardwareColumnValues {
  const values: Partial<Record<HardwareColumn, string | number | null>> = {};
  for (const [name, spec] of Object.entries(HARDWARE_COLUMNS)) {
    if (Object.hasOwn(hardware, name)) values[spec.column] = toColumnValue(spec.kind, hardware[name]);
  }
  return values as HardwareColumnValues;
}

/** Column values for a whole inventory: every field, absent ones as null. */
export function fullHardwareToColumns(hardware: HardwareInventory): HardwareColumnValues {
  const values: Partial<Record<HardwareColumn, string | number | null>> = {};
  for (const [name, spec] of Object.entries(HARDWARE_COLUMNS)) values[spec.column] = toColumnValue(spec.kind, hardware[name]);
  return values as HardwareColumnValues;
}

export function columnsToHardware(row: DeviceTable): HardwareInventory {
  const hardware: HardwareInventory = {};
  for (const [name, spec] of Object.entries(HARDWARE_COLUMNS)) {
    const raw = row[spec.column];
    hardware[name] = raw === null ? null : spec.kind === 'boolean' ? raw === 1 || raw === '1' : raw;
  }
  return hardware;
}
