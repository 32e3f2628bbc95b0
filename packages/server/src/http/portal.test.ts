/**
 * The Company Portal's API and the dashboard summary through the real app, on SQLite and PostgreSQL:
 * a user sees only their own devices with plain-words reasons, may sync, rename and remove (personal
 * only) them, reads what the organization can see, and gets a one-time enrollment code; API tokens
 * and other users get nothing; cookie writes need the CSRF token. The portals' pages are served with
 * a Content-Security-Policy, and API paths never fall through to them.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalInventoryJson, describeCollection, type InventoryDocument } from '@custos/shared';
import { BACKENDS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, SYSTEM, type Harness } from '../test-support/harness.js';
import { digestOf, TestDevice } from '../test-support/test-device.js';

const inventory = (osVersion: string, encrypted: boolean): InventoryDocument => ({
  hardware: { deviceName: 'ana-laptop', operatingSystem: 'Ubuntu', osVersion, encrypted, serialNumber: 'SN-1' },
  apps: [],
});

for (const { name, create } of BACKENDS) {
  describe(`Company Portal API on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    let t: Awaited<ReturnType<typeof seedTenant>>;
    let ana: { cookie: string; csrf: string };
    let bob: { cookie: string; csrf: string };
    let personal: TestDevice;
    let corporate: TestDevice;

    const signIn = async (userName: string) => {
      const user = await h.runtime.services.users.createUser(SYSTEM, t.tenantId, { userName });
      const started = await h.runtime.services.sessions.start(t.tenantId, user, {
        method: 'password',
        mfaSatisfied: false,
        context: { ip: '127.0.0.1', correlationId: null },
      });
      return { cookie: `custos_session=${started.cookie}`, csrf: started.csrfToken };
    };
    const as = (who: { cookie: string; csrf: string }, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, csrf = true) =>
      h.app.inject({
        method,
        url,
        headers: { cookie: who.cookie, ...(csrf && method !== 'GET' ? { 'x-csrf-token': who.csrf } : {}) },
        ...(payload ? { payload } : {}),
      });
    const upload = (device: TestDevice, doc: InventoryDocument) =>
      device.checkIn({ inventoryDigest: digestOf(canonicalInventoryJson(doc)), inventory: doc });

    before(async () => {
      t = await seedTenant(h, 'GB', 'personal');
      ana = await signIn('ana@example.com');
      bob = await signIn('bob@example.com');
      const forAna = await h.runtime.services.enrollment.createToken(SYSTEM, t.tenantId, {
        ownership: 'personal',
        userEmail: 'ana@example.com',
      });
      const corpForAna = await h.runtime.services.enrollment.createToken(SYSTEM, t.tenantId, {
        ownership: 'corporate',
        userEmail: 'ANA@example.com',
      });
      personal = await TestDevice.enroll(h.app, forAna.token);
      corporate = await TestDevice.enroll(h.app, corpForAna.token);
      const policy = await h.runtime.services.compliance.create(SYSTEM, t.tenantId, {
        name: 'Baseline',
        settings: { requireEncryption: true, minimumOsVersion: '12.0' },
      });
      await h.runtime.services.compliance.setAssignments(SYSTEM, t.tenantId, policy.id, [{ target: 'allDevices', mode: 'include' }]);
      assert.equal((await upload(personal, inventory('11.2', false))).res.statusCode, 200);
      assert.equal((await upload(corporate, inventory('12.4', true))).res.statusCode, 200);
    });

    test('a user sees their own devices, whether each can reach company resources, and why not', async () => {
      const res = await as(ana, 'GET', '/api/v1/me/devices');
      assert.equal(res.statusCode, 200, res.body);
      const items = res.json<{ items: { id: string; canAccessCompanyResources: boolean; reasons: string[]; complianceState: string }[] }>()
        .items;
      assert.deepEqual(items.map((d) => d.id).sort(), [personal.id, corporate.id].sort());
      const mine = items.find((d) => d.id === personal.id)!;
      assert.equal(mine.complianceState, 'noncompliant');
      assert.equal(mine.canAccessCompanyResources, false);
      assert.ok(
        mine.reasons.some((r) => /11\.2/.test(r) && /12\.0/.test(r)),
        JSON.stringify(mine.reasons),
      );
      assert.ok(
        mine.reasons.some((r) => /encrypt/i.test(r)),
        JSON.stringify(mine.reasons),
      );
      assert.equal(items.find((d) => d.id === corporate.id)?.canAccessCompanyResources, true);

      const others = await as(bob, 'GET', '/api/v1/me/devices');
      assert.deepEqual(others.json<{ items: unknown[] }>().items, []);
      const info = await as(ana, 'GET', '/api/v1/portal/info');
      assert.ok(info.json<{ tenantName: string }>().tenantName.length > 0);
    });

    test("sync and rename queue commands; removal is for personal devices only; nobody reaches another user's device", async () => {
      assert.equal((await as(ana, 'POST', `/api/v1/me/devices/${personal.id}/sync`)).statusCode, 204);
      const noCsrf = await as(ana, 'POST', `/api/v1/me/devices/${personal.id}/rename`, { deviceName: 'ana-2' }, false);
      assert.equal(noCsrf.statusCode, 403);
      assert.equal(noCsrf.json<{ code: string }>().code, 'csrf-failed');
      assert.equal(
        (await as(ana, 'POST', `/api/v1/me/devices/${personal.id}/rename`, { deviceName: 'not a valid name!' })).statusCode,
        400,
      );
      assert.equal((await as(ana, 'POST', `/api/v1/me/devices/${personal.id}/rename`, { deviceName: 'ana-2' })).statusCode, 204);
      const commands = await h.runtime.services.commands.list(SYSTEM, t.tenantId, personal.id);
      assert.deepEqual(commands.map((c) => c.action).sort(), ['rename', 'sync']);
      assert.equal(commands.find((c) => c.action === 'rename')?.payload?.deviceName, 'ana-2');

      const stolen = await as(bob, 'POST', `/api/v1/me/devices/${personal.id}/sync`);
      assert.equal(stolen.statusCode, 404);
      assert.equal((await as(bob, 'DELETE', `/api/v1/me/devices/${personal.id}`)).statusCode, 404);

      const corp = await as(ana, 'DELETE', `/api/v1/me/devices/${corporate.id}`);
      assert.equal(corp.statusCode, 403);
      assert.equal((await as(ana, 'DELETE', `/api/v1/me/devices/${personal.id}`)).statusCode, 204);
      const after = await h.runtime.services.commands.list(SYSTEM, t.tenantId, personal.id);
      assert.ok(after.some((c) => c.action === 'retire'));
      const audit = await h.runtime.services.audit.list(SYSTEM, t.tenantId, { activity: 'Device action: retire' }, {});
      assert.equal(audit.items[0]?.actor.name, 'ana@example.com', 'the audit log shows the user, not a system actor');
    });

    test('"what your organization can see" is generated from the catalog; API tokens have no devices', async () => {
      const res = await as(ana, 'GET', `/api/v1/me/devices/${corporate.id}/visibility`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{ collected: { label: string }[]; apps: string; neverCollected: string[] }>();
      const expected = describeCollection('corporate', 'linux', false);
      assert.deepEqual(
        body.collected.map((f) => f.label),
        expected.collected.map((f) => f.label),
      );
      assert.equal(body.apps, expected.apps);
      assert.deepEqual(body.neverCollected, expected.neverCollected);

      const token = await h.app.inject({ url: '/api/v1/me/devices', headers: { authorization: `Bearer ${t.adminToken}` } });
      assert.equal(token.statusCode, 403);
      const anonymous = await h.app.inject({ url: '/api/v1/me/devices' });
      assert.equal(anonymous.statusCode, 401);
    });

    test('a one-time enrollment code for a personal device of the user', async () => {
      const res = await as(bob, 'POST', '/api/v1/me/enrollment-tokens');
      assert.equal(res.statusCode, 201, res.body);
      const { token } = res.json<{ token: string }>();
      const device = await TestDevice.enroll(h.app, token);
      const mine = (await as(bob, 'GET', '/api/v1/me/devices')).json<{ items: { id: string; ownership: string }[] }>().items;
      assert.deepEqual(
        mine.map((d) => [d.id, d.ownership]),
        [[device.id, 'personal']],
      );
      await assert.rejects(TestDevice.enroll(h.app, token), 'the code works once');
    });

    test('the dashboard summary counts active devices by state, platform, ownership and OS version', async () => {
      const res = await h.app.inject({ url: '/api/v1/devices/summary', headers: { authorization: `Bearer ${t.adminToken}` } });
      assert.equal(res.statusCode, 200, res.body);
      const s = res.json<{
        total: number;
        byComplianceState: { key: string; count: number }[];
        byOwnership: { key: string; count: number }[];
        byOsVersion: { osVersion: string | null; count: number }[];
        checkInsByDay: { day: string; count: number }[];
      }>();
      const devices = await h.runtime.services.devices.list(SYSTEM, t.tenantId, { status: 'active' });
      assert.equal(s.total, devices.items.length);
      assert.equal(
        s.byComplianceState.reduce((n, c) => n + c.count, 0),
        s.total,
      );
      assert.ok(s.byOsVersion.some((v) => v.osVersion === '12.4' && v.count === 1));
      assert.equal(s.checkInsByDay.length, 14);
      assert.equal(s.checkInsByDay.at(-1)?.day, new Date().toISOString().slice(0, 10));
      assert.ok((s.checkInsByDay.at(-1)?.count ?? 0) >= 1);
      const readOnly = (await h.runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role: 'Application Manager' })).token;
      assert.equal(
        (await h.app.inject({ url: '/api/v1/devices/summary', headers: { authorization: `Bearer ${readOnly}` } })).statusCode,
        200,
      );
      const privacy = (await h.runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role: 'Role Administrator' })).token;
      assert.equal(
        (await h.app.inject({ url: '/api/v1/devices/summary', headers: { authorization: `Bearer ${privacy}` } })).statusCode,
        403,
      );
    });

    test('admins set the privacy statement (its version goes up), the support contact and the branding', async () => {
      const admin = { authorization: `Bearer ${t.adminToken}` };
      const put = (payload: object, headers: Record<string, string> = admin) =>
        h.app.inject({ method: 'PUT', url: '/api/v1/tenant/settings', headers, payload });
      const before = await h.app.inject({ url: '/api/v1/tenant/settings', headers: admin });
      assert.equal(before.statusCode, 200, before.body);
      const version = before.json<{ privacyStatement: { version: string } }>().privacyStatement.version;

      const res = await put({
        privacyStatementText: 'We see device health, never your messages.',
        supportContact: 'IT desk, ext. 4242',
        branding: { displayName: 'Acme IT', accentColor: '#0b57d0' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const after = res.json<{
        privacyStatement: { version: string; text: string };
        supportContact: string;
        branding: { accentColor: string };
      }>();
      assert.equal(after.privacyStatement.version, String(Number(version) + 1));
      assert.equal(after.supportContact, 'IT desk, ext. 4242');
      const info = (await as(ana, 'GET', '/api/v1/portal/info')).json<{
        tenantName: string;
        supportContact: string;
        privacyStatement: { text: string };
      }>();
      assert.equal(info.tenantName, 'Acme IT');
      assert.equal(info.privacyStatement.text, 'We see device health, never your messages.');
      // New enrollments consent to the new version.
      const enrollInfo = await h.app.inject({ url: `/api/v1/enroll/info?token=${encodeURIComponent(t.enrollmentToken)}&platform=linux` });
      assert.match(enrollInfo.body, new RegExp(`"version":"${after.privacyStatement.version}"`));
      // Only the support contact changes: the statement keeps its version.
      const again = await put({ supportContact: 'it@acme.example' });
      assert.equal(again.json<{ privacyStatement: { version: string } }>().privacyStatement.version, after.privacyStatement.version);

      for (const bad of [{ branding: { accentColor: 'blue' } }, { privacyStatementUrl: 'ftp://x.example/p' }, { color: 1 }]) {
        const refused = await put(bad);
        assert.equal(refused.statusCode, 400, JSON.stringify(bad));
      }
      const readOnly = (await h.runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role: 'Read Only Operator' })).token;
      assert.equal((await put({ supportContact: 'nope' }, { authorization: `Bearer ${readOnly}` })).statusCode, 403);
      const unchanged = (await h.app.inject({ url: '/api/v1/tenant/settings', headers: admin })).json<{ supportContact: string }>();
      assert.equal(unchanged.supportContact, 'it@acme.example');
    });

    test('the portals are served with a CSP; API paths never fall through to them', async () => {
      for (const url of ['/', '/devices', `/devices/${personal.id}`, '/portal']) {
        const res = await h.app.inject({ url });
        assert.equal(res.statusCode, 200, url);
        assert.match(String(res.headers['content-type']), /text\/html/);
        assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
      }
      const api = await h.app.inject({ url: '/api/v1/nothing-here' });
      assert.equal(api.statusCode, 404);
      assert.match(String(api.headers['content-type']), /problem\+json/);
    });
  });
}
