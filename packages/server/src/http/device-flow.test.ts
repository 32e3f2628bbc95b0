/**
 * The device and admin API through the real app (inject), on SQLite and PostgreSQL: enrollment,
 * sessions, check-ins with inventory, and every refusal leaving the stores as they were.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalInventoryJson, diffInventory, type InventoryDocument } from '@custos/shared';
import { BACKENDS, TEST_REGIONS } from '../test-support/backends.js';
import { seedTenant, harnessPerSuite, SYSTEM, type Harness } from '../test-support/harness.js';
import { digestOf, makeCsr, TestDevice } from '../test-support/test-device.js';

const inventory: InventoryDocument = {
  hardware: {
    deviceName: 'laptop-17',
    manufacturer: 'LENOVO',
    model: 'ThinkPad X1',
    operatingSystem: 'Debian GNU/Linux',
    osVersion: '12',
    processor: 'Intel Core i7',
    serialNumber: 'PF-12345',
    encrypted: true,
    wifiMac: 'aa:bb:cc:dd:ee:ff',
    ethernetMac: null,
    freeStorageBytes: 1000,
    totalStorageBytes: 5000,
  },
  apps: [
    { name: 'firefox-esr', version: '115', appId: 'firefox-esr', installLocation: null, sizeBytes: 1, managed: false },
    { name: 'company-vpn', version: '2.0', appId: 'company-vpn', installLocation: null, sizeBytes: 2, managed: true },
  ],
};
const digest = (doc: InventoryDocument) => digestOf(canonicalInventoryJson(doc));

for (const { name, create } of BACKENDS) {
  describe(`device flow on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started), 256 * 1024);
    let gb: Awaited<ReturnType<typeof seedTenant>>;
    let us: Awaited<ReturnType<typeof seedTenant>>;
    const admin = (token: string) => ({ authorization: `Bearer ${token}` });

    before(async () => {
      gb = await seedTenant(h, 'GB');
      us = await seedTenant(h, 'US', 'personal');
    });

    test('a corporate device enrolls, checks in, and the admin API shows it with every app', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      assert.equal(device.enrollment.appInventoryScope, 'all');
      assert.match(device.enrollment.certificate, /BEGIN CERTIFICATE/);
      const first = await device.checkIn({ inventoryDigest: digest(inventory), inventory });
      assert.equal(first.res.statusCode, 200, first.res.body);
      assert.equal(first.res.json().inventory, 'stored');
      const again = await device.checkIn({ inventoryDigest: digest(inventory) });
      assert.equal(again.res.json().inventory, 'unchanged');

      const got = await h.app.inject({ url: `/api/v1/devices/${device.id}`, headers: admin(gb.adminToken) });
      assert.equal(got.statusCode, 200);
      const dto = got.json();
      assert.equal(dto.serialNumber, 'PF-12345');
      assert.equal(dto.model, 'ThinkPad X1');
      assert.equal(dto.encrypted, true);
      assert.equal(dto.ethernetMac, null);
      assert.equal(dto.ownership, 'corporate');
      assert.equal(dto.complianceState, 'compliant', 'no policy applies: the tenant default');
      assert.ok(dto.lastCheckInAt);
      assert.equal(dto.consent.privacyStatementVersion, '1');
      const apps = await h.app.inject({ url: `/api/v1/devices/${device.id}/apps`, headers: admin(gb.adminToken) });
      assert.deepEqual(
        apps.json().items.map((a: { name: string }) => a.name),
        ['company-vpn', 'firefox-esr'],
      );
      const list = await h.app.inject({ url: '/api/v1/devices?search=laptop', headers: admin(gb.adminToken) });
      assert.equal(list.json().items.length, 1);
      assert.equal(list.json().nextCursor, null);
    });

    test('a delta check-in applies only what changed; a stale base asks for the whole inventory', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      await device.checkIn({ inventoryDigest: digest(inventory), inventory });
      const next: InventoryDocument = {
        hardware: { ...inventory.hardware, osVersion: '13' },
        apps: [inventory.apps[1]!, { name: 'git', version: '2.39', appId: 'git', installLocation: null, sizeBytes: 3, managed: false }],
      };
      const delta = diffInventory(inventory, next, digest(inventory));
      const r = await device.checkIn({ inventoryDigest: digest(next), delta });
      assert.equal(r.res.statusCode, 200, r.res.body);
      const dto = (await h.app.inject({ url: `/api/v1/devices/${device.id}`, headers: admin(gb.adminToken) })).json();
      assert.equal(dto.osVersion, '13');
      const apps = (await h.app.inject({ url: `/api/v1/devices/${device.id}/apps`, headers: admin(gb.adminToken) })).json();
      assert.deepEqual(apps.items.map((a: { name: string }) => a.name).sort(), ['company-vpn', 'git']);
      const stale = await device.checkIn({ inventoryDigest: 'x', delta: { ...delta, baseDigest: 'stale' } });
      assert.equal(stale.res.statusCode, 409);
      assert.equal(stale.res.json().code, 'inventory-base-mismatch');
      const unchanged = await device.checkIn({ inventoryDigest: 'something-else' });
      assert.equal(unchanged.res.json().inventory, 'required');
    });

    test('a personal device stores only managed apps (read from the store itself)', async () => {
      const device = await TestDevice.enroll(h.app, us.enrollmentToken);
      assert.equal(device.enrollment.appInventoryScope, 'managed-only');
      const r = await device.checkIn({ inventoryDigest: digest(inventory), inventory });
      assert.equal(r.res.statusCode, 200, r.res.body);
      const rows = await h.runtime.storage
        .inspectRegionStore('us')
        .selectFrom('device_apps')
        .select(['name', 'managed'])
        .where('tenant_id', '=', us.tenantId)
        .where('device_id', '=', device.id)
        .execute();
      assert.deepEqual(rows, [{ name: 'company-vpn', managed: 1 }]);
    });

    test('an undeclared or prohibited field is refused with 422 naming each one, and nothing changes', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      await device.checkIn({ inventoryDigest: digest(inventory), inventory });
      const before = (await h.app.inject({ url: `/api/v1/devices/${device.id}`, headers: admin(gb.adminToken) })).json();
      const bad = {
        hardware: { ...inventory.hardware, osVersion: '99', gpsLocation: '51.5,-0.1', favouriteColour: 'blue' },
        apps: [{ name: 'x', browsingHistory: ['a'] }],
        contacts: [],
      };
      const r = await device.checkIn({ inventoryDigest: 'bad', inventory: bad });
      assert.equal(r.res.statusCode, 422);
      assert.equal(r.res.headers['content-type'], 'application/problem+json; charset=utf-8');
      const body = r.res.json();
      assert.equal(body.code, 'inventory-fields-refused');
      const fields = body.errors.map((e: { field: string }) => e.field).sort();
      assert.deepEqual(fields, ['apps[0].browsingHistory', 'contacts', 'hardware.favouriteColour', 'hardware.gpsLocation']);
      assert.equal(body.errors.find((e: { field: string }) => e.field === 'hardware.gpsLocation').category, 'location');
      const afterRefusal = (await h.app.inject({ url: `/api/v1/devices/${device.id}`, headers: admin(gb.adminToken) })).json();
      assert.deepEqual(afterRefusal, before, 'the stored device did not change at all, not even its check-in time');
      const wrongType = await device.checkIn({
        inventoryDigest: 'bad',
        inventory: { hardware: { encrypted: 'yes', totalStorageBytes: -1 }, apps: [] },
      });
      assert.equal(wrongType.res.statusCode, 422);
      assert.equal(wrongType.res.json().errors.length, 2);
      const platformExtra = await device.checkIn({ inventoryDigest: 'bad', inventory: { hardware: { imei: '123' }, apps: [] } });
      assert.equal(platformExtra.res.statusCode, 422, 'IMEI is not declared for Linux');
    });

    test('a replayed device request is refused and changes nothing', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const first = await device.checkIn({ inventoryDigest: digest(inventory), inventory });
      assert.equal(first.res.statusCode, 200);
      const replay = await h.app.inject({ method: 'POST', url: '/api/v1/agent/checkin', payload: first.body, headers: first.headers });
      assert.equal(replay.statusCode, 401);
      assert.equal(replay.json().code, 'device-request-replayed');
      // A captured session start cannot be replayed either.
      const body = '{}';
      const headers = device.signedHeaders('POST', '/api/v1/agent/session', body);
      assert.equal((await h.app.inject({ method: 'POST', url: '/api/v1/agent/session', payload: body, headers })).statusCode, 200);
      assert.equal(
        (await h.app.inject({ method: 'POST', url: '/api/v1/agent/session', payload: body, headers })).json().code,
        'device-request-replayed',
      );
      // Tampering with the body breaks the MAC.
      const tampered = device.macHeaders('POST', '/api/v1/agent/checkin', '{"inventoryDigest":"a"}');
      const t = await h.app.inject({ method: 'POST', url: '/api/v1/agent/checkin', payload: '{"inventoryDigest":"b"}', headers: tampered });
      assert.equal(t.json().code, 'device-auth-failed');
      // A signature from the past is refused.
      const old = device.signedHeaders('POST', '/api/v1/agent/session', body, ++device.seq, Date.now() - 3_600_000);
      assert.equal(
        (await h.app.inject({ method: 'POST', url: '/api/v1/agent/session', payload: body, headers: old })).json().code,
        'device-auth-failed',
      );
    });

    test('retiring a device revokes its credential at once', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      await device.checkIn({ inventoryDigest: digest(inventory), inventory });
      const del = await h.app.inject({ method: 'DELETE', url: `/api/v1/devices/${device.id}`, headers: admin(gb.adminToken) });
      assert.equal(del.statusCode, 200);
      assert.equal(del.json().status, 'retired');
      const r = await device.checkIn({ inventoryDigest: digest(inventory) });
      assert.equal(r.res.statusCode, 403);
      assert.equal(r.res.json().code, 'device-not-active');
      await assert.rejects(device.startSession(), /403/);
      const apps = await h.app.inject({ url: `/api/v1/devices/${device.id}/apps`, headers: admin(gb.adminToken) });
      assert.equal(apps.json().items.length, 0, 'app inventory deleted with the retirement');
    });

    test('the agent can unenroll itself', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const r = await device.post('/api/v1/agent/unenroll', {});
      assert.equal(r.res.statusCode, 204);
      assert.equal((await device.checkIn({ inventoryDigest: 'x' })).res.json().code, 'device-not-active');
    });

    test('enrollment tokens: expired, used up, revoked, wrong platform and unknown are refused with clear codes', async () => {
      const svc = h.runtime.services.enrollment;
      const once = await svc.createToken(SYSTEM, gb.tenantId, { ownership: 'corporate', maxUses: 1, platforms: ['linux'] });
      await TestDevice.enroll(h.app, once.token);
      const { csr } = await makeCsr();
      const enroll = (token: string, platform = 'linux') =>
        h.app.inject({
          method: 'POST',
          url: '/api/v1/enroll',
          payload: { token, csr, platform, consent: { privacyStatementVersion: '1', method: 'unattended' } },
        });
      assert.equal((await enroll(once.token)).json().code, 'enrollment-token-exhausted');
      const windowsOnly = await svc.createToken(SYSTEM, gb.tenantId, { ownership: 'corporate', platforms: ['windows'] });
      assert.equal((await enroll(windowsOnly.token)).json().code, 'enrollment-platform-not-allowed');
      const revoked = await svc.createToken(SYSTEM, gb.tenantId, { ownership: 'corporate' });
      await svc.revokeToken(SYSTEM, gb.tenantId, revoked.record.id);
      assert.equal((await enroll(revoked.token)).json().code, 'enrollment-token-revoked');
      const unknownTenant = once.token.replace(gb.tenantId, '00000000-0000-4000-8000-000000000000');
      assert.equal((await enroll(unknownTenant)).json().code, 'enrollment-token-invalid');
      assert.equal((await enroll('custos_enr_nonsense')).json().code, 'enrollment-token-invalid');
      const badCsr = await h.app.inject({
        method: 'POST',
        url: '/api/v1/enroll',
        payload: {
          token: revoked.token.replace('x', 'y'),
          csr: 'junk',
          platform: 'linux',
          consent: { privacyStatementVersion: '1', method: 'unattended' },
        },
      });
      assert.ok([401, 403].includes(badCsr.statusCode));
      const fresh = await svc.createToken(SYSTEM, gb.tenantId, { ownership: 'corporate' });
      const junkCsr = await h.app.inject({
        method: 'POST',
        url: '/api/v1/enroll',
        payload: { token: fresh.token, csr: 'junk', platform: 'linux', consent: { privacyStatementVersion: '1', method: 'unattended' } },
      });
      assert.equal(junkCsr.json().code, 'csr-invalid');
      const oldStatement = await h.app.inject({
        method: 'POST',
        url: '/api/v1/enroll',
        payload: { token: fresh.token, csr, platform: 'linux', consent: { privacyStatementVersion: '0', method: 'unattended' } },
      });
      assert.equal(oldStatement.statusCode, 409);
      const tokens = await svc.listTokens(SYSTEM, gb.tenantId);
      assert.equal(tokens.find((t) => t.id === fresh.record.id)?.uses, 0, 'refused enrollments do not count as uses');
    });

    test('an expired enrollment token is refused', async () => {
      const expired = await h.runtime.services.enrollment.createToken(SYSTEM, gb.tenantId, { ownership: 'corporate', expiresInHours: 1 });
      const data = await h.runtime.services.tenants.data(gb.tenantId);
      // Move the token's expiry into the past directly in its store.
      await h.runtime.storage
        .inspectRegionStore(data.region)
        .updateTable('enrollment_tokens')
        .set({ expires_at: Date.now() - 1 })
        .where('tenant_id', '=', gb.tenantId)
        .where('id', '=', expired.record.id)
        .execute();
      const info = await h.app.inject({ url: `/api/v1/enroll/info?token=${expired.token}` });
      assert.equal(info.json().code, 'enrollment-token-expired');
    });

    test('enrollment info is generated from the privacy catalog', async () => {
      const info = await h.app.inject({ url: `/api/v1/enroll/info?token=${us.enrollmentToken}` });
      assert.equal(info.statusCode, 200);
      const body = info.json();
      assert.equal(body.ownership, 'personal');
      assert.ok(body.collected.some((f: { name: string }) => f.name === 'serialNumber'));
      assert.match(body.apps, /Only the apps your organization installed/);
      assert.ok(body.neverCollected.includes('Location'));
    });

    test('bad input gets a clear 4xx problem and never a 5xx', async () => {
      const token = admin(gb.adminToken);
      const cases = [
        {
          method: 'POST' as const,
          url: '/api/v1/enroll',
          payload: '{not json',
          headers: { 'content-type': 'application/json' },
          code: 'malformed-json',
        },
        { method: 'POST' as const, url: '/api/v1/enroll', payload: { token: 5 }, code: 'validation-failed' },
        {
          method: 'POST' as const,
          url: '/api/v1/enroll',
          payload: 'token=x',
          headers: { 'content-type': 'text/plain' },
          code: 'unsupported-media-type',
        },
        {
          method: 'POST' as const,
          url: '/api/v1/agent/checkin',
          payload: '{not json',
          headers: { 'content-type': 'application/json' },
          code: 'malformed-json',
        },
        { method: 'POST' as const, url: '/api/v1/agent/checkin', payload: { inventoryDigest: 'x' }, code: 'device-auth-failed' },
        {
          method: 'POST' as const,
          url: '/api/v1/agent/checkin',
          payload: 'x'.repeat(300 * 1024),
          headers: { 'content-type': 'application/json' },
          code: 'payload-too-large',
        },
        {
          method: 'POST' as const,
          url: '/api/v1/enroll',
          payload: JSON.stringify({ token: 'x'.repeat(300 * 1024) }),
          headers: { 'content-type': 'application/json' },
          code: 'payload-too-large',
        },
        { method: 'GET' as const, url: '/api/v1/devices?limit=abc', headers: token, code: 'validation-failed' },
        { method: 'GET' as const, url: '/api/v1/devices?sort=nope', headers: token, code: 'validation-failed' },
        { method: 'GET' as const, url: '/api/v1/devices?bogus=1', headers: token, code: 'validation-failed' },
        { method: 'GET' as const, url: '/api/v1/devices?cursor=zzz', headers: token, code: 'invalid-cursor' },
        { method: 'GET' as const, url: '/api/v1/devices/not-a-uuid', headers: token, code: 'validation-failed' },
        { method: 'GET' as const, url: '/api/v1/devices/00000000-0000-4000-8000-000000000000', headers: token, code: 'not-found' },
        { method: 'GET' as const, url: '/api/v1/devices', code: 'unauthenticated' },
        { method: 'GET' as const, url: '/api/v1/devices', headers: { authorization: 'Bearer custos_api_nope' }, code: 'unauthenticated' },
        { method: 'GET' as const, url: '/api/v1/nowhere', code: 'route-not-found' },
        {
          method: 'POST' as const,
          url: '/api/v1/enrollment-tokens',
          payload: { ownership: 'stolen' },
          headers: token,
          code: 'validation-failed',
        },
        { method: 'GET' as const, url: '/api/v1/enroll/info', code: 'validation-failed' },
      ];
      for (const c of cases) {
        const res = await h.app.inject({ method: c.method, url: c.url, payload: c.payload, headers: c.headers });
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${c.url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
        assert.equal(res.json().code, c.code, `${c.method} ${c.url}`);
        assert.match(String(res.headers['content-type']), /application\/problem\+json/);
      }
    });

    test("a token sees only its own tenant, and only with its role's permissions", async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const other = await h.app.inject({ url: `/api/v1/devices/${device.id}`, headers: admin(us.adminToken) });
      assert.equal(other.statusCode, 404, "another tenant's device does not exist for this token");
      const readOnly = await h.runtime.services.apiTokens.create(SYSTEM, gb.tenantId, { role: 'Read Only Operator' });
      assert.equal((await h.app.inject({ url: `/api/v1/devices/${device.id}`, headers: admin(readOnly.token) })).statusCode, 200);
      const del = await h.app.inject({ method: 'DELETE', url: `/api/v1/devices/${device.id}`, headers: admin(readOnly.token) });
      assert.equal(del.statusCode, 403);
      assert.equal(del.json().code, 'forbidden');
      const mint = await h.app.inject({
        method: 'POST',
        url: '/api/v1/enrollment-tokens',
        payload: { ownership: 'corporate' },
        headers: admin(readOnly.token),
      });
      assert.equal(mint.statusCode, 403);
      await h.runtime.services.apiTokens.revoke(SYSTEM, gb.tenantId, readOnly.record.id);
      assert.equal((await h.app.inject({ url: '/api/v1/devices', headers: admin(readOnly.token) })).statusCode, 401);
    });

    test('enrollment tokens over the API: created once, listed without the secret, revoked', async () => {
      const created = await h.app.inject({
        method: 'POST',
        url: '/api/v1/enrollment-tokens',
        payload: { ownership: 'personal', maxUses: 3, platforms: ['linux', 'macos'], deviceLimitPerUser: 2 },
        headers: admin(gb.adminToken),
      });
      assert.equal(created.statusCode, 201);
      const body = created.json();
      assert.match(body.token, /^custos_enr_/);
      const list = (await h.app.inject({ url: '/api/v1/enrollment-tokens', headers: admin(gb.adminToken) })).json();
      const listed = list.items.find((t: { id: string }) => t.id === body.id);
      assert.equal(listed.token, undefined);
      assert.deepEqual(listed.platforms, ['linux', 'macos']);
      const del = await h.app.inject({ method: 'DELETE', url: `/api/v1/enrollment-tokens/${body.id}`, headers: admin(gb.adminToken) });
      assert.equal(del.statusCode, 204);
    });

    test('the device limit per user is enforced', async () => {
      const limited = await h.runtime.services.enrollment.createToken(SYSTEM, gb.tenantId, {
        ownership: 'personal',
        userEmail: 'sam@example.com',
        deviceLimitPerUser: 1,
      });
      await TestDevice.enroll(h.app, limited.token);
      await assert.rejects(TestDevice.enroll(h.app, limited.token), /enrollment-device-limit-reached/);
    });

    test('after all of the above, the other regions hold no row of either tenant', async () => {
      for (const region of TEST_REGIONS) {
        const db = h.runtime.storage.inspectRegionStore(region);
        for (const table of ['tenant_settings', 'tenant_ca', 'api_tokens', 'enrollment_tokens', 'devices', 'device_apps'] as const) {
          if (region !== 'eu')
            assert.equal((await db.selectFrom(table).select('tenant_id').where('tenant_id', '=', gb.tenantId).execute()).length, 0);
          if (region !== 'us')
            assert.equal((await db.selectFrom(table).select('tenant_id').where('tenant_id', '=', us.tenantId).execute()).length, 0);
        }
      }
    });

    test('health, readiness, the catalog and the OpenAPI document', async () => {
      assert.equal((await h.app.inject('/healthz')).json().status, 'ok');
      assert.equal((await h.app.inject('/readyz')).json().status, 'ready');
      const catalog = (await h.app.inject('/api/v1/privacy/catalog')).json();
      assert.ok(catalog.fields.find((f: { name: string }) => f.name === 'serialNumber').sensitivity === 'sensitive');
      const openapi = (await h.app.inject('/api/v1/openapi.json')).json();
      assert.equal(openapi.openapi, '3.1.0');
      assert.ok(openapi.paths['/api/v1/devices'].get);
      assert.ok(openapi.paths['/api/v1/devices/{id}/apps'].get);
    });
  });
}
