import { CompiledQuery, sql, type Expression, type Kysely, type SelectQueryBuilder, type SqlBool } from 'kysely';
import {
  appInventoryScope,
  type AppInventoryScope,
  type ComplianceState,
  type DeviceFilter,
  type DeviceListQuery,
  type DeviceSortField,
  type HardwareInventory,
  type ManagementChannel,
  type Ownership,
  type Platform,
} from '@custos/shared';
import { DomainError } from '../../domain/domain-error.js';
import { isPostgres } from '../dialects/postgres.js';
import type { CheckInTarget, DevicePage, DeviceRecord, DeviceStore, StoredApp } from '../../domain/devices/device-store.js';
import type { DeviceAppTable, DeviceCheckInStateTable, DeviceTable, RegionDatabase } from '../database.js';
import { columnsToHardware, fullHardwareToColumns, hardwareToColumns } from './hardware-columns.js';
import { escapeLike } from './like.js';
import { scopeTagsFrom, scopeTagsJson } from './scope-tag-columns.js';
import type { CipherSource, TenantCipher } from '../../domain/encryption/tenant-cipher.js';
import { cipherFor, normalizeForLookup, openDeviceValues, reencryptDeviceBatch, sealDeviceValues } from './sensitive-device-columns.js';

/**
 * Sort keys for keyset paging. NULLs sort as a sentinel through COALESCE so the (value, id) pair is
 * totally ordered and the same expression is used in ORDER BY, in the cursor comparison and in the
 * migration's indexes.
 */
const SORT_EXPRESSIONS: Record<DeviceSortField, { sql: ReturnType<typeof sql.raw>; numeric: boolean }> = {
  deviceName: { sql: sql.raw("coalesce(device_name, '')"), numeric: false },
  lastCheckInAt: { sql: sql.raw('coalesce(s.last_check_in_at, -1)'), numeric: true },
  enrolledAt: { sql: sql.raw('devices.enrolled_at'), numeric: true },
  osVersion: { sql: sql.raw("coalesce(os_version, '')"), numeric: false },
  // Serial numbers are stored encrypted: this orders by an opaque key, stable for paging only.
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

/**
 * Keeps the devices carrying one of `scopeTags` (null or absent: every device). Tags are stored as
 * a JSON array and restricted to `[a-z0-9._-]` (domain/devices/device-scope.ts), so a LIKE on the
 * quoted tag matches exactly one element on both dialects.
 */
export function withScopeTags<Q extends DeviceQuery<unknown>>(q: Q, scopeTags: readonly string[] | null | undefined): Q {
  if (!scopeTags) return q;
  return q.where((eb) =>
    eb.or(scopeTags.map((tag) => eb('devices.scope_tags', 'like', sql<string>`${`%"${escapeLike(tag)}"%`} escape '\\'`))),
  ) as Q;
}

/** A query over devices joined with their check-in state (as `s`), selecting `O`. */
export type DeviceQuery<O> = SelectQueryBuilder<RegionDatabase & { s: DeviceCheckInStateTable }, 'devices' | 's', O>;

/** A device row joined with the columns of its check-in state. */
type DeviceRow = DeviceTable & Pick<DeviceCheckInStateTable, 'request_seq' | 'last_check_in_at' | 'inventory_digest'>;

/** `row` (as stored) with its sensitive values decrypted, as a domain record. */
function toRecord(cipher: TenantCipher, stored: DeviceRow): DeviceRecord {
  const row = openDeviceValues(cipher, stored);
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
    scopeTags: scopeTagsFrom(row.scope_tags),
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

interface RecordRequestRow {
  platform: string;
  app_inventory_scope: string;
  inventory_digest: string | null;
  enrolled_at: number;
  pending_commands: number;
  profiles_digest: string | null;
}

/**
 * The check-in's one statement, compiled once per database and reused with new parameters: it runs
 * for every device request, and building it through the query builder each time costs as much as
 * running it. Built from sentinel values whose positions in the parameter list are then filled.
 */
const recordRequestTemplates = new WeakMap<Kysely<RegionDatabase>, Map<boolean, CompiledQuery>>();
const SENTINEL = { seq: -9_000_000_001, at: -9_000_000_002, tenantId: '\u0000tenant', deviceId: '\u0000device' } as const;

function recordRequestQuery(
  db: Kysely<RegionDatabase>,
  checkIn: boolean,
  values: { seq: number; at: number; tenantId: string; deviceId: string },
): CompiledQuery<RecordRequestRow> {
  let templates = recordRequestTemplates.get(db);
  if (!templates) recordRequestTemplates.set(db, (templates = new Map<boolean, CompiledQuery>()));
  let template = templates.get(checkIn);
  if (!template) {
    template = db
      .updateTable('device_checkin_state')
      .set(checkIn ? { request_seq: SENTINEL.seq, last_check_in_at: SENTINEL.at } : { request_seq: SENTINEL.seq })
      .where('tenant_id', '=', SENTINEL.tenantId)
      .where('device_id', '=', SENTINEL.deviceId)
      .where('active', '=', 1)
      .where('request_seq', '<', SENTINEL.seq)
      .returning(['platform', 'app_inventory_scope', 'inventory_digest', 'enrolled_at', 'pending_commands', 'profiles_digest'])
      .compile();
    templates.set(checkIn, template);
  }
  const parameters = template.parameters.map((p) =>
    p === SENTINEL.seq
      ? values.seq
      : p === SENTINEL.at
        ? values.at
        : p === SENTINEL.tenantId
          ? values.tenantId
          : p === SENTINEL.deviceId
            ? values.deviceId
            : p,
  );
  return CompiledQuery.raw(template.sql, parameters);
}

export class DeviceRepository implements DeviceStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {}

  async insert(device: DeviceRecord): Promise<void> {
    const cipher = await this.cipher();
    await this.db
      .insertInto('devices')
      .values(
        sealDeviceValues(cipher, {
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
          inventory_updated_at: null,
          enrolled_at: device.enrolledAt,
          retired_at: device.retiredAt,
          scope_tags: scopeTagsJson(device.scopeTags ?? []),
          serial_number_hash: null,
          user_email_hash: null,
        }),
      )
      .execute();
    await this.db
      .insertInto('device_checkin_state')
      .values({
        tenant_id: this.tenantId,
        device_id: device.id,
        active: device.status === 'active' ? 1 : 0,
        request_seq: device.requestSeq,
        last_check_in_at: device.lastCheckInAt,
        inventory_digest: device.inventoryDigest,
        app_inventory_scope: appInventoryScope(device.ownership, device.platform, device.appListPolicyApplies),
        platform: device.platform,
        enrolled_at: device.enrolledAt,
        pending_commands: 0,
      })
      .execute();
  }

  /** Devices joined with their check-in state; every filter names its table. */
  private selectDevices() {
    return this.fromDevices().selectAll('devices').select(['s.request_seq', 's.last_check_in_at', 's.inventory_digest']);
  }

  private fromDevices() {
    return this.db
      .selectFrom('devices')
      .innerJoin('device_checkin_state as s', (join) =>
        join.onRef('s.tenant_id', '=', 'devices.tenant_id').onRef('s.device_id', '=', 'devices.id'),
      )
      .where('devices.tenant_id', '=', this.tenantId);
  }

  async get(id: string): Promise<DeviceRecord | undefined> {
    const row = await this.selectDevices().where('devices.id', '=', id).executeTakeFirst();
    return row && toRecord(await cipherFor(this.cipher, [row]), row);
  }

  async list(query: DeviceListQuery, scopeTags?: readonly string[] | null): Promise<DevicePage> {
    const sort = query.sort ?? 'deviceName';
    const order = query.order ?? 'asc';
    const limit = query.limit ?? 100;
    const key = SORT_EXPRESSIONS[sort];
    if (scopeTags?.length === 0) return { items: [], nextCursor: null };
    let q = withScopeTags(this.filterDevices(this.selectDevices(), query, await this.serialHashes(query)), scopeTags);
    if (query.cursor) {
      const cursor = decodeCursor(query.cursor, sort, order);
      const op = order === 'asc' ? sql.raw('>') : sql.raw('<');
      q = q.where(
        sql<SqlBool>`(${key.sql} ${op} ${cursor.value} or (${key.sql} = ${cursor.value} and id ${op} ${cursor.id}))` as Expression<SqlBool>,
      );
    }
    const rows = await q
      .orderBy(key.sql, order)
      .orderBy('devices.id', order)
      .limit(limit + 1)
      .execute();
    const cipher = await cipherFor(this.cipher, rows);
    const page = rows.slice(0, limit).map((row) => toRecord(cipher, row));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      items: page,
      nextCursor: last ? encodeCursor({ sort, order, value: sortValue(sort, last), id: last.id }) : null,
    };
  }

  async listIds(filter: DeviceFilter, limit: number, onlyIds?: readonly string[], scopeTags?: readonly string[] | null): Promise<string[]> {
    if (onlyIds?.length === 0 || scopeTags?.length === 0) return [];
    let q = withScopeTags(this.filterDevices(this.fromDevices(), filter, await this.serialHashes(filter)), scopeTags);
    if (onlyIds) q = q.where('devices.id', 'in', onlyIds);
    const rows = await q.select('devices.id').orderBy('devices.id').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  /** The keyed hashes an exact serial-number search matches (one per live key version). */
  private async serialHashes(query: DeviceFilter): Promise<string[]> {
    if (!query.search) return [];
    return (await this.cipher()).searchHashes('serial_number', normalizeForLookup('serial_number', query.search));
  }

  /** The list's filters, shared by the list and by bulk actions so both select the same devices. */
  private filterDevices<O>(q: DeviceQuery<O>, query: DeviceFilter, serialHashes: readonly string[]): DeviceQuery<O> {
    if (query.platform) q = q.where('devices.platform', '=', query.platform);
    if (query.operatingSystem) q = q.where('devices.operating_system', '=', query.operatingSystem);
    if (query.osVersion) q = q.where('devices.os_version', '=', query.osVersion);
    if (query.ownership) q = q.where('devices.ownership', '=', query.ownership);
    if (query.complianceState) q = q.where('devices.compliance_state', '=', query.complianceState);
    q = q.where('devices.status', '=', query.status ?? 'active');
    if (query.lastCheckInAfter) q = q.where('s.last_check_in_at', '>=', Date.parse(query.lastCheckInAfter));
    if (query.lastCheckInBefore) q = q.where('s.last_check_in_at', '<', Date.parse(query.lastCheckInBefore));
    if (query.search) {
      const pattern = `%${escapeLike(query.search.toLowerCase())}%`;
      q = q.where((eb) =>
        eb.or([
          eb(sql`lower(devices.device_name)`, 'like', sql<string>`${pattern} escape '\\'`),
          eb('devices.serial_number_hash', 'in', [...serialHashes]),
        ]),
      );
    }
    return q;
  }

  async setScopeTags(id: string, scopeTags: readonly string[]): Promise<boolean> {
    const r = await this.db
      .updateTable('devices')
      .set({ scope_tags: scopeTagsJson(scopeTags) })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async countActiveForUser(userEmail: string): Promise<number> {
    const hashes = (await this.cipher()).searchHashes('user_email', normalizeForLookup('user_email', userEmail));
    const row = await this.db
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where('user_email_hash', 'in', hashes)
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

  async findActiveCredential(id: string): Promise<{ publicKeySpki: string } | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .select(['public_key_spki'])
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    return row && { publicKeySpki: row.public_key_spki };
  }

  async setCredential(id: string, credential: Pick<DeviceRecord, 'certificatePem' | 'certificateSerial' | 'publicKeySpki'>): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({
        certificate_pem: credential.certificatePem,
        certificate_serial: credential.certificateSerial,
        public_key_spki: credential.publicKeySpki,
      })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
  }

  async recordRequest(id: string, seq: number, at: number, checkIn: boolean): Promise<CheckInTarget | undefined> {
    const result = await this.db.executeQuery<RecordRequestRow>(
      recordRequestQuery(this.db, checkIn, { seq, at, tenantId: this.tenantId, deviceId: id }),
    );
    const row = result.rows[0];
    return (
      row && {
        platform: row.platform as Platform,
        appInventoryScope: row.app_inventory_scope as AppInventoryScope,
        inventoryDigest: row.inventory_digest,
        enrolledAt: Number(row.enrolled_at),
        pendingCommands: Number(row.pending_commands),
        profilesDigest: row.profiles_digest,
      }
    );
  }

  async replaceInventory(id: string, hardware: HardwareInventory, apps: StoredApp[], digest: string, at: number): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ ...sealDeviceValues(await this.cipher(), fullHardwareToColumns(hardware)), inventory_updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
    await this.setInventoryDigest(id, digest);
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
      .set({ ...sealDeviceValues(await this.cipher(), hardwareToColumns(hardware)), inventory_updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
    await this.setInventoryDigest(id, digest);
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

  async lockCheckInState(id: string): Promise<void> {
    // SQLite runs one write transaction at a time, so only PostgreSQL's row locks need an order.
    if (!isPostgres(this.db as Kysely<unknown>)) return;
    await this.db
      .selectFrom('device_checkin_state')
      .select('device_id')
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', id)
      .forUpdate()
      .execute();
  }

  async complianceSnapshot(
    id: string,
  ): Promise<
    { active: boolean; complianceState: ComplianceState; appListPolicyApplies: boolean; noPolicyState: ComplianceState } | undefined
  > {
    const row = await this.db
      .selectFrom('devices')
      .innerJoin('tenant_settings', 'tenant_settings.tenant_id', 'devices.tenant_id')
      .select(['devices.status', 'devices.compliance_state', 'devices.app_list_policy', 'tenant_settings.no_policy_compliance_state'])
      .where('devices.tenant_id', '=', this.tenantId)
      .where('devices.id', '=', id)
      .executeTakeFirst();
    return (
      row && {
        active: row.status === 'active',
        complianceState: row.compliance_state as ComplianceState,
        appListPolicyApplies: row.app_list_policy === 1,
        noPolicyState: row.no_policy_compliance_state as ComplianceState,
      }
    );
  }

  async updateCompliance(id: string, state: ComplianceState, appListPolicyApplies: boolean): Promise<AppInventoryScope | undefined> {
    const row = await this.db
      .updateTable('devices')
      .set({ compliance_state: state, app_list_policy: appListPolicyApplies ? 1 : 0 })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .returning(['ownership', 'platform'])
      .executeTakeFirst();
    if (!row) return undefined;
    const scope = appInventoryScope(row.ownership as Ownership, row.platform as Platform, appListPolicyApplies);
    // Written only when it changes, so an evaluation that changes nothing leaves the hot row alone.
    const changed = await this.db
      .updateTable('device_checkin_state')
      .set({ app_inventory_scope: scope })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', id)
      .where('app_inventory_scope', '<>', scope)
      .executeTakeFirst();
    if (changed.numUpdatedRows > 0n && scope === 'managed-only') {
      await this.db
        .deleteFrom('device_apps')
        .where('tenant_id', '=', this.tenantId)
        .where('device_id', '=', id)
        .where('managed', '=', 0)
        .execute();
    }
    return scope;
  }

  async retire(id: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('devices')
      .set({ status: 'retired', retired_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    await this.db
      .updateTable('device_checkin_state')
      .set({ active: 0 })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', id)
      .execute();
    await this.db.deleteFrom('device_apps').where('tenant_id', '=', this.tenantId).where('device_id', '=', id).execute();
    return result.numUpdatedRows > 0n;
  }

  /** Re-encrypts one batch of this tenant's devices under the current key version (`custos keys rotate`). */
  async reencryptBatch(afterId: string | null, limit: number): Promise<{ lastId: string | null; scanned: number; rewritten: number }> {
    return reencryptDeviceBatch(this.db, this.tenantId, await this.cipher({ refresh: true }), afterId, limit);
  }

  private async setInventoryDigest(id: string, digest: string): Promise<void> {
    await this.db
      .updateTable('device_checkin_state')
      .set({ inventory_digest: digest })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', id)
      .execute();
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

function sortValue(sort: DeviceSortField, row: DeviceRow): string | number {
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
