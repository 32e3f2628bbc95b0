/** The storage suite: one set of tests, run against SQLite and PostgreSQL. No storage mocks. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { HARDWARE_FIELDS, type DeviceListQuery } from '@custos/shared';
import { BACKENDS, TEST_REGIONS, type TestBackend } from '../test-support/backends.js';
import { deviceRecord } from '../test-support/device-fixture.js';
import { seedTenant, harnessPerSuite, type Harness } from '../test-support/harness.js';
import { HARDWARE_COLUMNS } from './repositories/hardware-columns.js';
import { StoreConflictError } from '../domain/domain-error.js';
import { RegionStoreMismatchError, Storage } from './storage.js';

const TENANT_TABLES = ['tenant_settings', 'tenant_ca', 'api_tokens', 'enrollment_tokens', 'devices', 'device_apps'] as const;

const device = deviceRecord;

test('every catalog hardware field has a column', () => {
  assert.deepEqual(HARDWARE_FIELDS.map((f) => f.name).sort(), Object.keys(HARDWARE_COLUMNS).sort());
});

for (const { name, create } of BACKENDS) {
  describe(`storage on ${name}`, () => {
    let backend: TestBackend;
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h, backend } = started));

    test('migrations are idempotent and every region store knows its region', async () => {
      const reports = await h.runtime.storage.migrate();
      assert.ok(reports.every((r) => r.applied.length === 0));
      for (const region of TEST_REGIONS) {
        const row = await h.runtime.storage
          .inspectRegionStore(region)
          .selectFrom('store_meta')
          .select('value')
          .where('key', '=', 'region')
          .executeTakeFirstOrThrow();
        assert.equal(row.value, region);
      }
    });

    test('a store configured for the wrong region refuses to start (fail closed)', async () => {
      const config = backend.config;
      const swapped =
        config.kind === 'sqlite'
          ? null
          : {
              ...config,
              regionUrls: { ...config.regionUrls, eu: config.regionUrls['us'] as string, us: config.regionUrls['eu'] as string },
            };
      if (config.kind === 'sqlite') {
        // An operator copies the US store's file into place as region xx's store.
        const { copyFileSync } = await import('node:fs');
        const { sql } = await import('kysely');
        await sql`pragma wal_checkpoint(TRUNCATE)`.execute(h.runtime.storage.inspectRegionStore('us'));
        const { join } = await import('node:path');
        copyFileSync(join(config.dataDir, 'region-us.db'), join(config.dataDir, 'region-xx.db'));
        const storage = Storage.open(config, ['xx']);
        await assert.rejects(storage.migrate(), RegionStoreMismatchError);
        await storage.close();
      } else if (swapped) {
        const storage = Storage.open(swapped, TEST_REGIONS);
        await assert.rejects(storage.migrate(), RegionStoreMismatchError);
        await storage.close();
      }
    });

    test("a tenant's rows land only in its region's store", async () => {
      const gb = await seedTenant(h, 'GB');
      const us = await seedTenant(h, 'US');
      assert.equal(gb.region, 'eu');
      assert.equal(us.region, 'us');
      const gbData = await h.runtime.services.tenants.data(gb.tenantId);
      await gbData.devices.insert(device());
      for (const region of TEST_REGIONS) {
        const db = h.runtime.storage.inspectRegionStore(region);
        for (const table of TENANT_TABLES) {
          const rows = await db.selectFrom(table).select('tenant_id').where('tenant_id', '=', gb.tenantId).execute();
          if (region === 'eu') {
            if (table !== 'device_apps') assert.ok(rows.length > 0, `${table} in eu holds the GB tenant`);
          } else {
            assert.equal(rows.length, 0, `${table} in ${region} holds no row of the GB tenant`);
          }
          const usRows = await db.selectFrom(table).select('tenant_id').where('tenant_id', '=', us.tenantId).execute();
          if (region !== 'us') assert.equal(usRows.length, 0, `${table} in ${region} holds no row of the US tenant`);
        }
      }
    });

    test('device pages cover every device exactly once, for every sort and order', async () => {
      const t = await seedTenant(h, 'DE');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const names = ['alpha', 'bravo', null, 'charlie', 'alpha', 'delta', null, 'echo', 'foxtrot', 'golf', 'hotel'];
      for (const [i, deviceName] of names.entries()) {
        await data.devices.insert(
          device({
            hardware: { deviceName, serialNumber: i % 3 === 0 ? null : `SN-${i}`, osVersion: `1${i % 4}.0`, model: i % 2 ? 'X1' : null },
            lastCheckInAt: i % 4 === 0 ? null : 10_000 + (i % 5),
            enrolledAt: 1_000 + (i % 3),
            ownership: i % 2 ? 'personal' : 'corporate',
          }),
        );
      }
      for (const sort of ['deviceName', 'lastCheckInAt', 'enrolledAt', 'osVersion', 'serialNumber', 'model'] as const) {
        for (const order of ['asc', 'desc'] as const) {
          const seen: string[] = [];
          let cursor: string | undefined;
          do {
            const query: DeviceListQuery = { sort, order, limit: 3, ...(cursor ? { cursor } : {}) };
            const page = await data.devices.list(query);
            seen.push(...page.items.map((d) => d.id));
            cursor = page.nextCursor ?? undefined;
          } while (cursor);
          assert.equal(seen.length, names.length, `${sort} ${order}: every device once`);
          assert.equal(new Set(seen).size, names.length, `${sort} ${order}: no duplicates`);
        }
      }
      const personal = await data.devices.list({ ownership: 'personal', limit: 100 });
      assert.equal(personal.items.length, 5);
      const search = await data.devices.list({ search: 'ALPH', limit: 100 });
      assert.equal(search.items.length, 2);
      const bySerial = await data.devices.list({ search: 'SN-4', limit: 100 });
      assert.deepEqual(
        bySerial.items.map((d) => d.hardware['serialNumber']),
        ['SN-4'],
      );
      const like = await data.devices.list({ search: '%', limit: 100 });
      assert.equal(like.items.length, 0, 'LIKE wildcards in a search are literal');
      await assert.rejects(data.devices.list({ sort: 'model', cursor: 'not-a-cursor' }), /cursor/);
    });

    test('the request sequence only grows, and a retired device records nothing', async () => {
      const t = await seedTenant(h, 'FR');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const d = device();
      await data.devices.insert(d);
      assert.ok(await data.devices.recordRequest(d.id, 5, 2_000, true));
      assert.equal(await data.devices.recordRequest(d.id, 5, 2_001, true), undefined, 'same sequence number is refused');
      assert.equal(await data.devices.recordRequest(d.id, 4, 2_002, true), undefined, 'lower sequence number is refused');
      assert.equal((await data.devices.get(d.id))?.lastCheckInAt, 2_000);
      assert.ok(await data.devices.retire(d.id, 3_000));
      assert.equal(await data.devices.recordRequest(d.id, 6, 3_001, true), undefined);
      assert.equal(await data.devices.findActiveCredential(d.id), undefined);
    });

    test('inventory replace and delta keep apps keyed and hardware typed', async () => {
      const t = await seedTenant(h, 'IE');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const d = device();
      await data.devices.insert(d);
      const app = (key: string, version: string) => ({
        key,
        name: key,
        version,
        appId: key,
        installLocation: null,
        sizeBytes: 10,
        managed: false,
      });
      await data.devices.replaceInventory(
        d.id,
        { deviceName: 'box', encrypted: true, totalStorageBytes: 2 ** 40 },
        [app('a', '1'), app('b', '1')],
        'd1',
        5,
      );
      await data.devices.applyInventoryDelta(d.id, { encrypted: false }, [app('b', '2'), app('c', '1')], ['a'], 'd2', 6);
      const stored = await data.devices.get(d.id);
      assert.equal(stored?.hardware['deviceName'], 'box');
      assert.equal(stored?.hardware['encrypted'], false);
      assert.equal(stored?.hardware['totalStorageBytes'], 2 ** 40);
      assert.equal(stored?.inventoryDigest, 'd2');
      const apps = await data.devices.listApps(d.id);
      assert.deepEqual(
        apps.map((a) => [a.key, a.version]),
        [
          ['b', '2'],
          ['c', '1'],
        ],
      );
    });

    test('a token with one use left enrolls exactly one of two concurrent devices', async () => {
      const t = await seedTenant(h, 'NL');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const tokenId = randomUUID();
      await data.enrollmentTokens.insert({
        id: tokenId,
        secretHash: randomUUID(),
        ownership: 'corporate',
        description: null,
        platforms: null,
        maxUses: 1,
        uses: 0,
        deviceLimitPerUser: 15,
        userEmail: null,
        expiresAt: Date.now() + 60_000,
        createdAt: Date.now(),
        revokedAt: null,
      });
      const results = await Promise.all([
        data.enrollmentTokens.consumeUse(tokenId, Date.now()),
        data.enrollmentTokens.consumeUse(tokenId, Date.now()),
      ]);
      assert.deepEqual(results.sort(), [false, true]);
    });

    test('a failed transaction leaves nothing behind', async () => {
      const t = await seedTenant(h, 'BE');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const d = device();
      await assert.rejects(
        data.transaction(async (trx) => {
          await trx.devices.insert(d);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await data.devices.get(d.id), undefined);
    });

    test('a write refused by a uniqueness constraint is a StoreConflictError (409 conflict) and keeps nothing', async () => {
      const t = await seedTenant(h, 'BE');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const first = device();
      const twin = { ...device(), id: first.id };
      const other = device();
      await assert.rejects(
        data.transaction(async (trx) => {
          await trx.devices.insert(other);
          await trx.devices.insert(first);
          await trx.devices.insert(twin);
        }),
        (error: unknown) => error instanceof StoreConflictError && error.code === 'conflict' && error.status === 409,
      );
      assert.equal(await data.devices.get(first.id), undefined);
      assert.equal(await data.devices.get(other.id), undefined);
      // Any other failure keeps its own error.
      await assert.rejects(
        data.transaction(async (trx) => trx.devices.insert({ ...device(), platform: null as never })),
        (error: unknown) => !(error instanceof StoreConflictError),
      );
    });
  });
}
