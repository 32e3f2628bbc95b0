/**
 * The ingest ratio: storing full inventories for already-enrolled devices through Custos's real
 * ingestion path (CheckInService.checkIn: catalog validation, ownership rule, replay-protected
 * sequence update, replaceInventory) against the same rows written by the bare driver (a hardware
 * UPDATE and multi-row INSERTs of the apps, one transaction per device, prepared statements reused).
 *
 * Both sides start from a fresh store migrated by Custos (same tables, keys, indexes and foreign
 * keys) holding the same device rows, process the devices one after another, and commit one
 * transaction per device, as a device's check-in does. Only the writes are timed.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { appKey, type InventoryDocument } from '@custos/shared';
import { openRuntime, type Runtime } from '@custos/server';
import type { DeviceRecord } from '../../packages/server/dist/domain/devices/device-store.js';
import { defaultCountryRegions } from '../../packages/server/dist/domain/tenants/region-map.js';
import { fullHardwareToColumns, HARDWARE_COLUMNS } from '../../packages/server/dist/storage/repositories/hardware-columns.js';
import { TEST_REGIONS, type TestBackend } from '../../packages/server/dist/test-support/backends.js';
import { deviceRecord } from '../../packages/server/dist/test-support/device-fixture.js';
import type { Cleanup } from './cleanup.js';
import { inventoryDigest, inventoryOf } from './inventory-fixture.js';

/** Rows per INSERT, as Custos's device repository batches them. */
const APP_INSERT_BATCH = 500;
const APP_COLUMNS = ['tenant_id', 'device_id', 'app_key', 'name', 'version', 'app_id', 'install_location', 'size_bytes', 'managed'];
const HARDWARE_COLUMN_NAMES = Object.values(HARDWARE_COLUMNS).map((c) => c.column);

export interface IngestWorkload {
  docs: InventoryDocument[];
  digests: string[];
}

/** Milliseconds of each timed ingestion, per path, in the order they ran. */
export interface IngestTiming {
  custosMs: number[];
  rawMs: number[];
}

type SqlValue = string | number | null;

/** The documents of `devices` devices with `apps` apps each; built once, untimed, shared by every backend. */
export function buildWorkload(devices: number, apps: number): IngestWorkload {
  const docs = Array.from({ length: devices }, (_, i) => inventoryOf(i, apps));
  return { docs, digests: docs.map(inventoryDigest) };
}

function benchDevice(i: number, now: number): DeviceRecord {
  return deviceRecord({
    userEmail: `user${i}@example.com`,
    enrolledAt: now,
    consent: { privacyStatementVersion: '1', acceptedAt: now, method: 'unattended' },
  });
}

interface PreparedStore {
  runtime: Runtime;
  /** Closes the runtime (once); also registered with the run's cleanup. */
  close: () => Promise<void>;
  tenantId: string;
  region: string;
  deviceIds: string[];
}

/** A fresh store with a corporate tenant and `devices` enrolled devices (rows inserted through the repository). */
async function prepareStore(backend: TestBackend, devices: number, cleanup: Cleanup): Promise<PreparedStore> {
  const runtime = await openStore(backend);
  // Closed before the store is dropped, even on interruption: dropping a PostgreSQL database under
  // open pool connections makes the pool emit an unhandled error.
  const close = cleanup.defer('ingest runtime', () => runtime.close());
  try {
    const { tenant } = await runtime.services.tenants.create({ name: 'Bench Corp', country: 'GB', adminEmail: 'it@bench.example' });
    const data = await runtime.services.tenants.data(tenant.id);
    const now = Date.now();
    const records = Array.from({ length: devices }, (_, i) => benchDevice(i, now));
    await data.transaction(async (trx) => {
      for (const record of records) await trx.devices.insert(record);
    });
    return { runtime, close, tenantId: tenant.id, region: tenant.region, deviceIds: records.map((r) => r.id) };
  } catch (error) {
    await close();
    throw error;
  }
}

function openStore(backend: TestBackend): Promise<Runtime> {
  return openRuntime({ storage: backend.config, regions: TEST_REGIONS, regionMap: { countries: defaultCountryRegions(), fallback: 'us' } });
}

async function countApps(store: PreparedStore): Promise<number> {
  const row = await store.runtime.storage
    .inspectRegionStore(store.region)
    .selectFrom('device_apps')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('tenant_id', '=', store.tenantId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Custos: one CheckInService.checkIn per device with its whole inventory document. */
async function ingestThroughCustos(backend: TestBackend, workload: IngestWorkload, cleanup: Cleanup): Promise<number> {
  const store = await prepareStore(backend, workload.docs.length, cleanup);
  try {
    const { checkIn, tenants } = store.runtime.services;
    const data = await tenants.data(store.tenantId);
    const started = performance.now();
    for (let i = 0; i < store.deviceIds.length; i++) {
      const response = await checkIn.checkIn(
        { tenantId: store.tenantId, deviceId: store.deviceIds[i] as string, seq: 1, data },
        { inventoryDigest: workload.digests[i] as string, inventory: workload.docs[i] },
      );
      if (response.inventory !== 'stored') throw new Error(`check-in ${i} answered "${response.inventory}", not "stored"`);
    }
    const elapsed = performance.now() - started;
    await expectApps(store, workload);
    return elapsed;
  } finally {
    await store.close();
  }
}

async function expectApps(store: PreparedStore, workload: IngestWorkload): Promise<void> {
  const expected = workload.docs.reduce((n, doc) => n + doc.apps.length, 0);
  const stored = await countApps(store);
  if (stored !== expected) throw new Error(`expected ${expected} stored apps, found ${stored}`);
}

interface RawDevice {
  /** Hardware column values, then digest, updated-at, tenant id and device id (the WHERE). */
  update: SqlValue[];
  /** One flat parameter list per INSERT batch. */
  batches: SqlValue[][];
}

function rawRows(store: PreparedStore, workload: IngestWorkload, now: number): RawDevice[] {
  return workload.docs.map((doc, i) => {
    const deviceId = store.deviceIds[i] as string;
    const columns = fullHardwareToColumns(doc.hardware) as Record<string, SqlValue>;
    const update = [...HARDWARE_COLUMN_NAMES.map((c) => columns[c] ?? null), now, store.tenantId, deviceId];
    const rows = doc.apps.map((a): SqlValue[] => [
      store.tenantId,
      deviceId,
      appKey(a),
      a.name,
      a.version ?? null,
      a.appId ?? null,
      a.installLocation ?? null,
      a.sizeBytes ?? null,
      a.managed ? 1 : 0,
    ]);
    const batches: SqlValue[][] = [];
    for (let b = 0; b < rows.length; b += APP_INSERT_BATCH) batches.push(rows.slice(b, b + APP_INSERT_BATCH).flat());
    return { update, batches };
  });
}

function updateSql(placeholder: (n: number) => string): string {
  const set = [...HARDWARE_COLUMN_NAMES, 'inventory_updated_at'].map((c, i) => `${c} = ${placeholder(i + 1)}`);
  const n = set.length;
  return `update devices set ${set.join(', ')} where tenant_id = ${placeholder(n + 1)} and id = ${placeholder(n + 2)}`;
}

function insertSql(rows: number, placeholder: (n: number) => string): string {
  const values: string[] = [];
  for (let r = 0; r < rows; r++) {
    values.push(`(${APP_COLUMNS.map((_, c) => placeholder(r * APP_COLUMNS.length + c + 1)).join(', ')})`);
  }
  return `insert into device_apps (${APP_COLUMNS.join(', ')}) values ${values.join(', ')}`;
}

/** The floor: the same rows through better-sqlite3 or pg directly. */
async function ingestRaw(backend: TestBackend, workload: IngestWorkload, cleanup: Cleanup): Promise<number> {
  const store = await prepareStore(backend, workload.docs.length, cleanup);
  let devices: RawDevice[];
  try {
    devices = rawRows(store, workload, Date.now());
  } finally {
    await store.close();
  }
  const elapsed =
    backend.config.kind === 'sqlite'
      ? rawSqlite(join(backend.config.dataDir, `region-${store.region}.db`), devices)
      : await rawPostgres(backend.config.regionUrls[store.region] ?? '', devices, cleanup);
  // Reopen through Custos to check that the same rows landed.
  const check = await openStore(backend);
  const closeCheck = cleanup.defer('ingest check runtime', () => check.close());
  try {
    await expectApps({ ...store, runtime: check }, workload);
  } finally {
    await closeCheck();
  }
  return elapsed;
}

function rawSqlite(file: string, devices: RawDevice[]): number {
  // The pragmas Custos's SQLite dialect sets (storage/dialects/sqlite.ts).
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const update = db.prepare(updateSql(() => '?'));
    const inserts = new Map<number, Database.Statement>();
    const insert = (params: SqlValue[]) => {
      const rows = params.length / APP_COLUMNS.length;
      let statement = inserts.get(rows);
      if (!statement) {
        statement = db.prepare(insertSql(rows, () => '?'));
        inserts.set(rows, statement);
      }
      statement.run(params);
    };
    const ingestDevice = db.transaction((device: RawDevice) => {
      update.run(device.update);
      for (const batch of device.batches) insert(batch);
    });
    const started = performance.now();
    for (const device of devices) ingestDevice(device);
    return performance.now() - started;
  } finally {
    db.close();
  }
}

async function rawPostgres(url: string, devices: RawDevice[], cleanup: Cleanup): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  // A connection killed under the client (the database dropped on interruption) fails the query in
  // flight; without a listener it would also crash the process before the cleanup finished.
  client.on('error', (error) => process.stderr.write(`bench: raw PostgreSQL connection: ${error.message}\n`));
  await client.connect();
  const end = cleanup.defer('raw PostgreSQL connection', () => client.end());
  try {
    const update = updateSql((n) => `$${n}`);
    const inserts = new Map<number, string>();
    const insertText = (rows: number) => {
      let text = inserts.get(rows);
      if (!text) {
        text = insertSql(rows, (n) => `$${n}`);
        inserts.set(rows, text);
      }
      return text;
    };
    const started = performance.now();
    for (const device of devices) {
      await client.query('begin');
      try {
        await client.query({ name: 'bench-update', text: update, values: device.update });
        for (const batch of device.batches) {
          const rows = batch.length / APP_COLUMNS.length;
          await client.query({ name: `bench-insert-${rows}`, text: insertText(rows), values: batch });
        }
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw error;
      }
    }
    return performance.now() - started;
  } finally {
    await end();
  }
}

/**
 * Times both paths `rounds` times, each time on its own fresh store of the given kind, alternating
 * which goes first (Custos then raw, raw then Custos, ...) so a drift in the machine's speed during
 * the run does not favour either side. Every store is dropped again as soon as it was measured.
 */
export async function measureIngest(
  createBackend: () => Promise<TestBackend>,
  workload: IngestWorkload,
  cleanup: Cleanup,
  rounds: number,
): Promise<IngestTiming> {
  const timing: IngestTiming = { custosMs: [], rawMs: [] };
  const once = async (path: 'custos' | 'raw') => {
    const backend = await createBackend();
    const dispose = cleanup.defer(`ingest store (${path})`, () => backend.dispose());
    try {
      if (path === 'custos') timing.custosMs.push(await ingestThroughCustos(backend, workload, cleanup));
      else timing.rawMs.push(await ingestRaw(backend, workload, cleanup));
    } finally {
      await dispose();
    }
  };
  for (let round = 0; round < rounds; round++) {
    for (const path of round % 2 === 0 ? (['custos', 'raw'] as const) : (['raw', 'custos'] as const)) await once(path);
  }
  return timing;
}
