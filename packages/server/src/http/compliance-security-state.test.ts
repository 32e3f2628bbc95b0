/**
 * The password and firewall compliance settings through the real app, on SQLite and PostgreSQL: the
 * security state a device reports is declared in the catalog, stored, shown in the device API, and
 * evaluated with a reason per setting; bad settings are refused and change nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalInventoryJson, diffInventory, type InventoryDocument } from '@custos/shared';
import { BACKENDS } from '../test-support/backends.js';
import { seedTenant, harnessPerSuite, type Harness } from '../test-support/harness.js';
import { digestOf, TestDevice } from '../test-support/test-device.js';

const reported: InventoryDocument = {
  hardware: {
    deviceName: 'laptop-9',
    osVersion: '12.4',
    passwordRequired: true,
    passwordMinimumLength: 4,
    passwordType: 'numeric',
    firewallEnabled: false,
  },
  apps: [],
};
const fixed: InventoryDocument = {
  hardware: { ...reported.hardware, passwordMinimumLength: 12, passwordType: 'complex', firewallEnabled: true },
  apps: [],
};
const neverReported: InventoryDocument = { hardware: { deviceName: 'old-agent', osVersion: '12.4' }, apps: [] };
const digest = (doc: InventoryDocument) => digestOf(canonicalInventoryJson(doc));
const upload = (device: TestDevice, doc: InventoryDocument) => device.checkIn({ inventoryDigest: digest(doc), inventory: doc });

const SECURE = { requirePassword: { minimumLength: 8, type: 'alphanumeric' }, requireFirewall: true };

interface SettingDto {
  setting: string;
  status: string;
  reason: string;
}

for (const { name, create } of BACKENDS) {
  describe(`password and firewall compliance on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));

    const call = async (token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
      h.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    /** A tenant with one policy assigned to every device. */
    const tenantWithPolicy = async (settings: unknown = SECURE) => {
      const t = await seedTenant(h, 'GB');
      const created = await call(t.adminToken, 'POST', '/api/v1/compliance-policies', { name: 'Secure', settings });
      assert.equal(created.statusCode, 201, created.body);
      const policyId = created.json<{ id: string }>().id;
      const assigned = await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${policyId}/assignments`, {
        assignments: [{ target: 'allDevices', mode: 'include' }],
      });
      assert.equal(assigned.statusCode, 200, assigned.body);
      return { ...t, policyId };
    };
    const results = async (token: string, deviceId: string) => {
      const res = await call(token, 'GET', `/api/v1/devices/${deviceId}/compliance`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{ complianceState: string; policies: { settings: SettingDto[] }[] }>();
      return { state: body.complianceState, settings: body.policies[0]?.settings.map((s) => [s.setting, s.status, s.reason]) };
    };

    test('firewall off and a short numeric password policy are noncompliant with reasons; a fixed report is compliant', async () => {
      const t = await tenantWithPolicy();
      const device = await TestDevice.enroll(h.app, t.enrollmentToken);
      assert.equal((await upload(device, reported)).res.statusCode, 200);

      assert.deepEqual(await results(t.adminToken, device.id), {
        state: 'noncompliant',
        settings: [
          [
            'requirePassword',
            'noncompliant',
            'The password policy allows 4 characters; at least 8 are required. The password policy allows numeric passwords; alphanumeric ones are required.',
          ],
          ['requireFirewall', 'noncompliant', 'The firewall is off; turn it on.'],
        ],
      });
      // Stored like `encrypted` (booleans as 0/1) and shown in the device API.
      const row = await h.runtime.storage
        .inspectRegionStore(t.region)
        .selectFrom('devices')
        .select(['password_required', 'password_minimum_length', 'password_type', 'firewall_enabled'])
        .where('tenant_id', '=', t.tenantId)
        .where('id', '=', device.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        { ...row, password_minimum_length: Number(row.password_minimum_length) },
        { password_required: 1, password_minimum_length: 4, password_type: 'numeric', firewall_enabled: 0 },
      );
      const dto = (await call(t.adminToken, 'GET', `/api/v1/devices/${device.id}`)).json<Record<string, unknown>>();
      assert.deepEqual(
        [dto['passwordRequired'], dto['passwordMinimumLength'], dto['passwordType'], dto['firewallEnabled'], dto['complianceState']],
        [true, 4, 'numeric', false, 'noncompliant'],
      );

      // The agent sends the fix as a delta: compliant on that check-in.
      const delta = diffInventory(reported, fixed, digest(reported));
      assert.ok(delta);
      assert.equal((await device.checkIn({ inventoryDigest: digest(fixed), delta })).res.statusCode, 200);
      assert.deepEqual(await results(t.adminToken, device.id), {
        state: 'compliant',
        settings: [
          [
            'requirePassword',
            'compliant',
            'A password is required to unlock this device; its policy demands at least 12 characters and complex passwords.',
          ],
          ['requireFirewall', 'compliant', 'The firewall is on.'],
        ],
      });

      // No password at all: named as such.
      const noPassword = { hardware: { ...fixed.hardware, passwordRequired: false }, apps: [] };
      assert.equal((await upload(device, noPassword)).res.statusCode, 200);
      const now = await results(t.adminToken, device.id);
      assert.equal(now.state, 'noncompliant');
      assert.deepEqual(now.settings?.[0], [
        'requirePassword',
        'noncompliant',
        'A password is required to unlock this device; none is set.',
      ]);
    });

    test('a device that never reported its security state is unknown, with the reason', async () => {
      const t = await tenantWithPolicy();
      const device = await TestDevice.enroll(h.app, t.enrollmentToken);
      assert.equal((await upload(device, neverReported)).res.statusCode, 200);
      assert.deepEqual(await results(t.adminToken, device.id), {
        state: 'unknown',
        settings: [
          [
            'requirePassword',
            'unknown',
            'The device has not reported whether a password is required to unlock it, nor its minimum password length, nor which kind of password it requires.',
          ],
          ['requireFirewall', 'unknown', 'The device has not reported whether its firewall is on.'],
        ],
      });
      const dto = (await call(t.adminToken, 'GET', `/api/v1/devices/${device.id}`)).json<Record<string, unknown>>();
      assert.deepEqual([dto['passwordRequired'], dto['passwordType'], dto['firewallEnabled']], [null, null, null]);
      // `{}` asks only for a password; the agent reporting null ("cannot tell") stays unknown too.
      const only = await tenantWithPolicy({ requirePassword: {} });
      const other = await TestDevice.enroll(h.app, only.enrollmentToken);
      await upload(other, { hardware: { passwordRequired: null, passwordMinimumLength: 10 }, apps: [] });
      assert.deepEqual((await results(only.adminToken, other.id)).settings, [
        ['requirePassword', 'unknown', 'The device has not reported whether a password is required to unlock it.'],
      ]);
    });

    test('impossible settings are 400 validation-failed and leave the policy as it was', async () => {
      const t = await tenantWithPolicy();
      const before = (await call(t.adminToken, 'GET', `/api/v1/compliance-policies/${t.policyId}`)).json<Record<string, unknown>>();
      const invalid: unknown[] = [
        { requirePassword: { minimumLength: 0 } },
        { requirePassword: { minimumLength: 3 } },
        { requirePassword: { minimumLength: 1000 } },
        { requirePassword: { minimumLength: 8.5 } },
        { requirePassword: { type: 'strong' } },
        { requirePassword: { type: 'none' } },
        { requirePassword: { minimumLength: 8, maximumLength: 20 } },
        { requirePassword: true },
        { requireFirewall: 'yes' },
        { requireFirewall: { on: true } },
      ];
      for (const settings of invalid) {
        for (const [method, url] of [
          ['PUT', `/api/v1/compliance-policies/${t.policyId}`],
          ['POST', '/api/v1/compliance-policies'],
        ] as const) {
          const res = await call(t.adminToken, method, url, { name: 'Changed', settings });
          assert.equal(res.statusCode, 400, `${method} ${JSON.stringify(settings)}: ${res.body}`);
          assert.equal(res.json().code, 'validation-failed');
          assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
        }
      }
      assert.deepEqual((await call(t.adminToken, 'GET', `/api/v1/compliance-policies/${t.policyId}`)).json(), before);
      const list = (await call(t.adminToken, 'GET', '/api/v1/compliance-policies')).json<{ items: unknown[] }>();
      assert.equal(list.items.length, 1, 'no refused policy was created');
      // The bounds themselves are accepted.
      for (const requirePassword of [{ minimumLength: 4 }, { minimumLength: 64, type: 'complex' }, {}]) {
        const res = await call(t.adminToken, 'POST', '/api/v1/compliance-policies', { name: 'Edge', settings: { requirePassword } });
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual(res.json().settings, { requirePassword });
      }
    });

    test('the catalog declares the fields; a value outside passwordType is refused and nothing is stored', async () => {
      const catalog = (await h.app.inject('/api/v1/privacy/catalog')).json<{
        fields: { name: string; category: string; platforms: string[]; allowedValues?: string[] }[];
      }>();
      const field = (n: string) => catalog.fields.find((f) => f.name === n);
      for (const n of ['passwordRequired', 'passwordMinimumLength', 'passwordType', 'firewallEnabled'])
        assert.equal(field(n)?.category, 'hardware', n);
      assert.deepEqual(field('passwordType')?.allowedValues, ['numeric', 'alphanumeric', 'complex']);
      assert.deepEqual(field('firewallEnabled')?.platforms, ['windows', 'linux', 'macos']);

      const t = await seedTenant(h, 'GB');
      // What the agent shows before consent lists them, for the platforms that report them.
      const collected = async (platform: string) =>
        (await h.app.inject({ url: `/api/v1/enroll/info?token=${encodeURIComponent(t.enrollmentToken)}&platform=${platform}` }))
          .json<{ collected: { name: string }[] }>()
          .collected.map((f) => f.name);
      const linux = await collected('linux');
      for (const n of ['passwordRequired', 'passwordMinimumLength', 'passwordType', 'firewallEnabled']) assert.ok(linux.includes(n), n);
      assert.ok(!(await collected('android')).includes('firewallEnabled'));

      const device = await TestDevice.enroll(h.app, t.enrollmentToken);
      const bad = { hardware: { ...reported.hardware, passwordType: 'strong' }, apps: [] };
      const res = (await upload(device, bad)).res;
      assert.equal(res.statusCode, 422, res.body);
      assert.ok(
        res.json<{ errors?: { field: string }[] }>().errors?.some((e) => e.field === 'hardware.passwordType'),
        res.body,
      );
      const dto = (await call(t.adminToken, 'GET', `/api/v1/devices/${device.id}`)).json<Record<string, unknown>>();
      assert.deepEqual([dto['deviceName'], dto['passwordType']], [null, null]);
    });
  });
}
