/**
 * Apple MDM end to end through the real app, on SQLite and PostgreSQL, with the device simulator:
 * the push certificate, the signed enrollment profile, SCEP, Authenticate/TokenUpdate, the command
 * sessions (inventory, compliance from SecurityInfo, lock, NotNow), and the refusals — each a clear
 * problem that is never a 401 and changes nothing.
 */
import 'reflect-metadata';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { webcrypto } from 'node:crypto';
import { randomBytes, randomUUID } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { build } from 'plist';
import { openRuntime } from '../compose.js';
import { AppleIdentityRenewalJob, AppleInventoryRefreshJob } from '../domain/apple-mdm/apple-inventory-job.js';
import { IDENTITY_RENEWAL_DAYS } from '../domain/apple-mdm/apple-mdm-service.js';
import { DEVICE_CERTIFICATE_DAYS } from '../domain/enrollment/certificate-authority.js';
import { defaultCountryRegions } from '../domain/tenants/region-map.js';
import {
  AppleDeviceSimulator,
  applePushCertificate,
  injectTransport,
  iPhone,
  rsaKeys,
  selfSigned,
  type SimResponse,
} from '../test-support/apple-device-simulator.js';
import { BACKENDS, TEST_REGIONS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, SYSTEM, type Harness } from '../test-support/harness.js';
import { buildApp } from './app.js';

const RSA: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

const pushCertificate = applePushCertificate;

type Tenant = Awaited<ReturnType<typeof seedTenant>>;

function problem(res: SimResponse): { code: string; detail: string } {
  return JSON.parse(res.body.toString()) as { code: string; detail: string };
}

for (const { name, create } of BACKENDS) {
  describe(`Apple MDM on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    let t: Tenant;
    let personal: Tenant;
    const admin = (token: string) => ({ authorization: `Bearer ${token}` });
    const api = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
      h.app.inject({ method, url, headers: admin(token), ...(payload === undefined ? {} : { payload: payload as object }) });
    const transport = () => injectTransport(h.app);
    const deviceOf = async (tenant: Tenant, sim: AppleDeviceSimulator) => {
      const res = await api(tenant.adminToken, 'GET', '/api/v1/devices?limit=100');
      assert.equal(res.statusCode, 200, res.body);
      const items = res.json<{ items: Record<string, unknown>[] }>().items;
      return items.find((d) => d['serialNumber'] === sim.device.serialNumber);
    };
    const countDevices = async (tenant: Tenant) =>
      (await api(tenant.adminToken, 'GET', '/api/v1/devices?limit=100')).json<{ items: unknown[] }>().items.length;
    const appleCommands = (tenant: Tenant) =>
      h.runtime.storage
        .inspectRegionStore(tenant.region)
        .selectFrom('apple_mdm_commands')
        .selectAll()
        .where('tenant_id', '=', tenant.tenantId)
        .execute();

    before(async () => {
      t = await seedTenant(h, 'GB');
      personal = await seedTenant(h, 'DE', 'personal');
      for (const tenant of [t, personal]) {
        const { certificatePem, privateKeyPem } = await pushCertificate();
        const upload = { certificatePem, privateKeyPem };
        const up = await api(tenant.adminToken, 'PUT', '/api/v1/apple-mdm/push-certificate', upload);
        assert.equal(up.statusCode, 200, up.body);
      }
    });

    test('the push certificate upload takes the topic from the subject UID and refuses what is not an MDM push certificate', async () => {
      const other = await seedTenant(h, 'FR');
      const none = await api(other.adminToken, 'GET', '/api/v1/apple-mdm/push-certificate');
      assert.equal(none.statusCode, 409);
      assert.equal(none.json<{ code: string }>().code, 'apple-mdm-push-certificate-missing');
      // No push certificate: no enrollment profile either.
      const profile = await h.app.inject({ url: `/mdm/apple/enroll?token=${other.enrollmentToken}` });
      assert.equal(profile.statusCode, 409);

      const wrongTopic = await pushCertificate('com.example.not-mdm');
      const refused = await api(other.adminToken, 'PUT', '/api/v1/apple-mdm/push-certificate', { ...wrongTopic, topic: undefined });
      assert.equal(refused.statusCode, 422, refused.body);
      assert.equal(refused.json<{ code: string }>().code, 'apple-mdm-push-certificate-invalid');
      const a = await pushCertificate();
      const b = await pushCertificate();
      const mismatch = await api(other.adminToken, 'PUT', '/api/v1/apple-mdm/push-certificate', {
        certificatePem: a.certificatePem,
        privateKeyPem: b.privateKeyPem,
      });
      assert.equal(mismatch.statusCode, 422);
      assert.match(mismatch.json<{ detail: string }>().detail, /does not belong/);
      assert.equal((await api(other.adminToken, 'GET', '/api/v1/apple-mdm/push-certificate')).statusCode, 409, 'nothing was stored');

      const ok = await api(other.adminToken, 'PUT', '/api/v1/apple-mdm/push-certificate', {
        certificatePem: a.certificatePem,
        privateKeyPem: a.privateKeyPem,
      });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json<{ topic: string }>().topic, a.topic);
      const stored = await h.runtime.storage
        .inspectRegionStore(other.region)
        .selectFrom('apple_mdm_push_certificates')
        .selectAll()
        .where('tenant_id', '=', other.tenantId)
        .executeTakeFirstOrThrow();
      assert.doesNotMatch(stored.private_key_sealed, /PRIVATE KEY/, 'the key is sealed at rest');
    });

    test('a device enrolls through SCEP from the signed profile and appears with its DeviceInformation fields', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      const listed = await deviceOf(t, sim);
      assert.ok(listed, 'listed after Authenticate');
      assert.equal(listed['managementChannel'], 'apple-mdm');
      assert.equal(listed['platform'], 'ios');
      assert.equal(listed['ownership'], 'corporate');

      // TokenUpdate queued the first inventory; one session answers it.
      const handled = await sim.session();
      assert.deepEqual(handled.map((c) => c.requestType).sort(), [
        'DeviceInformation',
        'InstalledApplicationList',
        'ProfileList',
        'SecurityInfo',
      ]);
      const device = await deviceOf(t, sim);
      assert.ok(device);
      assert.equal(device['deviceName'], sim.device.deviceName);
      assert.equal(device['manufacturer'], 'Apple');
      assert.equal(device['model'], 'iPhone15,2');
      assert.equal(device['operatingSystem'], 'iOS');
      assert.equal(device['osVersion'], '17.5.1');
      assert.equal(device['totalStorageBytes'], 128_000_000_000);
      assert.equal(device['freeStorageBytes'], 51_250_000_000);
      assert.equal(device['wifiMac'], sim.device.wifiMac);
      assert.equal(device['encrypted'], true, 'from SecurityInfo');
      assert.equal(device['passwordRequired'], true);
      assert.ok(device['lastCheckInAt'], 'the command session counts as a check-in');
      const apps = await api(t.adminToken, 'GET', `/api/v1/devices/${String(device['id'])}/apps`);
      assert.deepEqual(
        apps
          .json<{ items: { appId: string }[] }>()
          .items.map((a) => a.appId)
          .sort(),
        ['com.example.game', 'com.example.mail'],
        'a corporate iPhone reports every app',
      );
      // The profile asked for exactly the declared queries; an empty 200 ended the session.
      const info = handled.find((c) => c.requestType === 'DeviceInformation');
      assert.ok(Array.isArray(info?.command['Queries']) && !(info.command['Queries'] as string[]).includes('PhoneNumber'));
    });

    test('compliance follows SecurityInfo: no passcode means no data protection, and a policy requiring encryption fails', async () => {
      const policy = await api(t.adminToken, 'POST', '/api/v1/compliance-policies', {
        name: 'Encrypted',
        settings: { requireEncryption: true },
      });
      assert.equal(policy.statusCode, 201, policy.body);
      const assigned = await api(t.adminToken, 'PUT', `/api/v1/compliance-policies/${policy.json<{ id: string }>().id}/assignments`, {
        assignments: [{ target: 'allDevices', mode: 'include' }],
      });
      assert.equal(assigned.statusCode, 200, assigned.body);
      const good = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      const bad = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken, iPhone({ passcodePresent: false }));
      await good.session();
      await bad.session();
      const goodDevice = await deviceOf(t, good);
      const badDevice = await deviceOf(t, bad);
      assert.equal(goodDevice?.['complianceState'], 'compliant');
      assert.equal(badDevice?.['encrypted'], false);
      assert.equal(badDevice?.['complianceState'], 'noncompliant');
      await api(t.adminToken, 'DELETE', `/api/v1/compliance-policies/${policy.json<{ id: string }>().id}`);
    });

    test('lock, restart and sync become DeviceLock, RestartDevice and DeviceInformation, and the common command is acknowledged', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      await sim.session();
      const id = String((await deviceOf(t, sim))?.['id']);
      for (const action of ['lock', 'restart', 'sync']) {
        const res = await api(t.adminToken, 'POST', `/api/v1/devices/${id}/actions/${action}`);
        assert.equal(res.statusCode, 202, res.body);
      }
      const handled = await sim.session();
      // Priority first (the actions), then age.
      assert.deepEqual(
        handled.map((c) => c.requestType),
        ['DeviceLock', 'RestartDevice', 'DeviceInformation', 'SecurityInfo'],
      );
      assert.equal(sim.locked, true);
      const history = await api(t.adminToken, 'GET', `/api/v1/devices/${id}/commands`);
      const states = Object.fromEntries(
        history.json<{ items: { action: string; state: string }[] }>().items.map((c) => [c.action, c.state]),
      );
      assert.deepEqual(states, { lock: 'acknowledged', restart: 'acknowledged', sync: 'acknowledged' });
    });

    test('the scheduled inventory refresh queues DeviceInformation, SecurityInfo and apps once the check-in interval has passed', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      await sim.session();
      const job = new AppleInventoryRefreshJob(h.runtime.services.tenants, h.runtime.services.appleMdm);
      const queuedFor = async (now: number) => {
        await job.run({ now, previousSuccessAt: null });
        return sim.session();
      };
      assert.deepEqual(await queuedFor(Date.now()), [], 'not yet due: its first inventory was just taken');
      // Due once the interval has passed; queued once, however often the job runs before the device answers.
      const later = Date.now() + 8 * 3600_000 + 60_000;
      await job.run({ now: later, previousSuccessAt: null });
      await job.run({ now: later, previousSuccessAt: later });
      assert.deepEqual(
        (await sim.session()).map((c) => c.requestType),
        ['DeviceInformation', 'SecurityInfo', 'InstalledApplicationList', 'ProfileList'],
      );
      assert.deepEqual(await queuedFor(Date.now()), [], 'just taken again');
    });

    test('an identity certificate near its end is renewed in place: the reinstalled MDM profile, SCEP, and the old certificate refused after', async () => {
      // A tenant of its own: the renewal job queues a profile for every due device of the tenant.
      const own = await seedTenant(h, 'GB');
      const { certificatePem, privateKeyPem } = await pushCertificate();
      assert.equal(
        (await api(own.adminToken, 'PUT', '/api/v1/apple-mdm/push-certificate', { certificatePem, privateKeyPem })).statusCode,
        200,
      );
      const sim = await AppleDeviceSimulator.enroll(transport(), own.enrollmentToken);
      await sim.session();
      const id = String((await deviceOf(own, sim))?.['id']);
      const job = new AppleIdentityRenewalJob(h.runtime.services.tenants, h.runtime.services.appleMdm);
      await job.run({ now: Date.now(), previousSuccessAt: null });
      assert.deepEqual(await sim.session(), [], 'a new certificate is not due');

      const due = Date.now() + (DEVICE_CERTIFICATE_DAYS - IDENTITY_RENEWAL_DAYS + 1) * 24 * 3600_000;
      await job.run({ now: due, previousSuccessAt: null });
      await job.run({ now: due, previousSuccessAt: due });
      const old = sim.identity;
      const handled = await sim.session();
      assert.deepEqual(
        handled.map((c) => `${c.requestType}:${c.answered}`),
        ['InstallProfile:Acknowledged'],
        'one renewal, however often the job ran',
      );
      assert.equal(sim.renewals, 1);
      assert.notEqual(sim.identity.certificate.serialNumber, old.certificate.serialNumber);
      const bound = await h.runtime.storage
        .inspectRegionStore(own.region)
        .selectFrom('apple_mdm_devices')
        .select(['certificate_serial', 'certificate_not_after'])
        .where('tenant_id', '=', own.tenantId)
        .where('device_id', '=', id)
        .executeTakeFirstOrThrow();
      assert.equal(bound.certificate_serial, sim.identity.certificate.serialNumber);
      assert.equal(Number(bound.certificate_not_after), sim.identity.certificate.notAfter.getTime());

      // The renewed device goes on working; the old certificate no longer speaks for it (never a 401).
      assert.deepEqual(await sim.session(), []);
      const body = Buffer.from(build({ UDID: sim.device.udid, Status: 'Idle' }));
      const stale = await transport()({
        method: 'PUT',
        url: sim.mdm.serverUrl,
        headers: { 'content-type': 'application/x-apple-aspen-mdm', 'mdm-signature': await sim.sign(body, old) },
        body,
      });
      assert.equal(stale.status, 409, stale.body.toString());
      assert.equal(problem(stale).code, 'apple-mdm-enrollment-conflict');
      assert.equal((await api(own.adminToken, 'GET', `/api/v1/devices/${id}`)).json<{ status: string }>().status, 'active');

      const audit = await api(own.adminToken, 'GET', '/api/v1/audit-events?limit=200');
      const activities = audit.json<{ items: { activity: string }[] }>().items.map((e) => e.activity);
      assert.ok(activities.includes('Start Apple MDM identity renewal'), activities.join(', '));
      assert.ok(activities.includes('Renew Apple MDM identity certificate'), activities.join(', '));
    });

    test('a NotNow command is skipped for the rest of the session and sent again in the next', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      await sim.session();
      const id = String((await deviceOf(t, sim))?.['id']);
      await api(t.adminToken, 'POST', `/api/v1/devices/${id}/actions/lock`);
      await api(t.adminToken, 'POST', `/api/v1/devices/${id}/actions/sync`);
      sim.notNowOnce.add('DeviceLock');
      const first = await sim.session();
      assert.deepEqual(
        first.map((c) => `${c.requestType}:${c.answered}`),
        ['DeviceLock:NotNow', 'DeviceInformation:Acknowledged', 'SecurityInfo:Acknowledged'],
      );
      assert.equal(sim.locked, false);
      const second = await sim.session();
      assert.deepEqual(
        second.map((c) => `${c.requestType}:${c.answered}`),
        ['DeviceLock:Acknowledged'],
      );
      assert.equal(sim.locked, true);
    });

    test('rename becomes a Settings command naming the device', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      await sim.session();
      const id = String((await deviceOf(t, sim))?.['id']);
      await api(t.adminToken, 'POST', `/api/v1/devices/${id}/actions/rename`, { deviceName: 'ipad-7' });
      const [rename] = await sim.session();
      assert.equal(rename?.requestType, 'Settings');
      const history = await api(t.adminToken, 'GET', `/api/v1/devices/${id}/commands`);
      assert.equal(history.json<{ items: { action: string; state: string }[] }>().items[0]?.state, 'acknowledged');
    });

    test('a Wi-Fi profile is installed with InstallProfile and removed with RemoveProfile; retire removes it and the MDM profile', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      await sim.session();
      const id = String((await deviceOf(t, sim))?.['id']);
      const created = await api(t.adminToken, 'POST', '/api/v1/configuration-profiles', {
        name: 'Office Wi-Fi',
        kind: 'wifi',
        wifi: { ssid: 'Office', security: 'wpa2-personal', passphrase: 'correct horse battery' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const profileId = created.json<{ id: string }>().id;
      const statusOf = async () =>
        (await api(t.adminToken, 'GET', `/api/v1/devices/${id}/profiles`)).json<{ items: { profileId: string; status: string }[] }>().items;
      const assign = (assignments: unknown[]) =>
        api(t.adminToken, 'PUT', `/api/v1/configuration-profiles/${profileId}/assignments`, { assignments });
      assert.equal((await assign([{ target: 'allDevices', mode: 'include' }])).statusCode, 200);
      assert.deepEqual(
        (await statusOf()).map((r) => [r.profileId, r.status]),
        [[profileId, 'pending']],
      );

      const installed = await sim.session();
      assert.deepEqual(
        installed.map((c) => `${c.requestType}:${c.answered}`),
        ['InstallProfile:Acknowledged'],
      );
      const onDevice = sim.installedProfiles.get(`io.custos.profile.${profileId}`);
      assert.ok(onDevice, 'installed under its derived identifier');
      const wifi = (onDevice['PayloadContent'] as Record<string, unknown>[])[0];
      assert.equal(wifi?.['PayloadType'], 'com.apple.wifi.managed');
      assert.equal(wifi?.['SSID_STR'], 'Office');
      assert.equal(wifi?.['EncryptionType'], 'WPA2');
      assert.equal(wifi?.['Password'], 'correct horse battery', 'only the device receives the passphrase');
      assert.deepEqual(
        (await statusOf()).map((r) => r.status),
        ['succeeded'],
      );

      // Removed on the device: the next full inventory's ProfileList lacks it, and it is installed again.
      sim.installedProfiles.delete(`io.custos.profile.${profileId}`);
      assert.equal((await api(t.adminToken, 'POST', `/api/v1/devices/${id}/actions/collect-inventory`)).statusCode, 202);
      const repaired = await sim.session();
      assert.deepEqual(
        repaired.map((c) => c.requestType),
        ['DeviceInformation', 'SecurityInfo', 'InstalledApplicationList', 'ProfileList', 'InstallProfile'],
      );
      assert.ok(sim.installedProfiles.has(`io.custos.profile.${profileId}`), 'installed again');
      assert.deepEqual(
        (await statusOf()).map((r) => r.status),
        ['succeeded'],
      );

      // Unassigned: removed from the device, and the status row goes once it reports so.
      assert.equal((await assign([])).statusCode, 200);
      const removed = await sim.session();
      assert.deepEqual(
        removed.map((c) => `${c.requestType}:${c.answered}`),
        ['RemoveProfile:Acknowledged'],
      );
      assert.equal(sim.installedProfiles.size, 0);
      assert.deepEqual(await statusOf(), []);

      // Retire: managed profiles first, then the MDM profile; the device record is retired.
      assert.equal((await assign([{ target: 'allDevices', mode: 'include' }])).statusCode, 200);
      await sim.session();
      assert.equal(sim.installedProfiles.size, 1);
      assert.equal((await api(t.adminToken, 'POST', `/api/v1/devices/${id}/actions/retire`)).statusCode, 202);
      const retiring = await sim.session();
      assert.deepEqual(
        retiring.map((c) => `${c.requestType}:${c.command['Identifier'] as string}`),
        [`RemoveProfile:io.custos.profile.${profileId}`, `RemoveProfile:${sim.mdm.profileIdentifier}`],
      );
      assert.equal(sim.checkedOut, true);
      assert.equal((await api(t.adminToken, 'GET', `/api/v1/devices/${id}`)).json<{ status: string }>().status, 'retired');
      await api(t.adminToken, 'DELETE', `/api/v1/configuration-profiles/${profileId}`);
    });

    test('a trusted root and a restrictions profile are installed and succeed, and are removed when unassigned', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      await sim.session();
      const id = String((await deviceOf(t, sim))?.['id']);
      const create = async (body: object) => {
        const res = await api(t.adminToken, 'POST', '/api/v1/configuration-profiles', body);
        assert.equal(res.statusCode, 201, res.body);
        return res.json<{ id: string }>().id;
      };
      const rootId = await create({
        name: 'Company root',
        kind: 'certificate',
        certificate: { certificateType: 'trustedRoot', trustedRoot: { source: 'tenantCa' } },
      });
      const restrictionsId = await create({
        name: 'No camera',
        kind: 'restrictions',
        restrictions: { cameraDisabled: true, usbStorageDisabled: true, minimumPasswordLength: 6 },
      });
      const assign = (profileId: string, assignments: unknown[]) =>
        api(t.adminToken, 'PUT', `/api/v1/configuration-profiles/${profileId}/assignments`, { assignments });
      const statuses = async () =>
        new Map(
          (await api(t.adminToken, 'GET', `/api/v1/devices/${id}/profiles`))
            .json<{ items: { profileId: string; status: string }[] }>()
            .items.map((r) => [r.profileId, r.status]),
        );
      for (const profileId of [rootId, restrictionsId]) {
        assert.equal((await assign(profileId, [{ target: 'allDevices', mode: 'include' }])).statusCode, 200);
      }
      const installed = await sim.session();
      assert.deepEqual(
        installed.map((c) => `${c.requestType}:${c.answered}`),
        ['InstallProfile:Acknowledged', 'InstallProfile:Acknowledged'],
      );
      assert.deepEqual(
        await statuses(),
        new Map([
          [rootId, 'succeeded'],
          [restrictionsId, 'succeeded'],
        ]),
      );
      const contentOf = (profileId: string) =>
        (sim.installedProfiles.get(`io.custos.profile.${profileId}`)?.['PayloadContent'] as Record<string, unknown>[] | undefined) ?? [];
      const [root] = contentOf(rootId);
      assert.equal(root?.['PayloadType'], 'com.apple.security.root');
      const ca = (await (await h.runtime.services.tenants.data(t.tenantId)).certificateAuthority.get())?.certificatePem ?? '';
      assert.deepEqual(
        Buffer.from(root?.['PayloadContent'] as Uint8Array),
        Buffer.from(x509.PemConverter.decodeFirst(ca)),
        'the tenant CA, DER',
      );
      const [access, passcode] = contentOf(restrictionsId);
      assert.equal(access?.['PayloadType'], 'com.apple.applicationaccess');
      assert.equal(access?.['allowCamera'], false);
      assert.equal(passcode?.['minLength'], 6);

      for (const profileId of [rootId, restrictionsId]) assert.equal((await assign(profileId, [])).statusCode, 200);
      const removed = await sim.session();
      assert.deepEqual(
        removed.map((c) => `${c.requestType}:${c.command['Identifier'] as string}:${c.answered}`).sort(),
        [rootId, restrictionsId].map((p) => `RemoveProfile:io.custos.profile.${p}:Acknowledged`).sort(),
      );
      assert.equal(sim.installedProfiles.size, 0);
      assert.equal((await statuses()).size, 0);
      for (const profileId of [rootId, restrictionsId]) await api(t.adminToken, 'DELETE', `/api/v1/configuration-profiles/${profileId}`);
    });

    test('a profile kind Apple devices cannot take is reported not applicable, with the reason', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      await sim.session();
      const id = String((await deviceOf(t, sim))?.['id']);
      const created = await api(t.adminToken, 'POST', '/api/v1/configuration-profiles', {
        name: 'Device certificate',
        kind: 'certificate',
        certificate: { certificateType: 'clientCertificate' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const profileId = created.json<{ id: string }>().id;
      await api(t.adminToken, 'PUT', `/api/v1/configuration-profiles/${profileId}/assignments`, {
        assignments: [{ target: 'allDevices', mode: 'include' }],
      });
      const rows = (await api(t.adminToken, 'GET', `/api/v1/devices/${id}/profiles`)).json<{
        items: { status: string; reason: string }[];
      }>().items;
      assert.equal(rows[0]?.status, 'notApplicable');
      assert.match(rows[0]?.reason ?? '', /clientCertificate profiles are not sent to Apple MDM devices/);
      assert.deepEqual(await sim.session(), [], 'nothing is sent');
      await api(t.adminToken, 'DELETE', `/api/v1/configuration-profiles/${profileId}`);
    });

    test('a personal device is asked for managed apps only and stores only those', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), personal.enrollmentToken);
      const handled = await sim.session();
      const list = handled.find((c) => c.requestType === 'InstalledApplicationList');
      assert.equal(list?.command['ManagedAppsOnly'], true);
      const device = await deviceOf(personal, sim);
      assert.equal(device?.['ownership'], 'personal');
      const apps = await api(personal.adminToken, 'GET', `/api/v1/devices/${String(device?.['id'])}/apps`);
      const items = apps.json<{ items: { appId: string; managed: boolean }[] }>().items;
      assert.deepEqual(
        items.map((a) => [a.appId, a.managed]),
        [['com.example.mail', true]],
      );
    });

    test('refusals are clear, never 401, and change nothing', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      await sim.session();
      const id = String((await deviceOf(t, sim))?.['id']);
      await api(t.adminToken, 'POST', `/api/v1/devices/${id}/actions/lock`);
      const before = { devices: await countDevices(t), commands: JSON.stringify(await appleCommands(t)) };
      const unchanged = async () => {
        assert.equal(await countDevices(t), before.devices);
        assert.equal(JSON.stringify(await appleCommands(t)), before.commands);
        assert.equal(sim.locked, false);
      };

      // A message signed by a certificate from another CA (even one naming this tenant).
      const strangerCaKeys = await rsaKeys();
      const strangerCa = await selfSigned(strangerCaKeys, `CN=Stranger CA, OU=${t.tenantId}`, true);
      const deviceKeys = await rsaKeys();
      const strangerIssued = (names: { serialNumber: string; subject: string; issuer: string }) =>
        x509.X509CertificateGenerator.create({
          ...names,
          notBefore: new Date(Date.now() - 60_000),
          notAfter: new Date(Date.now() + 3600_000),
          signingKey: strangerCaKeys.privateKey as never,
          publicKey: deviceKeys.publicKey as never,
          signingAlgorithm: RSA,
        });
      const forged = await strangerIssued({
        serialNumber: randomBytes(8)
          .toString('hex')
          .replace(/^[89a-f]/, '1'),
        subject: `CN=forged, OU=${t.tenantId}, O=Custos Apple MDM device`,
        issuer: strangerCa.subject,
      });
      const genuine = sim.identity;
      sim.identity = { certificate: forged, keys: deviceKeys };
      const foreign = await sim.connect({ Status: 'Idle' });
      sim.identity = genuine;
      assert.equal(foreign.status, 403, foreign.body.toString());
      assert.equal(problem(foreign).code, 'apple-mdm-signature-invalid');
      // A twin of the genuine certificate (same issuer name, serial and subject, so the same signer id
      // the server remembers the genuine one by) issued by a stranger CA that copies the tenant CA's name.
      const twinCa = await selfSigned(strangerCaKeys, genuine.certificate.issuer, true);
      const twin = await strangerIssued({
        serialNumber: genuine.certificate.serialNumber,
        subject: genuine.certificate.subject,
        issuer: twinCa.subject,
      });
      sim.identity = { certificate: twin, keys: deviceKeys };
      const twinPoll = await sim.connect({ Status: 'Idle' });
      sim.identity = genuine;
      assert.equal(twinPoll.status, 403, twinPoll.body.toString());
      assert.equal(problem(twinPoll).code, 'apple-mdm-signature-invalid');
      await unchanged();

      // A body that is not what was signed.
      const body = Buffer.from(build({ UDID: sim.device.udid, Status: 'Idle' }));
      const tampered = await h.app.inject({
        method: 'PUT',
        url: '/mdm/apple/mdm',
        headers: { 'content-type': 'application/x-apple-aspen-mdm', 'mdm-signature': await sim.sign(Buffer.from('something else')) },
        payload: body,
      });
      assert.equal(tampered.statusCode, 403);
      // No signature at all; a Client-Cert header is not believed unless configured.
      const unsigned = await h.app.inject({
        method: 'PUT',
        url: '/mdm/apple/mdm',
        headers: {
          'content-type': 'application/x-apple-aspen-mdm',
          'client-cert': `:${Buffer.from(sim.identity.certificate.rawData).toString('base64')}:`,
        },
        payload: body,
      });
      assert.equal(unsigned.statusCode, 403);
      assert.equal(unsigned.json<{ code: string }>().code, 'apple-mdm-signature-invalid');
      await unchanged();

      // A replayed enrollment: the same device (UDID) authenticating with a different certificate.
      const other = await AppleDeviceSimulator.install(transport(), t.enrollmentToken, { ...sim.device });
      const replay = await other.checkIn({ MessageType: 'Authenticate', ...other.authenticateFields() });
      assert.equal(replay.status, 409, replay.body.toString());
      assert.equal(problem(replay).code, 'apple-mdm-enrollment-conflict');
      const hijack = await other.connect({ Status: 'Idle' });
      assert.equal(hijack.status, 409);
      await unchanged();

      // A malformed plist and an unknown MessageType, properly signed.
      const malformed = await sim.send(
        '/mdm/apple/checkin',
        Buffer.from('<plist><dict><key>MessageType</key>'),
        'application/x-apple-aspen-mdm-checkin',
      );
      assert.equal(malformed.status, 400);
      assert.equal(problem(malformed).code, 'apple-mdm-message-invalid');
      const unknown = await sim.checkIn({ MessageType: 'Teleport', UDID: sim.device.udid });
      assert.equal(unknown.status, 400);
      assert.match(problem(unknown).detail, /Unknown check-in MessageType "Teleport"/);
      const badStatus = await sim.connect({ Status: 'Maybe' });
      assert.equal(badStatus.status, 400);
      const userAuth = await sim.checkIn({ MessageType: 'UserAuthenticate', UDID: sim.device.udid, UserID: randomUUID() });
      assert.equal(userAuth.status, 410);
      // A DeviceInformation answer with a prohibited field is refused whole.
      await unchanged();

      // After all that the genuine device still works.
      const handled = await sim.session();
      assert.deepEqual(
        handled.map((c) => c.requestType),
        ['DeviceLock'],
      );
      assert.equal(sim.locked, true);
    });

    test('SCEP issues one certificate per challenge, over PKCS#1 v1.5 or OAEP key transport; a bad challenge or a garbage message is refused', async () => {
      const sim = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken);
      const enrollment = await h.runtime.storage
        .inspectRegionStore(t.region)
        .selectFrom('apple_mdm_enrollments')
        .select(['id', 'certificate_serial'])
        .where('tenant_id', '=', t.tenantId)
        .where('certificate_serial', '=', sim.identity.certificate.serialNumber)
        .executeTakeFirst();
      assert.ok(enrollment, 'the issued certificate is bound to its enrollment');
      // RSAES-OAEP key transport works as well as Apple's PKCS#1 v1.5.
      const oaep = await AppleDeviceSimulator.install(transport(), t.enrollmentToken, iPhone(), 'oaep');
      assert.equal(oaep.identity.certificate.issuer, sim.identity.certificate.issuer);
      const ca = new x509.X509Certificate(
        (await h.app.inject({ url: `/mdm/apple/scep?operation=GetCACert&message=${t.tenantId}` })).rawPayload,
      );
      await assert.rejects(AppleDeviceSimulator.scepEnroll(transport(), '/mdm/apple/scep', ca, 'not-the-challenge'), /PKIOperation: 403/);
      const unknownCa = await h.app.inject({ url: `/mdm/apple/scep?operation=GetCACert&message=${randomUUID()}` });
      assert.equal(unknownCa.statusCode, 400);
      const garbage = await h.app.inject({
        method: 'POST',
        url: '/mdm/apple/scep?operation=PKIOperation',
        headers: { 'content-type': 'application/x-pki-message' },
        payload: Buffer.from('nope'),
      });
      assert.equal(garbage.statusCode, 400);
      assert.equal(garbage.json<{ code: string }>().code, 'scep-request-invalid');
    });

    test('DeclarativeManagement tokens, bootstrap token escrow, CheckOut retires the device', async () => {
      const sim = await AppleDeviceSimulator.enroll(
        transport(),
        t.enrollmentToken,
        iPhone({ productName: 'Mac14,2', model: 'Mac14,2', modelName: 'MacBook Air', imei: undefined, fileVault: true }),
      );
      const tokens = await sim.checkIn({ MessageType: 'DeclarativeManagement', UDID: sim.device.udid, Endpoint: 'tokens' });
      assert.equal(tokens.status, 200);
      assert.ok(JSON.parse(tokens.body.toString()).SyncTokens.DeclarationsToken);
      const status = await sim.checkIn({
        MessageType: 'DeclarativeManagement',
        UDID: sim.device.udid,
        Endpoint: 'status',
        Data: Buffer.from('{"StatusItems":{}}'),
      });
      assert.equal(status.status, 200);
      const secret = randomBytes(32);
      assert.equal((await sim.checkIn({ MessageType: 'SetBootstrapToken', UDID: sim.device.udid, BootstrapToken: secret })).status, 200);
      const got = await sim.checkIn({ MessageType: 'GetBootstrapToken', UDID: sim.device.udid });
      assert.equal(got.status, 200);
      assert.match(got.body.toString(), new RegExp(secret.toString('base64').slice(0, 20).replace(/[+/]/g, '.')));
      await sim.session();
      const mac = await deviceOf(t, sim);
      assert.equal(mac?.['platform'], 'macos');
      assert.equal(mac?.['encrypted'], true, 'FileVault');
      assert.equal((await sim.checkIn({ MessageType: 'CheckOut', UDID: sim.device.udid })).status, 200);
      const retired = await api(t.adminToken, 'GET', `/api/v1/devices/${String(mac?.['id'])}`);
      assert.equal(retired.json<{ status: string }>().status, 'retired');
      const after = await sim.connect({ Status: 'Idle' });
      assert.equal(after.status, 403);
      assert.equal(problem(after).code, 'device-not-active');
      // The same Mac enrolls again with a new profile: a new device record; the old one stays retired.
      const again = await AppleDeviceSimulator.enroll(transport(), t.enrollmentToken, sim.device);
      await again.session();
      const renewed = await deviceOf(t, again);
      assert.ok(renewed && renewed['id'] !== mac?.['id'], 'a new device record');
      assert.equal(renewed['status'], 'active');
      assert.equal((await api(t.adminToken, 'GET', `/api/v1/devices/${String(mac?.['id'])}`)).json<{ status: string }>().status, 'retired');
      // The old identity no longer speaks for it.
      const stale = await sim.connect({ Status: 'Idle' });
      assert.equal(stale.status, 409);
    });
  });
}

describe('Apple MDM behind a TLS proxy (RFC 9440 Client-Cert)', () => {
  test('a trusted Client-Cert header authenticates without Mdm-Signature, and still must chain to the tenant CA', async () => {
    const backend = await BACKENDS[0]!.create();
    const runtime = await openRuntime({
      storage: backend.config,
      regions: TEST_REGIONS,
      regionMap: { countries: defaultCountryRegions(), fallback: 'us' },
      appleMdmTrustClientCert: true,
    });
    const app = await buildApp({ services: runtime.services });
    try {
      const { tenant } = await runtime.services.tenants.create({ name: 'Proxy', country: 'GB', adminEmail: 'a@example.com' });
      const { token } = await runtime.services.enrollment.createToken(SYSTEM, tenant.id, { ownership: 'corporate' });
      const { certificatePem, privateKeyPem } = await pushCertificate();
      const upload = { certificatePem, privateKeyPem };
      await runtime.services.appleMdm.uploadPushCertificate(SYSTEM, tenant.id, upload);
      const sim = await AppleDeviceSimulator.install(injectTransport(app), token);
      const clientCert = (cert: x509.X509Certificate) => `:${Buffer.from(cert.rawData).toString('base64')}:`;
      const put = (url: string, message: Record<string, unknown>, cert: x509.X509Certificate) =>
        app.inject({
          method: 'PUT',
          url,
          headers: { 'content-type': 'application/x-apple-aspen-mdm-checkin', 'client-cert': clientCert(cert) },
          payload: build(message as never),
        });
      const auth = await put('/mdm/apple/checkin', { MessageType: 'Authenticate', ...sim.authenticateFields() }, sim.identity.certificate);
      assert.equal(auth.statusCode, 200, auth.body);
      const idle = await put('/mdm/apple/mdm', { UDID: sim.device.udid, Status: 'Idle' }, sim.identity.certificate);
      assert.equal(idle.statusCode, 200, idle.body);
      const stranger = await selfSigned(await rsaKeys(), `CN=x, OU=${tenant.id}`);
      const refused = await put('/mdm/apple/mdm', { UDID: sim.device.udid, Status: 'Idle' }, stranger);
      assert.equal(refused.statusCode, 403);
    } finally {
      await app.close();
      await runtime.close();
      await backend.dispose();
    }
  });
});
