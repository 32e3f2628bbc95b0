import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type {
  DeviceListQuery,
  DeviceSortField,
  HardwareInventory,
  ManagementChannel,
  Ownership,
  Platform,
  ComplianceState,
} from '@custos/shared';
import { DomainError } from '../../domain/domain-error.js';
import type { CheckInTarget, DevicePage, DeviceRecord, DeviceStore, StoredApp } from '../../domain/devices/device-store.js';
import type { DeviceAppTable, DeviceTable, RegionDatabase } from '../database.js';
import { columnsToHardware, fullHardwareToColumns, hardwareToColumns } from './hardware-columns.js';

/**
 * Sort keys for keyset paging. NULLs sort as a sentinel through COALESCE so the (value, id) pair is
 * totally ordered and the same expression is used in ORDER BY, in the cursor comparison and in the
 * migration's indexes.
 */
const SORT_EXPRESSIONS: Record<DeviceSortField, { sql: ReturnType<typeof sql.raw>; numeric: boolean }> = {
  deviceName: { sql: sql.raw("coalesce(device_name, '')"), numeric: false },
  lastCheckInAt: { sql: sql.raw('coalesce(last_check_in_at, -1)'), numeric: true },
  enrolledAt: { sql: sql.raw('enrolled_at'), numeric: true },
  osVersion: { sql: sql.raw("coalesce(os_version, '')"), numeric: false },
  serialNumber: { sql: sql.raw("coalesce(serial_number, '')"), numeric: false },
  model: { sql: sql.raw("coalesce(model, '')"), numeric: false },
};

/** Rows per INSERT when storing apps: well under SQLite's bound-parameter limit and PostgreSQL's. */
const APP_INSERT_BATCH = 500;

interface Cursor {
  sort: DeviceSortField;
  order: 'asc' | 'desc';
  value: string | number;
  id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.order, cursor.value, cursor.id])).toString('base64url');
}

function decodeCursor(text: string, sort: DeviceSortField, order: 'asc' | 'desc'): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 4) {
      const [s, o, value, id] = parsed as unknown[];
      const numeric = SORT_EXPRESSIONS[sort].numeric;
      if (s === sort && o === order && typeof id === 'string' && (numeric ? typeof value === 'number' : typeof value === 'string')) {
        return { sort, order, value: value as string | number, id };
      }
    }
  } catch {
    // fall through to the refusal below
  }
  throw new DomainError('invalid-cursor', 'The cursor does not belong to this list or sort order; start again without a cursor.');
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toRecord(row: DeviceTable): DeviceRecord {
  return {
    id: row.id,
    platform: row.platform as Platform,
    managementChannel: row.management_channel as ManagementChannel,
    ownership: row.ownership as Ownership,
    status: row.status as 'active' | 'retired',
    complianceState: row.compliance_state as ComplianceState,
    appListPolicyApplies: row.app_list_policy === 1,
    hardware: columnsToHardware(row),
    userEmail: row.user_email,
    enrollmentTokenId: row.enrollment_token_id,
    consent: {
      privacyStatementVersion: row.consent_statement_version,
      acceptedAt: row.consent_accepted_at,
      method: row.consent_method as 'interactive' | 'unattended',
    },
    certificatePem: row.certificate_pem,
    certificateSerial: row.certificate_serial,
    publicKeySpki: row.public_key_spki,
    requestSeq: row.request_seq,
    inventoryDigest: row.inventory_digest,
    lastCheckInAt: row.last_check_in_at,
    enrolledAt: row.enrolled_at,
    retiredAt: row.retired_at,
  };
}

function appRows(tenantId: string, deviceId: string, apps: StoredApp[]): DeviceAppTable[] {
  return apps.map((a) => ({
    tenant_id: tenantId,
    device_id: deviceId,
    app_key: a.key,
    name: a.name,
    version: a.version,
    app_id: a.appId,
    install_location: a.installLocation,
    size_bytes: a.sizeBytes,
    managed: a.managed ? 1 : 0,
  }));
}

export class DeviceRepository implements DeviceStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(device: DeviceRecord): Promise<void> {
    await this.db
      .insertInto('devices')
      .values({
        tenant_id: this.tenantId,
        id: device.id,
        platform: device.platform,
        management_channel: device.managementChannel,
        ownership: device.ownership,
        status: device.status,
        compliance_state: device.complianceState,
        app_list_policy: device.appListPolicyApplies ? 1 : 0,
        ...fullHardwareToColumns(device.hardware),
        user_email: device.userEmail,
        enrollment_token_id: device.enrollmentTokenId,
        consent_statement_version: device.consent.privacyStatementVersion,
        consent_accepted_at: device.consent.acceptedAt,
        consent_method: device.consent.method,
        certificate_pem: device.certificatePem,
        certificate_serial: device.certificateSerial,
        public_key_spki: device.publicKeySpki,
        request_seq: device.requestSeq,
        inventory_digest: device.inventoryDigest,
        inventory_updated_at: null,
        last_check_in_at: device.lastCheckInAt,
        enrolled_at: device.enrolledAt,
        retired_at: device.retiredAt,
      })
      .execute();
  }

  async get(id: string): Promise<DeviceRecord | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async list(query: DeviceListQuery): Promise<DevicePage> {
    const sort = query.sort ?? 'deviceName';
    const order = query.order ?? 'asc';
    const limit = query.limit ?? 100;
    const key = SORT_EXPRESSIONS[sort];
    let q = this.db.selectFrom('devices').selectAll().where('tenant_id', '=', this.tenantId);
    if (query.platform) q = q.where('platform', '=', query.platform);
    if (query.operatingSystem) q = q.where('operating_system', '=', query.operatingSystem);
    if (query.osVersion) q = q.where('os_version', '=', query.osVersion);
    if (query.ownership) q = q.where('ownership', '=', query.ownership);
    if (query.complianceState) q = q.where('compliance_state', '=', query.complianceState);
    q = q.where('status', '=', query.status ?? 'active');
    if (query.lastCheckInAfter) q = q.where('last_check_in_at', '>=', Date.parse(query.lastCheckInAfter));
    if (query.lastCheckInBefore) q = q.where('last_check_in_at', '<', Date.parse(query.lastCheckInBefore));
    if (query.search) {
      const pattern = `%${escapeLike(query.search.toLowerCase())}%`;
      const search = query.search;
      q = q.where((eb) =>
        eb.or([eb(sql`lower(device_name)`, 'like', sql<string>`${pattern} escape '\\'`), eb('serial_number', '=', search)]),
      );
    }
    if (query.cursor) {
      const cursor = decodeCursor(query.cursor, sort, order);
      const op = order === 'asc' ? sql.raw('>') : sql.raw('<');
      q = q.where(
        sql<SqlBool>`(${key.sql} ${op} ${cursor.value} or (${key.sql} = ${cursor.value} and id ${op} ${cursor.id}))` as Expression<SqlBool>,
      );
    }
    const rows = await q
      .orderBy(key.sql, order)
      .orderBy('id', order)
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit).map(toRecord);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      items: page,
      nextCursor: last ? encodeCursor({ sort, order, value: sortValue(sort, last), id: last.id }) : null,
    };
  }

  async countActiveForUser(userEmail: string): Promise<number> {
    const row = await this.db
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where('user_email', '=', userEmail)
      .where('status', '=', 'active')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async listApps(id: string): Promise<StoredApp[]> {
    const rows = await this.db
      .selectFrom('device_apps')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', id)
      .orderBy('name')
      .orderBy('app_key')
      .execute();
    return rows.map((r) => ({
      key: r.app_key,
      name: r.name,
      version: r.version,
      appId: r.app_id,
      installLocation: r.install_location,
      sizeBytes: r.size_bytes,
      managed: r.managed === 1,
    }));
  }

  async findActiveCredential(id: string): Promise<{ publicKeySpki: string; requestSeq: number } | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .select(['public_key_spki', 'request_seq'])
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    return row && { publicKeySpki: row.public_key_spki, requestSeq: row.request_seq };
  }

  async recordRequest(id: string, seq: number, at: number, checkIn: boolean): Promise<CheckInTarget | undefined> {
    const row = await this.db
      .updateTable('devices')
      .set(checkIn ? { request_seq: seq, last_check_in_at: at } : { request_seq: seq })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('status', '=', 'active')
      .where('request_seq', '<', seq)
      .returning(['platform', 'ownership', 'app_list_policy', 'inventory_digest', 'enrolled_at'])
      .executeTakeFirst();
    return (
      row && {
        platform: row.platform as Platform,
        ownership: row.ownership as Ownership,
        appListPolicyApplies: row.app_list_policy === 1,
        inventoryDigest: row.inventory_digest,
        enrolledAt: row.enrolled_at,
      }
    );
  }

  async replaceInventory(id: string, hardware: HardwareInventory, apps: StoredApp[], digest: string, at: number): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ ...fullHardwareToColumns(hardware), inventory_digest: digest, inventory_updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
    await this.db.deleteFrom('device_apps').where('tenant_id', '=', this.tenantId).where('device_id', '=', id).execute();
    await this.insertApps(id, apps);
  }

  async applyInventoryDelta(
    id: string,
    hardware: HardwareInventory,
    upsert: StoredApp[],
    removeKeys: string[],
    digest: string,
    at: number,
  ): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ ...hardwareToColumns(hardware), inventory_digest: digest, inventory_updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
    const gone = [...removeKeys, ...upsert.map((a) => a.key)];
    for (let i = 0; i < gone.length; i += APP_INSERT_BATCH) {
      await this.db
        .deleteFrom('device_apps')
        .where('tenant_id', '=', this.tenantId)
        .where('device_id', '=', id)
        .where('app_key', 'in', gone.slice(i, i + APP_INSERT_BATCH))
        .execute();
    }
    await this.insertApps(id, upsert);
  }

  async retire(id: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('devices')
      .set({ status: 'retired', retired_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    await this.db.deleteFrom('device_apps').where('tenant_id', '=', this.tenantId).where('device_id', '=', id).execute();
    return result.numUpdatedRows > 0n;
  }

  private async insertApps(id: string, apps: StoredApp[]): Promise<void> {
    const rows = appRows(this.tenantId, id, apps);
    for (let i = 0; i < rows.length; i += APP_INSERT_BATCH) {
      await this.db
        .insertInto('device_apps')
        .values(rows.slice(i, i + APP_INSERT_BATCH))
        .execute();
    }
  }
}

function sortValue(sort: DeviceSortField, row: DeviceTable): string | number {
  switch (sort) {
    case 'deviceName':
      return row.device_name ?? '';
    case 'lastCheckInAt':
      return row.last_check_in_at ?? -1;
    case 'enrolledAt':
      return row.enrolled_at;
    case 'osVersion':
      return row.os_version ?? '';
    case 'serialNumber':
      return row.serial_number ?? '';
    case 'model':
      return row.model ?? '';
  }
}
