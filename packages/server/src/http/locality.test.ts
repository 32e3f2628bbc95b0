/**
 * Locality hardening (SPEC §9): after each main flow — enrollment, check-in, policy, device action,
 * users, audit, lifecycle change — every OTHER region's store holds zero rows of the tenant, on
 * SQLite and PostgreSQL; a tenant whose region has no store here is refused (fail closed) instead of
 * written anywhere else; and every region table carries `tenant_id`, so the purge, which derives its
 * table list from that column, cannot miss one.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalInventoryJson, type InventoryDocument } from '@custos/shared';
import type { Kysely } from 'kysely';
import type { RegionDatabase } from '../storage/database.js';
import { purgeTenantRows, TENANTLESS_REGION_TABLES, tablesWithTenantId } from '../storage/tenant-purge.js';
import { BACKENDS, TEST_REGIONS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, SYSTEM, type Harness } from '../test-support/harness.js';
import { digestOf, TestDevice } from '../test-support/test-device.js';

const inventory: InventoryDocument = {
  hardware: { deviceName: 'pc-1', operatingSystem: 'Debian GNU/Linux', osVersion: '12.5', serialNumber: 'L-1', encrypted: false },
  apps: [{ name: 'Firefox', version: '128.0' }],
};

async function rowsOf(db: Kysely<RegionDatabase>, tenantId: string): Promise<Record<string, number>> {
  const untyped = db as unknown as Kysely<Record<string, { tenant_id: string }>>;
  const found: Record<string, number> = {};
  for (const table of await tablesWithTenantId(db)) {
    const row = await untyped
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    if (Number(row.n) > 0) found[table] = Number(row.n);
  }
  return found;
}

for (const { name, create } of BACKENDS) {
  describe(`locality on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    const call = (token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
      h.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });

    /** Asserts the tenant's rows are all in `home` and none in any other region; returns the home tables. */
    const assertOnlyIn = async (tenantId: string, home: string, flow: string) => {
      for (const region of h.runtime.storage.regions) {
        if (region === home) continue;
        assert.deepEqual(await rowsOf(h.runtime.storage.inspectRegionStore(region), tenantId), {}, `after ${flow}: no row in ${region}`);
      }
      return rowsOf(h.runtime.storage.inspectRegionStore(home), tenantId);
    };

    test('after every main flow the other regions hold no row of the tenant', async () => {
      for (const [country, home] of [
        ['GB', 'eu'],
        ['US', 'us'],
        ['JP', 'apac'],
      ] as const) {
        const t = await seedTenant(h, country);
        assert.equal(t.region, home);
        assert.ok('tenant_settings' in (await assertOnlyIn(t.tenantId, home, 'tenant creation')));

        const device = await TestDevice.enroll(h.app, t.enrollmentToken);
        assert.ok('devices' in (await assertOnlyIn(t.tenantId, home, 'enrollment')));

        const { res } = await device.checkIn({ inventoryDigest: digestOf(canonicalInventoryJson(inventory)), inventory });
        assert.equal(res.statusCode, 200, res.body);
        assert.ok('device_apps' in (await assertOnlyIn(t.tenantId, home, 'check-in')));

        const policy = await call(t.adminToken, 'POST', '/api/v1/compliance-policies', {
          name: 'Encrypt',
          settings: { requireEncryption: true },
        });
        assert.equal(policy.statusCode, 201, policy.body);
        const assigned = await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${policy.json<{ id: string }>().id}/assignments`, {
          assignments: [{ target: 'allDevices', mode: 'include' }],
        });
        assert.equal(assigned.statusCode, 200, assigned.body);
        assert.ok('device_compliance_results' in (await assertOnlyIn(t.tenantId, home, 'policy')));

        const lock = await call(t.adminToken, 'POST', `/api/v1/devices/${device.id}/actions/lock`);
        assert.ok(lock.statusCode < 300, lock.body);
        assert.ok('device_commands' in (await assertOnlyIn(t.tenantId, home, 'device action')));

        const user = await call(t.adminToken, 'POST', '/api/v1/users', { userName: `ana@${country.toLowerCase()}.example` });
        assert.equal(user.statusCode, 201, user.body);
        assert.ok('users' in (await assertOnlyIn(t.tenantId, home, 'user creation')));

        await h.runtime.services.lifecycle.setSubscriptionEnd(SYSTEM, t.tenantId, Date.now() + 86_400_000);
        assert.ok('audit_events' in (await assertOnlyIn(t.tenantId, home, 'lifecycle change')));
      }
    });

    test('a tenant whose region has no store here is refused, never written elsewhere', async () => {
      const stray = {
        id: '00000000-0000-4000-8000-000000000001',
        name: 'Stray',
        region: 'mars',
        subscriptionState: 'active' as const,
        createdAt: 0,
      };
      assert.throws(() => h.runtime.storage.openTenantData(stray), /Region "mars".*no store/);
      assert.throws(() => h.runtime.storage.purgeTenantRows(stray), /Region "mars".*no store/);
      for (const region of TEST_REGIONS) assert.deepEqual(await rowsOf(h.runtime.storage.inspectRegionStore(region), stray.id), {});
    });

    test('every region table carries tenant_id, so the purge derived from it covers the whole schema', async () => {
      for (const region of TEST_REGIONS) {
        const db = h.runtime.storage.inspectRegionStore(region);
        const all = (await db.introspection.getTables()).filter((t) => !t.isView).map((t) => t.name);
        const withTenant = await tablesWithTenantId(db);
        assert.deepEqual(all.filter((t) => !withTenant.includes(t)).sort(), [...TENANTLESS_REGION_TABLES].sort(), `in ${region}`);
        assert.ok(withTenant.length >= 30, `found ${withTenant.length} tables`);
      }
    });

    test("the purge deletes every row of one tenant and none of its region neighbour's", async () => {
      const gone = await seedTenant(h, 'FR');
      const kept = await seedTenant(h, 'DE');
      for (const t of [gone, kept]) {
        const device = await TestDevice.enroll(h.app, t.enrollmentToken);
        await device.checkIn({ inventoryDigest: digestOf(canonicalInventoryJson(inventory)), inventory });
      }
      const db = h.runtime.storage.inspectRegionStore('eu');
      const keptBefore = await rowsOf(db, kept.tenantId);
      const goneBefore = await rowsOf(db, gone.tenantId);
      const counts = await purgeTenantRows(db, gone.tenantId);
      assert.deepEqual(Object.keys(counts), await tablesWithTenantId(db), 'every table is listed, zeros included');
      for (const [table, n] of Object.entries(goneBefore)) assert.equal(counts[table], n, `deleted every ${table} row`);
      assert.deepEqual(await rowsOf(db, gone.tenantId), {});
      assert.deepEqual(await rowsOf(db, kept.tenantId), keptBefore);
    });
  });
}
