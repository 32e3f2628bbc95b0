/**
 * Encryption at rest (SPEC §9) on SQLite and PostgreSQL: the raw region store holds no sensitive
 * catalog value in clear (devices, and users' names, emails and phones, enrollment tokens' user
 * emails), the API and SCIM still return them, equality lookups work through keyed hashes,
 * a value moved to another tenant or column does not decrypt, rotation re-encrypts everything and
 * retires the old key, and destroying a tenant's keys makes its values unreadable. Audit events (own
 * and imported) keep their actor names and targets encrypted and still list, filter and verify.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { Migrator, type Kysely } from 'kysely';
import { AUDIT_ENCRYPTION_PENDING, regionMigrations } from './migrations/region-migrations.js';
import { encryptLegacyValues } from './repositories/sealed-columns.js';
import { AUDIT_SEALED_TABLES } from './repositories/sensitive-audit-columns.js';
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
const USER = { userName: 'Carol.Secret@example.com', email: 'carol.private@example.org', phone: '+43 1 234 5678' };
const TOKEN_EMAIL = 'Dave.Token@example.com';
const PASSWORD = 'correct horse battery staple';
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
      assert.ok(report.auditEventsScanned > 0);
      assert.equal(report.valuesReencrypted, 4 + report.auditEventsScanned, 'the devices and every audit event');
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

    const inject = (method: 'GET' | 'POST' | 'PATCH', url: string, bearer: string, payload?: Record<string, unknown>) =>
      h.app.inject({ method, url, headers: { authorization: `Bearer ${bearer}` }, ...(payload === undefined ? {} : { payload }) });

    /** The tenant's raw identity rows (users, enrollment tokens, audit events, sign-in throttles) as lower-cased text. */
    const rawIdentityText = async (region: string, tenantId: string) => {
      const store = h.runtime.storage.inspectRegionStore(region);
      const rows = await Promise.all(
        (['users', 'enrollment_tokens', 'audit_events', 'sign_in_throttles'] as const).map((table) =>
          store.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).execute(),
        ),
      );
      return JSON.stringify(rows).toLowerCase();
    };

    const signIn = (tenantId: string, userName: string) =>
      h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenantId, userName, password: PASSWORD } });

    test('user names, emails, phones and token emails are stored encrypted; sign-in, SCIM and uniqueness work through hashes', async () => {
      const t = await seedTenant(h, 'AT');
      const created = await inject('POST', '/api/v1/users', t.adminToken, { ...USER, password: PASSWORD });
      assert.equal(created.statusCode, 201, created.body);
      const user = created.json<{ id: string; phone: string | null }>();
      assert.equal(user.phone, USER.phone);
      await h.runtime.services.enrollment.createToken(SYSTEM, t.tenantId, { ownership: 'corporate', userEmail: TOKEN_EMAIL });
      const scimToken = (await inject('POST', '/api/v1/scim/token', t.adminToken)).json<{ token: string }>().token;
      const scimUsers = async (filter: string) =>
        (await inject('GET', `/scim/v2/Users?filter=${encodeURIComponent(filter)}`, scimToken)).json<{
          totalResults: number;
          Resources: { id: string; userName: string; emails: { value: string }[]; phoneNumbers: { value: string }[] }[];
        }>();

      const text = await rawIdentityText(t.region, t.tenantId);
      for (const value of [...Object.values(USER), TOKEN_EMAIL])
        assert.ok(!text.includes(value.toLowerCase()), `${value} is not stored in clear`);
      const row = await h.runtime.storage
        .inspectRegionStore(t.region)
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      for (const column of ['user_name', 'email', 'phone'] as const) assert.match(String(row[column]), /^v1:1:/, `${column} is encrypted`);
      assert.ok(row.user_name_hash && row.email_hash, 'the lookup hashes are set');

      const read = (await inject('GET', `/api/v1/users/${user.id}`, t.adminToken)).json<Record<string, unknown>>();
      assert.deepEqual([read['userName'], read['email'], read['phone']], Object.values(USER), 'the API returns them decrypted');
      const tokens = await (await h.runtime.services.tenants.data(t.tenantId)).enrollmentTokens.list();
      assert.deepEqual(
        tokens.map((tk) => tk.userEmail),
        [null, TOKEN_EMAIL],
        'the token email reads back',
      );
      const list = await inject('GET', `/api/v1/users?userName=${encodeURIComponent(USER.userName.toUpperCase())}`, t.adminToken);
      assert.deepEqual(
        list.json<{ items: { id: string }[] }>().items.map((u) => u.id),
        [user.id],
        'the exact user name filter goes through the hash, case-insensitively',
      );

      const failed = await h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { tenantId: t.tenantId, userName: USER.userName, password: 'not the password' },
      });
      assert.equal(failed.statusCode, 401, 'a failed sign-in is counted against the account (by its keyed hash)');
      const throttles = await h.runtime.storage
        .inspectRegionStore(t.region)
        .selectFrom('sign_in_throttles')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .where('key', 'like', 'account:%')
        .execute();
      assert.equal(throttles.length, 1);
      assert.ok(!JSON.stringify(throttles).toLowerCase().includes(USER.userName.toLowerCase()), 'the throttle key is a keyed hash');
      for (const name of [USER.userName, USER.userName.toUpperCase(), USER.userName.toLowerCase()]) {
        assert.equal((await signIn(t.tenantId, name)).statusCode, 200, `password sign-in as ${name}`);
      }
      const byName = await scimUsers(`userName eq "${USER.userName.toLowerCase()}"`);
      assert.deepEqual(
        byName.Resources.map((r) => [r.id, r.userName, r.emails[0]?.value, r.phoneNumbers[0]?.value]),
        [[user.id, USER.userName, USER.email, USER.phone]],
      );
      assert.equal((await scimUsers(`emails eq "${USER.email.toUpperCase()}"`)).totalResults, 1, 'SCIM emails eq');
      assert.equal((await scimUsers('userName eq "carol"')).totalResults, 0, 'no partial matches');

      const duplicate = await inject('POST', '/api/v1/users', t.adminToken, { userName: USER.userName.toUpperCase() });
      assert.equal(duplicate.statusCode, 409, 'a user name differing only in case is refused');
      const store = h.runtime.storage.inspectRegionStore(t.region);
      await assert.rejects(
        store
          .insertInto('users')
          .values({ ...row, id: randomUUID() })
          .execute(),
        'the unique index on the user name hash holds in the store itself',
      );

      const events = await (await h.runtime.services.tenants.data(t.tenantId)).audit.list({ activity: 'Create user' }, { limit: 5 });
      const target = events[0]?.targets[0];
      assert.equal(target?.id, user.id, 'the audit event references the user by id');
      assert.equal(target?.name, undefined);
      assert.deepEqual(
        target?.modifiedProperties?.filter((p) => ['userName', 'email', 'phone'].includes(p.name)).map((p) => p.newValue),
        ['[redacted]', '[redacted]', '[redacted]'],
        'that they were set is recorded, not their values',
      );
    });

    test('the users list sorts decrypted names and pages with its cursor; a bad phone number is refused', async () => {
      const t = await seedTenant(h, 'PT');
      for (const userName of ['mallory@example.com', 'Bob@example.com', 'alice@example.com', 'carol@example.com']) {
        assert.equal((await inject('POST', '/api/v1/users', t.adminToken, { userName })).statusCode, 201);
      }
      const page1 = (await inject('GET', '/api/v1/users?limit=3', t.adminToken)).json<{
        items: { userName: string }[];
        nextCursor: string;
      }>();
      assert.deepEqual(
        page1.items.map((u) => u.userName),
        ['alice@example.com', 'Bob@example.com', 'carol@example.com'],
      );
      const page2 = (await inject('GET', `/api/v1/users?limit=3&cursor=${page1.nextCursor}`, t.adminToken)).json<{
        items: { userName: string }[];
        nextCursor: string | null;
      }>();
      assert.deepEqual(
        page2.items.map((u) => u.userName),
        ['mallory@example.com'],
      );
      assert.equal(page2.nextCursor, null);

      for (const phone of ['call me', '+1', '+'.padEnd(40, '1')]) {
        const bad = await inject('POST', '/api/v1/users', t.adminToken, { userName: 'dan@example.com', phone });
        assert.ok([400, 422].includes(bad.statusCode), `${phone}: ${bad.body}`);
      }
      assert.equal(
        (await inject('GET', '/api/v1/users?userName=dan@example.com', t.adminToken)).json<{ items: unknown[] }>().items.length,
        0,
      );
      const bob = (await inject('GET', '/api/v1/users?userName=bob@example.com', t.adminToken)).json<{ items: { id: string }[] }>()
        .items[0];
      const patched = await inject('PATCH', `/api/v1/users/${bob?.id}`, t.adminToken, { phone: '(030) 1234-5678' });
      assert.equal(patched.json<{ phone: string }>().phone, '(030) 1234-5678', 'the admin API sets the phone');
    });

    test('SCIM fills the phone from phoneNumbers on create, replace and patch', async () => {
      const t = await seedTenant(h, 'GR');
      const scimToken = (await inject('POST', '/api/v1/scim/token', t.adminToken)).json<{ token: string }>().token;
      const scim = (method: 'POST' | 'PUT' | 'PATCH', path: string, body: unknown) =>
        h.app.inject({
          method,
          url: `/scim/v2${path}`,
          headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
          payload: JSON.stringify(body),
        });
      const schemas = ['urn:ietf:params:scim:schemas:core:2.0:User'];
      const created = await scim('POST', '/Users', {
        schemas,
        userName: 'erin@example.com',
        phoneNumbers: [
          { type: 'home', value: '+30 210 000 0000' },
          { type: 'mobile', value: '+30 690 000 0001' },
          { type: 'work', value: '+30 210 000 0002' },
        ],
      });
      assert.equal(created.statusCode, 201, created.body);
      const erin = created.json<{ id: string; phoneNumbers: { value: string }[] }>();
      assert.deepEqual(
        erin.phoneNumbers.map((p) => p.value),
        ['+30 690 000 0001'],
        'the first work or mobile number',
      );
      const replaced = await scim('PUT', `/Users/${erin.id}`, {
        schemas,
        userName: 'erin@example.com',
        phoneNumbers: [
          { type: 'mobile', value: '+30 690 000 0001' },
          { type: 'work', value: '+30 210 000 0002', primary: true },
        ],
      });
      assert.deepEqual(
        replaced.json<{ phoneNumbers: { value: string }[] }>().phoneNumbers.map((p) => p.value),
        ['+30 210 000 0002'],
        'the primary one',
      );
      const patched = await scim('PATCH', `/Users/${erin.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+30 690 000 0009' }],
      });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.deepEqual(
        patched.json<{ phoneNumbers: { value: string }[] }>().phoneNumbers.map((p) => p.value),
        ['+30 690 000 0009'],
        'the number a PATCH changed',
      );
      const text = await rawIdentityText(t.region, t.tenantId);
      for (const value of ['erin@example.com', '690 000 0009', '210 000 0002'])
        assert.ok(!text.includes(value), `${value} is not in clear`);
    });

    test('rotation re-encrypts users and enrollment tokens, and the lookups still work afterwards', async () => {
      const t = await seedTenant(h, 'SE');
      const data = await h.runtime.services.tenants.data(t.tenantId);
      const user = await h.runtime.services.users.createUser(SYSTEM, t.tenantId, { ...USER, password: PASSWORD });
      await h.runtime.services.enrollment.createToken(SYSTEM, t.tenantId, { ownership: 'corporate', userEmail: TOKEN_EMAIL });
      const store = h.runtime.storage.inspectRegionStore(t.region);
      const rawUser = () => store.selectFrom('users').selectAll().where('tenant_id', '=', t.tenantId).executeTakeFirstOrThrow();
      const before = await rawUser();

      const report = await h.runtime.services.keyRotation.rotate(SYSTEM, t.tenantId, { batchSize: 1, settleMs: 0 });
      assert.equal(report.usersScanned, 1);
      assert.equal(report.enrollmentTokensScanned, 2);
      assert.equal(
        report.valuesReencrypted,
        2 + report.auditEventsScanned,
        'the user, the token with an email (the token without one has nothing to rewrite) and every audit event',
      );
      const after = await rawUser();
      for (const column of ['user_name', 'email', 'phone'] as const) assert.match(String(after[column]), /^v1:2:/);
      assert.notEqual(after.user_name_hash, before.user_name_hash, 'the lookup hash is re-keyed too');
      const tokenRows = await store.selectFrom('enrollment_tokens').selectAll().where('tenant_id', '=', t.tenantId).execute();
      assert.ok(tokenRows.some((r) => String(r.user_email).startsWith('v1:2:')));

      assert.equal((await data.users.findByUserName(USER.userName.toUpperCase()))?.id, user.id);
      assert.equal((await signIn(t.tenantId, USER.userName.toLowerCase())).statusCode, 200);
      assert.equal(await data.scimDirectory.countUsers({ attribute: 'userName', value: USER.userName }), 1);
      assert.equal((await data.users.get(user.id))?.phone, USER.phone);
      assert.deepEqual(
        (await data.enrollmentTokens.list()).map((tk) => tk.userEmail),
        [null, TOKEN_EMAIL],
      );
      // A copy of the row from before the rotation no longer decrypts: its key is gone.
      await store.updateTable('users').set({ email: before.email }).where('tenant_id', '=', t.tenantId).execute();
      await assert.rejects(data.users.get(user.id), UndecryptableValueError);
    });

    test('export reads users and enrollment tokens in clear; import seals them under the importing tenant key', async () => {
      const source = await seedTenant(h, 'FI');
      const target = await seedTenant(h, 'DK');
      const user = await h.runtime.services.users.createUser(SYSTEM, source.tenantId, USER);
      await h.runtime.services.enrollment.createToken(SYSTEM, source.tenantId, { ownership: 'corporate', userEmail: TOKEN_EMAIL });
      const from = await h.runtime.services.tenants.data(source.tenantId);
      const [exported] = await from.tableRows.page('users', ['id'], null, 10);
      assert.deepEqual([exported?.['user_name'], exported?.['email'], exported?.['phone']], Object.values(USER));
      assert.ok(!('user_name_hash' in (exported ?? {})) && !('email_hash' in (exported ?? {})), 'no lookup hash leaves the store');
      const tokens = await from.tableRows.page('enrollment_tokens', ['id'], null, 10);
      assert.ok(tokens.some((row) => row['user_email'] === TOKEN_EMAIL));

      const into = await h.runtime.services.tenants.data(target.tenantId);
      await into.tableRows.insert('users', [exported ?? {}]);
      const raw = await h.runtime.storage
        .inspectRegionStore(target.region)
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', target.tenantId)
        .executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(raw).toLowerCase().includes(USER.userName.toLowerCase()), 'the imported user is encrypted');
      const cipher = await h.runtime.storage.tenantKeys.cipher(target.tenantId);
      assert.equal(cipher.decrypt('users.email', String(raw.email)), USER.email, "under the importing tenant's key");
      assert.equal((await into.users.findByUserName(USER.userName.toUpperCase()))?.id, user.id, 'and findable by its hash');
    });

    /** The tenant's raw rows of an audit table as lower-cased text. */
    const rawAuditText = async (region: string, tenantId: string, table: 'audit_events' | 'imported_audit_events') =>
      JSON.stringify(
        await h.runtime.storage.inspectRegionStore(region).selectFrom(table).selectAll().where('tenant_id', '=', tenantId).execute(),
      ).toLowerCase();

    type ListedEvent = { activity: string; result: string; actor: { name: string }; targets: { id: string; name?: string }[] };
    const auditEvents = async (token: string, query: string) => {
      const res = await inject('GET', `/api/v1/audit-events?limit=500${query}`, token);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ items: ListedEvent[] }>().items;
    };
    const verified = async (token: string) => (await inject('GET', '/api/v1/audit-events/verify', token)).json<{ intact: boolean }>();

    test('audit events store the actor name and targets encrypted; list, target filter, verify and rotation work', async () => {
      const t = await seedTenant(h, 'IE');
      const grace = { userName: 'Grace.Audit@example.com', email: 'grace.audit@example.org', password: PASSWORD };
      const created = await inject('POST', '/api/v1/users', t.adminToken, grace);
      assert.equal(created.statusCode, 201, created.body);
      const user = created.json<{ id: string }>();
      const failed = await h.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { tenantId: t.tenantId, userName: grace.userName, password: 'not the password' },
      });
      assert.equal(failed.statusCode, 401);
      assert.equal((await signIn(t.tenantId, grace.userName)).statusCode, 200);
      const renamed = await inject('PATCH', `/api/v1/users/${user.id}`, t.adminToken, { displayName: 'Grace Hopper-Secret' });
      assert.equal(renamed.statusCode, 200, renamed.body);

      const secrets = [grace.userName, grace.email, 'Grace Hopper-Secret'];
      const text = await rawAuditText(t.region, t.tenantId, 'audit_events');
      for (const value of secrets) assert.ok(!text.includes(value.toLowerCase()), `${value} is not stored in clear`);
      const store = h.runtime.storage.inspectRegionStore(t.region);
      const rows = await store.selectFrom('audit_events').selectAll().where('tenant_id', '=', t.tenantId).execute();
      for (const row of rows) {
        assert.match(row.actor_name, /^v1:1:/, 'the actor name is encrypted');
        assert.match(row.targets, /^v1:1:/, 'the targets are encrypted');
      }
      assert.ok(
        rows.some((r) => r.target_ids === `|${user.id}|`),
        'the target ids stay in clear for the filter',
      );

      const signIns = await auditEvents(t.adminToken, '&activity=Sign%20in');
      assert.deepEqual(
        signIns.map((e) => [e.result, e.actor.name]),
        [
          ['success', grace.userName],
          ['failure', grace.userName],
        ],
        'the API shows the actor names decrypted',
      );
      assert.equal(signIns[1]?.targets[0]?.name, grace.userName, 'and the targets');
      const aboutUser = await auditEvents(t.adminToken, `&targetId=${user.id}`);
      assert.deepEqual(
        aboutUser.map((e) => e.activity),
        ['Update user', 'Sign in', 'Create user'],
        'the target filter matches whole ids (a successful sign-in targets the session)',
      );
      assert.deepEqual(await auditEvents(t.adminToken, `&targetId=${user.id.slice(0, 8)}`), [], 'not a part of one');
      assert.equal((await verified(t.adminToken)).intact, true);

      const report = await h.runtime.services.keyRotation.rotate(SYSTEM, t.tenantId, { batchSize: 2, settleMs: 0 });
      assert.equal(report.auditEventsScanned, rows.length);
      const rotated = await store.selectFrom('audit_events').selectAll().where('tenant_id', '=', t.tenantId).execute();
      for (const row of rotated) {
        assert.match(row.actor_name, /^v1:2:/, 'the actor name is under the new key version');
        assert.match(row.targets, /^v1:2:/);
      }
      assert.equal((await verified(t.adminToken)).intact, true, 'the chain verifies after the rotation');
      assert.equal((await auditEvents(t.adminToken, `&targetId=${user.id}`)).length, 3);
      assert.equal((await auditEvents(t.adminToken, '&activity=Sign%20in'))[0]?.actor.name, grace.userName);
    });

    test('an import stores the imported chain encrypted; it lists decrypted, filters by target and verifies', async () => {
      const source = await seedTenant(h, 'LU');
      const hal = await h.runtime.services.users.createUser(SYSTEM, source.tenantId, {
        userName: 'Hal.Import@example.com',
        password: PASSWORD,
      });
      assert.equal((await signIn(source.tenantId, 'Hal.Import@example.com')).statusCode, 200);
      const chunks: Buffer[] = [];
      const out = new PassThrough();
      out.on('data', (c: Buffer) => chunks.push(c));
      await h.runtime.services.exports.exportTo(SYSTEM, source.tenantId, out);
      const { tenant: target } = await h.runtime.services.tenants.create({ name: 'Imported', country: 'LU' });
      await h.runtime.services.exports.importFrom(SYSTEM, target.id, Readable.from([Buffer.concat(chunks)]));

      const text = await rawAuditText(target.region, target.id, 'imported_audit_events');
      assert.ok(text.length > 10 && !text.includes('hal.import@example.com'), 'no imported actor name is stored in clear');
      const { token } = await h.runtime.services.apiTokens.create(SYSTEM, target.id, { role: 'Tenant Administrator' });
      const imported = await auditEvents(token, '&source=imported&activity=Sign%20in');
      assert.deepEqual(
        imported.map((e) => e.actor.name),
        ['Hal.Import@example.com'],
      );
      assert.deepEqual(
        (await auditEvents(token, `&source=imported&targetId=${hal.id}`)).map((e) => e.activity),
        ['Create user'],
      );
      assert.equal((await verified(token)).intact, true);
      const report = await h.runtime.services.keyRotation.rotate(SYSTEM, target.id, { batchSize: 2, settleMs: 0 });
      assert.ok(report.importedAuditEventsScanned >= 3);
      const rows = await h.runtime.storage
        .inspectRegionStore(target.region)
        .selectFrom('imported_audit_events')
        .select('actor_name')
        .where('tenant_id', '=', target.id)
        .execute();
      for (const row of rows) assert.match(row.actor_name, /^v1:2:/);
      assert.equal((await verified(token)).intact, true, 'the imported chain verifies after the rotation');
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

for (const { name, create } of BACKENDS) {
  test(`users and enrollment tokens stored in clear before migration 0016 are encrypted once when it is applied, on ${name}`, async () => {
    const backend = await create();
    const storage = Storage.open(backend.config, TEST_REGIONS);
    try {
      const db = storage.inspectRegionStore('eu');
      const migrations = { getMigrations: () => Promise.resolve(regionMigrations) };
      const { error } = await new Migrator({ db: db as Kysely<unknown>, provider: migrations }).migrateTo('0015-policy-scope-tags');
      assert.equal(error, undefined);
      const tenantId = randomUUID();
      const legacy = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
      await legacy
        .insertInto('users')
        .values({
          tenant_id: tenantId,
          id: randomUUID(),
          user_name: 'Erin.Legacy@example.com',
          user_name_key: 'erin.legacy@example.com',
          display_name: null,
          email: 'erin@example.org',
          source: 'cloud',
          external_id: null,
          active: 1,
          password_hash: null,
          password_changed_at: null,
          last_sign_in_at: null,
          created_at: 1,
          updated_at: 1,
        })
        .execute();
      await legacy
        .insertInto('enrollment_tokens')
        .values({
          tenant_id: tenantId,
          id: randomUUID(),
          secret_hash: 'legacy-hash',
          ownership: 'corporate',
          uses: 0,
          device_limit_per_user: 5,
          user_email: 'frank@example.com',
          expires_at: 10,
          created_at: 1,
        })
        .execute();
      await storage.migrate();
      const user = await db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
      assert.match(String(user.user_name), /^v1:1:/);
      assert.match(String(user.email), /^v1:1:/);
      assert.equal(user.phone, null);
      assert.ok(!('user_name_key' in user), 'the clear lower-cased user name column is gone');
      const cipher = await storage.tenantKeys.cipher(tenantId);
      assert.equal(cipher.decrypt('users.user_name', String(user.user_name)), 'Erin.Legacy@example.com');
      assert.equal(user.user_name_hash, cipher.searchHash('users.user_name', 'erin.legacy@example.com'));
      assert.equal(user.email_hash, cipher.searchHash('users.email', 'erin@example.org'));
      const token = await db.selectFrom('enrollment_tokens').selectAll().where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
      assert.equal(cipher.decrypt('enrollment_tokens.user_email', String(token.user_email)), 'frank@example.com');
    } finally {
      await storage.close();
      await backend.dispose();
    }
  });
}

for (const { name, create } of BACKENDS) {
  test(`audit events stored in clear before migration 0019 are encrypted once when it is applied, on ${name}`, async () => {
    const backend = await create();
    const storage = Storage.open(backend.config, TEST_REGIONS);
    try {
      const db = storage.inspectRegionStore('eu');
      const migrations = { getMigrations: () => Promise.resolve(regionMigrations) };
      const { error } = await new Migrator({ db: db as Kysely<unknown>, provider: migrations }).migrateTo('0018-apple-identity-renewal');
      assert.equal(error, undefined);
      const tenantId = randomUUID();
      const event = {
        tenant_id: tenantId,
        sequence: 1,
        id: randomUUID(),
        occurred_at: 1,
        actor_type: 'user',
        actor_id: 'u-1',
        actor_name: 'Ivy.Legacy@example.com',
        actor_ip: null,
        activity: 'Sign in',
        category: 'SignIn',
        operation: 'signIn',
        result: 'failure',
        targets: JSON.stringify([{ type: 'user', id: 'u-1', name: 'Ivy.Legacy@example.com' }]),
        correlation_id: null,
        previous_hash: 'genesis',
        hash: 'h1',
      };
      const legacy = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
      await legacy.insertInto('audit_events').values(event).execute();
      await legacy
        .insertInto('imported_audit_events')
        .values({ ...event, position: 1, source_tenant_id: randomUUID(), id: randomUUID() })
        .execute();
      await storage.migrate();
      const cipher = await storage.tenantKeys.cipher(tenantId);
      for (const table of ['audit_events', 'imported_audit_events'] as const) {
        const row = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
        assert.match(row.actor_name, /^v1:1:/, `${table}.actor_name is encrypted`);
        assert.equal(cipher.decrypt(`${table}.actor_name`, row.actor_name), 'Ivy.Legacy@example.com');
        assert.equal(cipher.decrypt(`${table}.targets`, row.targets), event.targets);
        assert.equal(row.target_ids, '|u-1|', 'the target ids are filled');
      }
      const marker = await db.selectFrom('store_meta').selectAll().where('key', '=', AUDIT_ENCRYPTION_PENDING).execute();
      assert.deepEqual(marker, [], 'the one-time step is done');
      for (const spec of AUDIT_SEALED_TABLES) {
        assert.equal(await encryptLegacyValues(db, spec, (id) => storage.tenantKeys.cipher(id)), 0, 'a second run rewrites nothing');
      }
    } finally {
      await storage.close();
      await backend.dispose();
    }
  });
}
