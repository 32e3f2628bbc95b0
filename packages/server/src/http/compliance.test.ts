/**
 * Compliance policies through the real app, on SQLite and PostgreSQL: CRUD with versions,
 * assignments, evaluation at check-in and after every policy change, the tenant's no-policy state,
 * the ownership rule's app scope (SPEC §4), validation and permissions.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { canonicalInventoryJson, type InventoryDocument } from '@custos/shared';
import { BACKENDS } from '../test-support/backends.js';
import { seedTenant, harnessPerSuite, SYSTEM, type Harness } from '../test-support/harness.js';
import { digestOf, TestDevice } from '../test-support/test-device.js';

const baseInventory: InventoryDocument = {
  hardware: {
    deviceName: 'laptop-7',
    operatingSystem: 'Debian GNU/Linux',
    osVersion: '11.2',
    serialNumber: 'C-1',
    encrypted: false,
  },
  apps: [
    { name: 'firefox-esr', version: '115', appId: 'firefox-esr', installLocation: null, sizeBytes: 1, managed: false },
    { name: 'company-vpn', version: '2.0', appId: 'company-vpn', installLocation: null, sizeBytes: 2, managed: true },
  ],
};
const withHardware = (hardware: InventoryDocument['hardware'], apps = baseInventory.apps): InventoryDocument => ({
  hardware: { ...baseInventory.hardware, ...hardware },
  apps,
});
const upload = (device: TestDevice, doc: InventoryDocument) =>
  device.checkIn({ inventoryDigest: digestOf(canonicalInventoryJson(doc)), inventory: doc });

interface PolicyDto {
  id: string;
  version: number;
  name: string;
  platform: string | null;
  settings: Record<string, unknown>;
  assignments: { target: string; groupId?: string; mode: string }[];
}
interface ComplianceDto {
  complianceState: string;
  policies: {
    policyId: string;
    name: string;
    version: number;
    state: string;
    settings: { setting: string; status: string; reason: string }[];
  }[];
}

for (const { name, create } of BACKENDS) {
  describe(`compliance policies on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });

    /** A fresh tenant per test, so policies assigned to all devices do not leak between tests. */
    const tenant = (ownership: 'corporate' | 'personal' = 'corporate') => seedTenant(h, 'GB', ownership);
    const call = async (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
      h.app.inject({ method, url, headers: auth(token), ...(payload === undefined ? {} : { payload: payload as object }) });
    const createPolicy = async (token: string, body: unknown): Promise<PolicyDto> => {
      const res = await call(token, 'POST', '/api/v1/compliance-policies', body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json<PolicyDto>();
    };
    const assign = async (token: string, id: string, assignments: unknown[]) => {
      const res = await call(token, 'PUT', `/api/v1/compliance-policies/${id}/assignments`, { assignments });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<PolicyDto>();
    };
    const compliance = async (token: string, deviceId: string): Promise<ComplianceDto> => {
      const res = await call(token, 'GET', `/api/v1/devices/${deviceId}/compliance`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<ComplianceDto>();
    };
    const deviceState = async (token: string, deviceId: string) =>
      (await call(token, 'GET', `/api/v1/devices/${deviceId}`)).json<{ complianceState: string; appInventoryScope: string }>();
    const ALL_DEVICES = { target: 'allDevices', mode: 'include' };

    test('create, read, update (the version goes up; a stale version is a 409) and soft delete', async () => {
      const t = await tenant();
      const other = await seedTenant(h, 'US');
      const created = await createPolicy(t.adminToken, { name: 'Baseline', settings: { requireEncryption: true } });
      assert.equal(created.version, 1);
      assert.equal(created.platform, null);
      assert.deepEqual(created.assignments, []);
      const got = await call(t.adminToken, 'GET', `/api/v1/compliance-policies/${created.id}`);
      assert.deepEqual(got.json(), created);
      const updated = await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${created.id}`, {
        name: 'Baseline v2',
        description: 'Encryption and a current OS',
        platform: 'linux',
        settings: { requireEncryption: true, minimumOsVersion: '12.0' },
        version: 1,
      });
      assert.equal(updated.statusCode, 200, updated.body);
      assert.equal(updated.json().version, 2);
      assert.equal(updated.json().platform, 'linux');
      const again = await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${created.id}`, { name: 'x', settings: {} });
      assert.equal(again.json().version, 3, 'every update increments the version');
      const stale = await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${created.id}`, { name: 'y', settings: {}, version: 2 });
      assert.equal(stale.statusCode, 409);
      assert.equal(stale.json().code, 'conflict');
      const list = await call(t.adminToken, 'GET', '/api/v1/compliance-policies');
      assert.deepEqual(
        list.json().items.map((p: PolicyDto) => p.id),
        [created.id],
      );
      // Another tenant's token does not see it.
      assert.equal((await call(other.adminToken, 'GET', `/api/v1/compliance-policies/${created.id}`)).statusCode, 404);
      assert.equal((await call(other.adminToken, 'GET', '/api/v1/compliance-policies')).json().items.length, 0);

      const deleted = await call(t.adminToken, 'DELETE', `/api/v1/compliance-policies/${created.id}`);
      assert.equal(deleted.statusCode, 204);
      assert.equal((await call(t.adminToken, 'GET', `/api/v1/compliance-policies/${created.id}`)).statusCode, 404);
      assert.equal((await call(t.adminToken, 'DELETE', `/api/v1/compliance-policies/${created.id}`)).statusCode, 404);
      assert.equal((await call(t.adminToken, 'GET', '/api/v1/compliance-policies')).json().items.length, 0);
      // The row stays (soft delete).
      const row = await h.runtime.storage
        .inspectRegionStore(t.region)
        .selectFrom('compliance_policies')
        .select(['deleted_at', 'version'])
        .where('tenant_id', '=', t.tenantId)
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      assert.ok(row.deleted_at !== null);
      assert.equal(row.version, 3);
    });

    test('an encryption + minimum OS policy makes a device noncompliant with reasons; fixing it is compliant on that check-in', async () => {
      const t = await tenant();
      const device = await TestDevice.enroll(h.app, t.enrollmentToken);
      assert.equal((await upload(device, baseInventory)).res.statusCode, 200);
      assert.equal((await deviceState(t.adminToken, device.id)).complianceState, 'compliant', 'no policy yet: the tenant default');

      const policy = await createPolicy(t.adminToken, { name: 'Secure', settings: { requireEncryption: true, minimumOsVersion: '12.0' } });
      assert.equal((await deviceState(t.adminToken, device.id)).complianceState, 'compliant', 'an unassigned policy applies to nobody');
      await assign(t.adminToken, policy.id, [ALL_DEVICES]);

      // Re-evaluated when the assignment changed, without waiting for a check-in.
      const result = await compliance(t.adminToken, device.id);
      assert.equal(result.complianceState, 'noncompliant');
      assert.equal(result.policies.length, 1);
      const [p] = result.policies;
      assert.equal(p?.name, 'Secure');
      assert.equal(p?.version, 1);
      assert.equal(p?.state, 'noncompliant');
      assert.deepEqual(
        p?.settings.map((s) => [s.setting, s.status, s.reason]),
        [
          ['requireEncryption', 'noncompliant', 'The device storage is not encrypted; turn on disk encryption.'],
          ['minimumOsVersion', 'noncompliant', 'OS 11.2 is below the required 12.0.'],
        ],
      );
      assert.equal((await deviceState(t.adminToken, device.id)).complianceState, 'noncompliant');
      const filtered = await call(t.adminToken, 'GET', '/api/v1/devices?complianceState=noncompliant');
      assert.deepEqual(
        filtered.json().items.map((d: { id: string }) => d.id),
        [device.id],
      );

      // The device fixes both and checks in: compliant on that very check-in.
      assert.equal((await upload(device, withHardware({ encrypted: true, osVersion: '12.1' }))).res.statusCode, 200);
      const fixed = await compliance(t.adminToken, device.id);
      assert.equal(fixed.complianceState, 'compliant');
      assert.deepEqual(
        fixed.policies[0]?.settings.map((s) => s.reason),
        ['The device storage is encrypted.', 'OS 12.1 is at or above 12.0.'],
      );
    });

    test('an excluded device is not evaluated; a group target follows its members, and a foreign group is refused', async () => {
      const t = await tenant();
      const withUser = await h.runtime.services.enrollment.createToken(SYSTEM, t.tenantId, {
        ownership: 'corporate',
        userEmail: 'ana@example.com',
      });
      const plain = await TestDevice.enroll(h.app, t.enrollmentToken);
      const users = await TestDevice.enroll(h.app, withUser.token);
      for (const d of [plain, users]) assert.equal((await upload(d, baseInventory)).res.statusCode, 200);
      const ana = await h.runtime.services.users.createUser(SYSTEM, t.tenantId, { userName: 'ana@example.com' });
      const group = await h.runtime.services.users.createGroup(SYSTEM, t.tenantId, { displayName: 'Engineering' });
      const policy = await createPolicy(t.adminToken, { name: 'Encrypt', settings: { requireEncryption: true } });
      const stored = await assign(t.adminToken, policy.id, [
        ALL_DEVICES,
        { target: 'allUsers', mode: 'exclude' },
        { target: 'group', groupId: group.id, mode: 'include' },
      ]);
      assert.equal(stored.assignments.length, 3);
      assert.ok(stored.assignments.some((a) => a.target === 'group' && a.groupId === group.id));
      assert.equal((await compliance(t.adminToken, plain.id)).complianceState, 'noncompliant');
      const excluded = await compliance(t.adminToken, users.id);
      assert.deepEqual(excluded.policies, [], 'the excluded device has no result for the policy');
      assert.equal(excluded.complianceState, 'compliant');

      // Only a group target: the device of a member is selected as soon as its user joins, and freed when they leave.
      await assign(t.adminToken, policy.id, [{ target: 'group', groupId: group.id, mode: 'include' }]);
      assert.equal((await compliance(t.adminToken, plain.id)).complianceState, 'compliant');
      assert.equal((await compliance(t.adminToken, users.id)).complianceState, 'compliant');
      await h.runtime.services.users.updateGroup(SYSTEM, t.tenantId, group.id, { add: [ana.id] });
      assert.equal((await compliance(t.adminToken, users.id)).complianceState, 'noncompliant');
      assert.equal((await compliance(t.adminToken, plain.id)).complianceState, 'compliant', 'a device without that user stays out');
      await h.runtime.services.users.updateGroup(SYSTEM, t.tenantId, group.id, { remove: [ana.id] });
      assert.equal((await compliance(t.adminToken, users.id)).complianceState, 'compliant');

      // A group of another tenant (or none at all) is refused, and the stored assignments stay as they were.
      const other = await seedTenant(h, 'DE');
      const foreign = await h.runtime.services.users.createGroup(SYSTEM, other.tenantId, { displayName: 'Foreign' });
      for (const groupId of [foreign.id, randomUUID()]) {
        const res = await h.app.inject({
          method: 'PUT',
          url: `/api/v1/compliance-policies/${policy.id}/assignments`,
          headers: auth(t.adminToken),
          payload: { assignments: [{ target: 'group', groupId, mode: 'include' }] },
        });
        assert.equal(res.statusCode, 400, res.body);
      }
      const unchanged = await h.app.inject({ url: `/api/v1/compliance-policies/${policy.id}`, headers: auth(t.adminToken) });
      assert.deepEqual(
        unchanged.json<PolicyDto>().assignments.map((a) => a.groupId),
        [group.id],
      );
      // allUsers selects the device with a user only.
      await assign(t.adminToken, policy.id, [{ target: 'allUsers', mode: 'include' }]);
      assert.equal((await compliance(t.adminToken, plain.id)).complianceState, 'compliant');
      assert.equal((await compliance(t.adminToken, users.id)).complianceState, 'noncompliant');
    });

    test('with two policies the most severe state wins; an update re-evaluates with the new version', async () => {
      const t = await tenant();
      const device = await TestDevice.enroll(h.app, t.enrollmentToken);
      await upload(device, baseInventory);
      const jailbreak = await createPolicy(t.adminToken, { name: 'A jailbreak', settings: { blockJailbroken: true } });
      const os = await createPolicy(t.adminToken, { name: 'B os', settings: { minimumOsVersion: '12.0' } });
      await assign(t.adminToken, jailbreak.id, [ALL_DEVICES]);
      assert.equal((await compliance(t.adminToken, device.id)).complianceState, 'unknown', 'jailbreak status was never reported');
      await assign(t.adminToken, os.id, [ALL_DEVICES]);
      const both = await compliance(t.adminToken, device.id);
      assert.equal(both.complianceState, 'noncompliant');
      assert.deepEqual(
        both.policies.map((p) => [p.name, p.state]),
        [
          ['A jailbreak', 'unknown'],
          ['B os', 'noncompliant'],
        ],
      );
      const res = await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${os.id}`, {
        name: 'B os',
        settings: { minimumOsVersion: '11' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const now = await compliance(t.adminToken, device.id);
      assert.equal(now.complianceState, 'unknown');
      assert.deepEqual(
        now.policies.map((p) => [p.name, p.version, p.state]),
        [
          ['A jailbreak', 1, 'unknown'],
          ['B os', 2, 'compliant'],
        ],
      );
      // Deleting the policies leaves the device with none: the tenant default, and no result rows.
      for (const p of [jailbreak, os])
        assert.equal((await call(t.adminToken, 'DELETE', `/api/v1/compliance-policies/${p.id}`)).statusCode, 204);
      const none = await compliance(t.adminToken, device.id);
      assert.equal(none.complianceState, 'compliant');
      assert.deepEqual(none.policies, []);
    });

    test('a device no policy applies to takes the tenant default; POST /compliance/evaluate re-evaluates every device', async () => {
      const t = await tenant();
      const device = await TestDevice.enroll(h.app, t.enrollmentToken);
      await upload(device, baseInventory);
      assert.deepEqual((await call(t.adminToken, 'GET', '/api/v1/compliance/settings')).json(), { devicesWithoutPolicy: 'compliant' });
      const set = await call(t.adminToken, 'PUT', '/api/v1/compliance/settings', { devicesWithoutPolicy: 'noncompliant' });
      assert.equal(set.statusCode, 200, set.body);
      assert.equal((await deviceState(t.adminToken, device.id)).complianceState, 'noncompliant');
      await upload(device, withHardware({ encrypted: true }));
      assert.equal((await deviceState(t.adminToken, device.id)).complianceState, 'noncompliant', 'still no policy');
      const bad = await call(t.adminToken, 'PUT', '/api/v1/compliance/settings', { devicesWithoutPolicy: 'unknown' });
      assert.equal(bad.statusCode, 400);

      const second = await TestDevice.enroll(h.app, t.enrollmentToken);
      const evaluated = await call(t.adminToken, 'POST', '/api/v1/compliance/evaluate');
      assert.equal(evaluated.statusCode, 200, evaluated.body);
      assert.deepEqual(evaluated.json(), { evaluated: 2 });
      assert.equal((await deviceState(t.adminToken, second.id)).complianceState, 'noncompliant', 'evaluated without any check-in');
    });

    test('a platform-scoped policy ignores devices of other platforms', async () => {
      const t = await tenant();
      const linux = await TestDevice.enroll(h.app, t.enrollmentToken, 'linux');
      await upload(linux, baseInventory);
      const windowsOnly = await createPolicy(t.adminToken, { name: 'Windows', platform: 'windows', settings: { requireEncryption: true } });
      await assign(t.adminToken, windowsOnly.id, [ALL_DEVICES]);
      const result = await compliance(t.adminToken, linux.id);
      assert.equal(result.complianceState, 'compliant');
      assert.deepEqual(result.policies, []);
      // Re-scoping it to Linux makes it apply (the update re-evaluates the old and the new platform).
      const res = await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${windowsOnly.id}`, {
        name: 'Linux',
        platform: 'linux',
        settings: { requireEncryption: true },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await compliance(t.adminToken, linux.id)).complianceState, 'noncompliant');
    });

    test('a personal device under an app deny list sends and stores all apps; without it, managed apps only again', async () => {
      const t = await tenant('personal');
      const device = await TestDevice.enroll(h.app, t.enrollmentToken);
      assert.equal(device.enrollment.appInventoryScope, 'managed-only');
      await upload(device, baseInventory);
      const storedApps = async () =>
        (
          await h.runtime.storage
            .inspectRegionStore(t.region)
            .selectFrom('device_apps')
            .select('name')
            .where('tenant_id', '=', t.tenantId)
            .where('device_id', '=', device.id)
            .orderBy('name')
            .execute()
        ).map((r) => r.name);
      assert.deepEqual(await storedApps(), ['company-vpn']);

      const deny = await createPolicy(t.adminToken, { name: 'No torrents', settings: { appDenyList: ['bittorrent'] } });
      await assign(t.adminToken, deny.id, [ALL_DEVICES]);
      assert.equal((await deviceState(t.adminToken, device.id)).appInventoryScope, 'all');
      // The next check-in tells the agent to send every app.
      const told = await device.checkIn({ inventoryDigest: 'whatever' });
      assert.equal(told.res.json().appInventoryScope, 'all');
      const withTorrent = withHardware({}, [
        ...baseInventory.apps,
        { name: 'bittorrent', version: '7', appId: 'bittorrent', installLocation: null, sizeBytes: 3, managed: false },
      ]);
      const full = await upload(device, withTorrent);
      assert.equal(full.res.json().appInventoryScope, 'all');
      assert.deepEqual(await storedApps(), ['bittorrent', 'company-vpn', 'firefox-esr']);
      const result = await compliance(t.adminToken, device.id);
      assert.equal(result.complianceState, 'noncompliant');
      assert.equal(result.policies[0]?.settings[0]?.reason, 'Blocked apps are installed: bittorrent.');

      // Removing the assignment switches it back: the unmanaged apps are deleted and no longer stored.
      await assign(t.adminToken, deny.id, []);
      assert.equal((await deviceState(t.adminToken, device.id)).appInventoryScope, 'managed-only');
      assert.deepEqual(await storedApps(), ['company-vpn']);
      const back = await upload(device, withTorrent);
      assert.equal(back.res.json().appInventoryScope, 'managed-only');
      assert.deepEqual(await storedApps(), ['company-vpn']);
      assert.equal((await compliance(t.adminToken, device.id)).complianceState, 'compliant');
    });

    test('re-evaluation after a policy change and concurrent inventory check-ins never deadlock', async () => {
      const t = await tenant();
      const devices = await Promise.all([1, 2, 3, 4].map(() => TestDevice.enroll(h.app, t.enrollmentToken)));
      for (const d of devices) await d.startSession();
      const policy = await createPolicy(t.adminToken, { name: 'Encrypt', settings: { requireEncryption: true } });
      for (let round = 0; round < 4; round++) {
        const responses = await Promise.all([
          call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${policy.id}/assignments`, {
            assignments: round % 2 === 0 ? [ALL_DEVICES] : [],
          }),
          ...devices.map(async (d) => (await upload(d, withHardware({ osVersion: `12.${round}` }))).res),
        ]);
        for (const res of responses) assert.equal(res.statusCode, 200, res.body);
      }
      // The last change (no assignment) wins everywhere once both sides committed.
      for (const d of devices) assert.equal((await compliance(t.adminToken, d.id)).complianceState, 'compliant');
    });

    test('invalid policies and assignments are 400/404 problems, never 5xx', async () => {
      const t = await tenant();
      const policy = await createPolicy(t.adminToken, { name: 'P', settings: {} });
      const invalid: unknown[] = [
        {},
        { name: '', settings: {} },
        { name: 'x', settings: { minimumOsVersion: 'latest' } },
        { name: 'x', settings: { minimumOsVersion: '13', maximumOsVersion: '12.9' } },
        { name: 'x', settings: { maxDaysSinceCheckIn: 0 } },
        { name: 'x', settings: { maxDaysSinceCheckIn: 366 } },
        { name: 'x', settings: { appDenyList: Array.from({ length: 1001 }, (_, i) => `app-${i}`) } },
        { name: 'x', settings: { requirePassword: true } }, // an object ({ minimumLength, type }), not a flag
        { name: 'x', settings: { requirePassword: { minimumLength: 1000 } } },
        { name: 'x', settings: { requireFirewall: 'yes' } },
        { name: 'x', platform: 'amiga', settings: {} },
        { name: 'x', settings: {}, extra: 1 },
      ];
      for (const body of invalid) {
        const res = await call(t.adminToken, 'POST', '/api/v1/compliance-policies', body);
        assert.equal(res.statusCode, 400, `${JSON.stringify(body).slice(0, 80)}: ${res.body}`);
        assert.equal(res.json().code, 'validation-failed');
        assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
      }
      const badAssignments: unknown[] = [
        [{ target: 'group', mode: 'include' }],
        [{ target: 'allDevices', groupId: randomUUID(), mode: 'include' }],
        [ALL_DEVICES, { target: 'allDevices', mode: 'exclude' }],
        [{ target: 'everyone', mode: 'include' }],
        [{ target: 'allDevices', mode: 'sometimes' }],
      ];
      for (const assignments of badAssignments) {
        const res = await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${policy.id}/assignments`, { assignments });
        assert.equal(res.statusCode, 400, `${JSON.stringify(assignments)}: ${res.body}`);
      }
      const missing = randomUUID();
      assert.equal((await call(t.adminToken, 'GET', `/api/v1/compliance-policies/${missing}`)).statusCode, 404);
      assert.equal(
        (await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${missing}`, { name: 'x', settings: {} })).statusCode,
        404,
      );
      assert.equal(
        (await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${missing}/assignments`, { assignments: [] })).statusCode,
        404,
      );
      assert.equal((await call(t.adminToken, 'GET', `/api/v1/devices/${missing}/compliance`)).statusCode, 404);
      assert.equal((await call(t.adminToken, 'GET', '/api/v1/compliance-policies/not-a-uuid')).statusCode, 400);
      const valid = await call(t.adminToken, 'POST', '/api/v1/compliance-policies', {
        name: 'All settings',
        description: null,
        platform: null,
        settings: {
          requireEncryption: true,
          minimumOsVersion: '10.15',
          maximumOsVersion: '15',
          blockJailbroken: true,
          appDenyList: ['a'],
          appAllowList: ['b'],
          maxDaysSinceCheckIn: 365,
          requirePassword: { minimumLength: 8, type: 'alphanumeric' },
          requireFirewall: true,
        },
      });
      assert.equal(valid.statusCode, 201, valid.body);
    });

    test('a Read Only Operator reads policies but cannot change them; device results need devices.read', async () => {
      const t = await tenant();
      const device = await TestDevice.enroll(h.app, t.enrollmentToken);
      const policy = await createPolicy(t.adminToken, { name: 'P', settings: { requireEncryption: true } });
      const token = async (role: string) => (await h.runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role })).token;
      const readOnly = await token('Read Only Operator');
      const manager = await token('Policy and Profile Manager');
      const privacy = await token('Privacy Officer');
      const writes: ['POST' | 'PUT' | 'DELETE', string, unknown?][] = [
        ['POST', '/api/v1/compliance-policies', { name: 'x', settings: {} }],
        ['PUT', `/api/v1/compliance-policies/${policy.id}`, { name: 'x', settings: {} }],
        ['PUT', `/api/v1/compliance-policies/${policy.id}/assignments`, { assignments: [ALL_DEVICES] }],
        ['PUT', '/api/v1/compliance/settings', { devicesWithoutPolicy: 'noncompliant' }],
        ['POST', '/api/v1/compliance/evaluate'],
        ['DELETE', `/api/v1/compliance-policies/${policy.id}`],
      ];
      for (const [method, url, body] of writes) {
        const res = await call(readOnly, method, url, body);
        assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
        assert.equal(res.json().code, 'forbidden');
      }
      assert.equal((await call(readOnly, 'GET', '/api/v1/compliance-policies')).statusCode, 200);
      assert.equal((await call(readOnly, 'GET', `/api/v1/compliance-policies/${policy.id}`)).statusCode, 200);
      assert.equal((await call(readOnly, 'GET', `/api/v1/devices/${device.id}/compliance`)).statusCode, 200);
      assert.equal((await call(privacy, 'GET', '/api/v1/compliance-policies')).statusCode, 403, 'no policies.read');
      assert.equal((await call(privacy, 'GET', `/api/v1/devices/${device.id}/compliance`)).statusCode, 200, 'devices.read suffices');
      for (const [method, url, body] of writes) {
        const res = await call(manager, method, url, body);
        assert.ok(res.statusCode < 300, `${method} ${url}: ${res.body}`);
      }
    });
  });
}
