/**
 * Encryption at rest (SPEC §9) on SQLite and PostgreSQL: the raw region store holds no sensitive
 * catalog value in clear, the API still returns them, equality lookups work through keyed hashes,
 * a value moved to another tenant or column does not decrypt, rotation re-encrypts everything and
 * retires the old key, and destroying a tenant's keys makes its values unreadable.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Migrator, type Kysely } from 'kysely';
import { regionMigrations } from './migrations/region-migrations.js';
import { Storage } from './storage.js';
import { TEST_REGIONS } from '../test-support/backends.js';
import type { DeviceRecord } from '../domain/devices/device-store.js';
import { UndecryptableValueError } from '../domain/encryption/tenant-cipher.js';
import { BACKENDS } from '../test-support/backends.js';
import { deviceRecord } from '../test-support/device-fixture.js';
import { SYSTEM, harnessPerSuite, seedTenant, type Harness } from '../test-support/harness.js';

const SECRETS = {
  serialNumber: 'C02XK1ZZJGH5',
  wifiMac: 'a4:83:e7:11:22:33',
  ethernetMac: '00:1b:63:84:45:e6',
  imei: '356938035643809',
  exchangeDeviceId: 'EXCH-8F3A9C2D',
};
const EMAIL = 'Alice.Secret@example.com';
const SENSITIVE_COLUMNS = ['serial_number', 'wifi_mac', 'ethernet_mac', 'imei', 'exchange_device_id', 'user_email'] as const;

function sensitiveDevice(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return deviceRecord({ hardware: { deviceName: 'finance-laptop', ...SECRETS }, userEmail: EMAIL, ...overrides });
}

for (const { name, create } of BACKENDS) {
  describe(`encryption at rest on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));

    const rawDevice = async (region: string, tenantId: string, id: string) =>
      h.runtime.storage
        .inspectRegionStore(region)
        .selectFrom('devices')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirstOrThrow();

    test('the raw store holds no sensitive value in clear; the API returns them and exact serial search works', async () => {
      const t = await seedTenant(h, 'DE');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const device = sensitiveDevice();
      await data.devices.insert(device);

      const raw = await rawDevice(t.region, t.tenantId, device.id);
      const text = JSON.stringify(raw).toLowerCase();
      for (const value of [...Object.values(SECRETS), EMAIL])
        assert.ok(!text.includes(value.toLowerCase()), `${value} is not stored in clear`);
      for (const column of SENSITIVE_COLUMNS) assert.match(String(raw[column]), /^v1:1:/, `${column} carries the key version`);
      assert.equal(raw.device_name, 'finance-laptop', 'a normal field stays in clear');

      const response = await h.app.inject({
        method: 'GET',
        url: `/api/v1/devices/${device.id}`,
        headers: { authorization: `Bearer ${t.adminToken}` },
      });
      assert.equal(response.statusCode, 200);
      const body = response.json<Record<string, unknown>>();
      for (const [field, value] of Object.entries(SECRETS)) assert.equal(body[field], value, `${field} is returned decrypted`);

      const search = async (q: string) =>
        (
          await h.app.inject({
            method: 'GET',
            url: `/api/v1/devices?search=${encodeURIComponent(q)}`,
            headers: { authorization: `Bearer ${t.adminToken}` },
          })
        )
          .json<{ items: { id: string }[] }>()
          .items.map((d) => d.id);
      assert.deepEqual(await search(SECRETS.serialNumber), [device.id], 'exact serial search finds the device');
      assert.deepEqual(await search(SECRETS.serialNumber.slice(0, 6)), [], 'a partial serial matches nothing (keyed hash, not LIKE)');

      assert.equal(await data.devices.countActiveForUser(EMAIL.toUpperCase()), 1, 'user lookups go through the email hash');
      assert.deepEqual(await data.deviceReports.idsForUser(EMAIL.toLowerCase()), [device.id]);
      await data.devices.applyInventoryDelta(device.id, { imei: '490154203237518' }, [], [], 'digest-2', 5_000);
      const updated = await rawDevice(t.region, t.tenantId, device.id);
      assert.ok(!String(updated.imei).includes('490154203237518'), 'an inventory update is encrypted too');
      assert.equal((await data.devices.get(device.id))?.hardware['imei'], '490154203237518');
    });

    test('a value copied to another tenant, or to another column, fails to decrypt', async () => {
      const a = await seedTenant(h, 'FR');
      const b = await seedTenant(h, 'IT');
      assert.equal(a.region, b.region, 'both tenants share the eu store');
      const dataA = await h.runtime.services.tenants.data(a.tenantId);
      const dataB = await h.runtime.services.tenants.data(b.tenantId);
      const da = sensitiveDevice();
      const db = sensitiveDevice({ hardware: { serialNumber: 'OTHER-1' } });
      await dataA.devices.insert(da);
      await dataB.devices.insert(db);
      const store = h.runtime.storage.inspectRegionStore(a.region);
      const stolen = (await rawDevice(a.region, a.tenantId, da.id)).serial_number;
      await store
        .updateTable('devices')
        .set({ serial_number: stolen })
        .where('tenant_id', '=', b.tenantId)
        .where('id', '=', db.id)
        .execute();
      await assert.rejects(dataB.devices.get(db.id), UndecryptableValueError);

      const otherColumn = (await rawDevice(a.region, a.tenantId, da.id)).imei;
      await store
        .updateTable('devices')
        .set({ wifi_mac: otherColumn })
        .where('tenant_id', '=', a.tenantId)
        .where('id', '=', da.id)
        .execute();
      await assert.rejects(dataA.devices.get(da.id), UndecryptableValueError, 'the column name is bound in as associated data');
    });

    test('rotation re-encrypts every value under a new key version and the old version disappears', async () => {
      const t = await seedTenant(h, 'ES');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const devices = [sensitiveDevice(), sensitiveDevice({ hardware: { serialNumber: 'SN-2' } }), sensitiveDevice({ userEmail: null })];
      for (const d of devices) await data.devices.insert(d);
      // A legacy row written before encryption existed: plaintext, no hash. It is read as is.
      const store = h.runtime.storage.inspectRegionStore(t.region);
      await store
        .updateTable('devices')
        .set({ serial_number: 'LEGACY-SN', serial_number_hash: null })
        .where('tenant_id', '=', t.tenantId)
        .where('id', '=', devices[2]!.id)
        .execute();
      assert.equal((await data.devices.get(devices[2]!.id))?.hardware['serialNumber'], 'LEGACY-SN');
      const before = await rawDevice(t.region, t.tenantId, devices[0]!.id);

      // While a rotation runs, old-version values stay readable and findable; new writes use the new version.
      await h.runtime.storage.tenantKeys.addVersion(t.tenantId);
      assert.equal((await data.devices.get(devices[0]!.id))?.hardware['serialNumber'], SECRETS.serialNumber);
      assert.equal((await data.devices.list({ search: SECRETS.serialNumber })).items.length, 1);
      const late = sensitiveDevice({ hardware: { serialNumber: 'SN-LATE' } });
      await data.devices.insert(late);
      assert.match(String((await rawDevice(t.region, t.tenantId, late.id)).serial_number), /^v1:2:/);

      const report = await h.runtime.services.keyRotation.rotate(SYSTEM, t.tenantId, { batchSize: 2, settleMs: 0 });
      assert.equal(report.keyVersion, 3);
      assert.equal(report.devicesScanned, 4);
      assert.equal(report.valuesReencrypted, 4);
      assert.equal(report.retiredVersions, 2);

      const rows = await store.selectFrom('devices').selectAll().where('tenant_id', '=', t.tenantId).execute();
      for (const row of rows) {
        for (const column of SENSITIVE_COLUMNS) {
          if (row[column] !== null) assert.match(String(row[column]), /^v1:3:/, `${column} is under key version 3`);
        }
      }
      const after = await rawDevice(t.region, t.tenantId, devices[0]!.id);
      assert.notEqual(after.serial_number, before.serial_number);
      assert.notEqual(after.serial_number_hash, before.serial_number_hash, 'the lookup hash is re-keyed too');
      assert.equal((await data.devices.get(devices[2]!.id))?.hardware['serialNumber'], 'LEGACY-SN');
      assert.deepEqual(
        (await data.devices.list({ search: 'LEGACY-SN' })).items.map((d) => d.id),
        [devices[2]!.id],
        'the legacy value became searchable',
      );
      assert.equal((await data.devices.list({ search: SECRETS.serialNumber })).items.length, 1);

      // A copy of a value from before the rotation (a backup) no longer decrypts: its key is gone.
      await store
        .updateTable('devices')
        .set({ serial_number: before.serial_number })
        .where('tenant_id', '=', t.tenantId)
        .where('id', '=', devices[0]!.id)
        .execute();
      await assert.rejects(data.devices.get(devices[0]!.id), UndecryptableValueError);

      const events = await data.audit.list({ activity: 'Rotate tenant data key' }, { limit: 10 });
      assert.equal(events.length, 1, 'the rotation is audited');
    });

    test("after destroy(tenantId) the tenant's values cannot be decrypted", async () => {
      const t = await seedTenant(h, 'NL');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const d = sensitiveDevice();
      await data.devices.insert(d);
      const raw = await rawDevice(t.region, t.tenantId, d.id);
      await h.runtime.storage.tenantKeys.destroy(t.tenantId);
      const keys = await h.runtime.storage.directory.selectFrom('tenant_keys').selectAll().where('tenant_id', '=', t.tenantId).execute();
      assert.equal(keys.length, 0, 'no wrapped key of the tenant is left in the directory');
      await assert.rejects(data.devices.get(d.id), UndecryptableValueError);
      const cipher = await h.runtime.storage.tenantKeys.cipher(t.tenantId);
      assert.throws(() => cipher.decrypt('serial_number', String(raw.serial_number)), UndecryptableValueError);
    });

    test('wrapped keys live only in the directory, and a master key change keeps them readable', async () => {
      const t = await seedTenant(h, 'BE');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const d = sensitiveDevice();
      await data.devices.insert(d);
      const wrapped = await h.runtime.storage.directory.selectFrom('tenant_keys').selectAll().where('tenant_id', '=', t.tenantId).execute();
      assert.equal(wrapped.length, 1);
      const { LocalMasterKey } = await import('../domain/encryption/key-provider.js');
      const { randomBytes } = await import('node:crypto');
      const next = new LocalMasterKey(randomBytes(32));
      const result = await h.runtime.storage.tenantKeys.rewrap(next);
      assert.ok(result.rewrapped >= 1);
      const after = await h.runtime.storage.directory
        .selectFrom('tenant_keys')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .executeTakeFirstOrThrow();
      assert.notEqual(after.wrapped_key, wrapped[0]!.wrapped_key);
      assert.equal(after.key_id, next.keyId);
      assert.equal((await data.devices.get(d.id))?.hardware['serialNumber'], SECRETS.serialNumber, 'values still decrypt after the rewrap');
    });
  });
}

for (const { name, create } of BACKENDS) {
  test(`values stored in clear before migration 0012 are encrypted once when it is applied, on ${name}`, async () => {
    const backend = await create();
    const storage = Storage.open(backend.config, TEST_REGIONS);
    try {
      const db = storage.inspectRegionStore('eu');
      const migrations = { getMigrations: () => Promise.resolve(regionMigrations) };
      const { error } = await new Migrator({ db: db as Kysely<unknown>, provider: migrations }).migrateTo('0011-tenant-branding');
      assert.equal(error, undefined);
      const tenantId = randomUUID();
      const d = deviceRecord();
      const legacy = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
      await legacy
        .insertInto('devices')
        .values({
          tenant_id: tenantId,
          id: d.id,
          platform: d.platform,
          management_channel: d.managementChannel,
          ownership: d.ownership,
          status: d.status,
          compliance_state: d.complianceState,
          app_list_policy: 0,
          serial_number: 'PLAIN-SN-1',
          wifi_mac: 'aa:aa:aa:aa:aa:aa',
          user_email: 'bob@example.com',
          consent_statement_version: '1',
          consent_accepted_at: 1,
          consent_method: 'unattended',
          certificate_pem: d.certificatePem,
          certificate_serial: d.certificateSerial,
          public_key_spki: d.publicKeySpki,
          enrolled_at: 1,
        })
        .execute();
      await storage.migrate();
      const row = await db.selectFrom('devices').selectAll().where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
      assert.match(String(row.serial_number), /^v1:1:/);
      assert.match(String(row.wifi_mac), /^v1:1:/);
      assert.match(String(row.user_email), /^v1:1:/);
      const cipher = await storage.tenantKeys.cipher(tenantId);
      assert.equal(cipher.decrypt('serial_number', String(row.serial_number)), 'PLAIN-SN-1');
      assert.equal(row.serial_number_hash, cipher.searchHash('serial_number', 'PLAIN-SN-1'));
      assert.equal(row.user_email_hash, cipher.searchHash('user_email', 'bob@example.com'));
    } finally {
      await storage.close();
      await backend.dispose();
    }
  });
}
