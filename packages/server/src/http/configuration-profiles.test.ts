/**
 * Configuration profiles through the real app, on SQLite and PostgreSQL: CRUD with versions and
 * write-only secrets, assignments, delivery to a device (digest at check-in, the desired set, status
 * reports, removal on unassignment), restriction conflicts, client certificates signed by the tenant
 * CA, platforms the agent cannot serve, wake-ups, and bad input that changes nothing.
 */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { canonicalInventoryJson, type AgentProfileSet, type InventoryDocument } from '@custos/shared';
import { BACKENDS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, type Harness } from '../test-support/harness.js';
import { digestOf, makeCsr, TestDevice } from '../test-support/test-device.js';

interface ProfileDto {
  id: string;
  version: number;
  kind: string;
  wifi?: Record<string, unknown>;
  assignments: unknown[];
}
interface DeviceProfilesDto {
  items: {
    profileId: string;
    version: number;
    status: string;
    reason: string | null;
    removing: boolean;
    conflicts: { setting: string; resolvedValue: unknown; values: { profileId: string; value: unknown }[] }[];
  }[];
}

const inventory: InventoryDocument = {
  hardware: { deviceName: 'laptop-42', operatingSystem: 'Debian GNU/Linux', osVersion: '12' },
  apps: [],
};
const ALL_DEVICES = [{ target: 'allDevices', mode: 'include' }];
const officeWifi = {
  name: 'Office Wi-Fi',
  kind: 'wifi',
  wifi: { ssid: 'Office', security: 'wpa2-personal', passphrase: 'correct horse battery' },
};
const companyRoot = {
  name: 'Company root',
  kind: 'certificate',
  certificate: { certificateType: 'trustedRoot', trustedRoot: { source: 'tenantCa' } },
};

for (const { name, create } of BACKENDS) {
  describe(`configuration profiles on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));

    const call = async (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
      h.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const createProfile = async (token: string, body: unknown): Promise<ProfileDto> => {
      const res = await call(token, 'POST', '/api/v1/configuration-profiles', body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json<ProfileDto>();
    };
    const assign = async (token: string, id: string, assignments: unknown[]) => {
      const res = await call(token, 'PUT', `/api/v1/configuration-profiles/${id}/assignments`, { assignments });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<ProfileDto>();
    };
    const deviceProfiles = async (token: string, deviceId: string) => {
      const res = await call(token, 'GET', `/api/v1/devices/${deviceId}/profiles`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<DeviceProfilesDto>().items;
    };
    const enrolled = async (enrollmentToken: string, platform: 'linux' | 'macos' = 'linux') => {
      const device = await TestDevice.enroll(h.app, enrollmentToken, platform);
      const { res } = await device.checkIn({ inventoryDigest: digestOf(canonicalInventoryJson(inventory)), inventory });
      assert.equal(res.statusCode, 200, res.body);
      return device;
    };
    const digestAtCheckIn = async (device: TestDevice) => {
      const { res } = await device.checkIn({ inventoryDigest: digestOf(canonicalInventoryJson(inventory)) });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ profilesDigest?: string }>().profilesDigest;
    };
    const fetchSet = async (device: TestDevice) => {
      const res = await device.get('/api/v1/agent/profiles');
      assert.equal(res.statusCode, 200, res.body);
      return res.json<AgentProfileSet>();
    };
    const report = async (device: TestDevice, body: unknown) => {
      const { res } = await device.post('/api/v1/agent/profiles/status', body);
      assert.equal(res.statusCode, 204, res.body);
    };

    test('a certificate profile reaches the device with the tenant root, reports succeeded, and is removed when unassigned', async () => {
      const t = await seedTenant(h, 'GB');
      const device = await enrolled(t.enrollmentToken);
      const before = await digestAtCheckIn(device);
      assert.ok(before, 'the check-in announces a digest');
      assert.deepEqual((await fetchSet(device)).profiles, []);

      const profile = await createProfile(t.adminToken, companyRoot);
      // On PostgreSQL the wake-up travels through LISTEN/NOTIFY, so it is awaited rather than read at once.
      let unsubscribe = (): void => undefined;
      const woken = new Promise<string>((resolve) => {
        unsubscribe = h.runtime.services.wakeups.subscribe((tenantId, deviceId) => {
          if (tenantId === t.tenantId) resolve(deviceId);
        });
      });
      await assign(t.adminToken, profile.id, ALL_DEVICES);
      const guard = new Promise<string>((_, reject) => setTimeout(() => reject(new Error('no wake-up was published')), 10_000).unref());
      assert.equal(await Promise.race([woken, guard]), device.id, 'the online device is woken to apply it');
      unsubscribe();

      const after = await digestAtCheckIn(device);
      assert.notEqual(after, before);
      const set = await fetchSet(device);
      assert.equal(set.digest, after);
      assert.equal(set.profiles.length, 1);
      assert.equal(set.profiles[0]?.certificate?.pem?.trim(), device.enrollment.caCertificate.trim());
      assert.equal((await deviceProfiles(t.adminToken, device.id))[0]?.status, 'pending');

      await report(device, { digest: set.digest, results: [{ profileId: profile.id, version: 1, status: 'succeeded' }], removed: [] });
      const [row] = await deviceProfiles(t.adminToken, device.id);
      assert.equal(row?.status, 'succeeded');
      assert.equal(row?.removing, false);
      const summary = await call(t.adminToken, 'GET', `/api/v1/configuration-profiles/${profile.id}/status`);
      assert.deepEqual(summary.json<{ counts: unknown }>().counts, { pending: 0, succeeded: 1, failed: 0, notApplicable: 0 });

      await assign(t.adminToken, profile.id, []);
      assert.notEqual(await digestAtCheckIn(device), after);
      const removal = await fetchSet(device);
      assert.deepEqual(removal.profiles, []);
      assert.deepEqual(removal.remove, [profile.id]);
      assert.equal((await deviceProfiles(t.adminToken, device.id))[0]?.removing, true);
      await report(device, { digest: removal.digest, results: [], removed: [profile.id] });
      assert.deepEqual(await deviceProfiles(t.adminToken, device.id), []);
      assert.deepEqual((await fetchSet(device)).remove, []);
    });

    test('a profile assigned again before the device removed it is kept, not removed', async () => {
      const t = await seedTenant(h, 'GB');
      const device = await enrolled(t.enrollmentToken);
      const profile = await createProfile(t.adminToken, officeWifi);
      await assign(t.adminToken, profile.id, ALL_DEVICES);
      const set = await fetchSet(device);
      await report(device, { digest: set.digest, results: [{ profileId: profile.id, version: 1, status: 'succeeded' }], removed: [] });
      await assign(t.adminToken, profile.id, [{ target: 'allDevices', mode: 'exclude' }]);
      assert.deepEqual((await fetchSet(device)).remove, [profile.id]);
      await assign(t.adminToken, profile.id, ALL_DEVICES);
      const again = await fetchSet(device);
      assert.deepEqual(again.remove, []);
      assert.deepEqual(
        again.profiles.map((p) => p.id),
        [profile.id],
      );
      const [row] = await deviceProfiles(t.adminToken, device.id);
      assert.deepEqual([row?.status, row?.removing], ['pending', false]);
    });

    test('the passphrase is write-only, kept on update when omitted, and a stale version is a 409', async () => {
      const t = await seedTenant(h, 'GB');
      const profile = await createProfile(t.adminToken, officeWifi);
      assert.equal(profile.wifi?.['passphraseSet'], true);
      assert.equal(profile.wifi?.['passphrase'], undefined);
      const read = await call(t.adminToken, 'GET', `/api/v1/configuration-profiles/${profile.id}`);
      assert.doesNotMatch(read.body, /correct horse/);
      const stored = await h.runtime.storage
        .inspectRegionStore(t.region)
        .selectFrom('configuration_profiles')
        .select('settings')
        .where('id', '=', profile.id)
        .executeTakeFirstOrThrow();
      assert.doesNotMatch(stored.settings, /correct horse/, 'encrypted at rest');
      assert.match(stored.settings, /"passphrase":"v1\./);

      const update = { name: 'Office Wi-Fi', kind: 'wifi', wifi: { ssid: 'Office-5G', security: 'wpa2-personal' }, version: 1 };
      const updated = await call(t.adminToken, 'PUT', `/api/v1/configuration-profiles/${profile.id}`, update);
      assert.equal(updated.statusCode, 200, updated.body);
      assert.equal(updated.json<ProfileDto>().version, 2);
      assert.equal(updated.json<ProfileDto>().wifi?.['passphraseSet'], true);
      const stale = await call(t.adminToken, 'PUT', `/api/v1/configuration-profiles/${profile.id}`, update);
      assert.equal(stale.statusCode, 409);
      assert.equal(stale.json<{ code: string }>().code, 'conflict');

      const device = await enrolled(t.enrollmentToken);
      await assign(t.adminToken, profile.id, ALL_DEVICES);
      const [delivered] = (await fetchSet(device)).profiles;
      assert.equal(delivered?.version, 2);
      assert.equal(delivered?.wifi?.ssid, 'Office-5G');
      assert.equal(delivered?.wifi?.passphrase, 'correct horse battery', 'the device gets the kept secret');

      const audit = await call(t.adminToken, 'GET', '/api/v1/audit-events?category=configurationProfiles');
      assert.equal(audit.statusCode, 200, audit.body);
      assert.deepEqual(
        audit
          .json<{ items: { activity: string }[] }>()
          .items.map((e) => e.activity)
          .sort(),
        ['Assign configuration profile', 'Create configuration profile', 'Update configuration profile'],
      );
      assert.doesNotMatch(audit.body, /correct horse/, 'secrets are redacted in the audit log');
    });

    test('VPN profiles: WireGuard keys made on the device or supplied write-only; OpenVPN needs its CA and client certificate', async () => {
      const t = await seedTenant(h, 'GB');
      const peer = {
        publicKey: 'DXoHDDz68FMyrycXsMXDsU1nnR6wM22AkkCKKAZ+g2o=',
        endpoint: 'vpn.example.com:51820',
        allowedIPs: ['10.0.0.0/8'],
      };
      const wireguard = (extra: object = {}) => ({
        name: 'WireGuard',
        kind: 'vpn',
        vpn: { vpnType: 'wireguard', wireguard: { addresses: ['10.8.0.2/32'], peers: [peer], ...extra } },
      });
      const generated = await createProfile(t.adminToken, wireguard());
      assert.equal((generated as unknown as { vpn: { wireguard: { privateKeySet: boolean } } }).vpn.wireguard.privateKeySet, false);
      const supplied = await call(
        t.adminToken,
        'POST',
        '/api/v1/configuration-profiles',
        wireguard({ privateKey: 'WK0C/ilJ5o6I10/uSXedz8IZQ93xYP7UvKScvaG1I1I=' }),
      );
      assert.equal(supplied.statusCode, 201, supplied.body);
      assert.match(supplied.body, /"privateKeySet":true/);
      assert.doesNotMatch(supplied.body, /WK0C/);
      const badKey = await call(t.adminToken, 'POST', '/api/v1/configuration-profiles', wireguard({ privateKey: 'short' }));
      assert.equal(badKey.statusCode, 400);

      const device = await enrolled(t.enrollmentToken);
      const clientCertificate = await createProfile(t.adminToken, {
        name: 'VPN certificate',
        kind: 'certificate',
        certificate: { certificateType: 'clientCertificate' },
      });
      const openvpn = (clientCertificateProfileId: string) => ({
        name: 'OpenVPN',
        kind: 'vpn',
        vpn: {
          vpnType: 'openvpn',
          openvpn: {
            remote: 'vpn.example.com',
            proto: 'udp',
            ca: device.enrollment.caCertificate,
            authentication: 'certificate',
            clientCertificateProfileId,
            options: { cipher: 'AES-256-GCM' },
          },
        },
      });
      const ok = await call(t.adminToken, 'POST', '/api/v1/configuration-profiles', openvpn(clientCertificate.id));
      assert.equal(ok.statusCode, 201, ok.body);
      const notACertificate = await call(t.adminToken, 'POST', '/api/v1/configuration-profiles', openvpn(generated.id));
      assert.equal(notACertificate.statusCode, 400);
      assert.match(notACertificate.json<{ detail: string }>().detail, /clientCertificate/);
      const bothTypes = await call(t.adminToken, 'POST', '/api/v1/configuration-profiles', {
        ...wireguard(),
        vpn: { ...wireguard().vpn, openvpn: openvpn(clientCertificate.id).vpn.openvpn },
      });
      assert.equal(bothTypes.statusCode, 400);
      const unknownOption = await call(t.adminToken, 'POST', '/api/v1/configuration-profiles', {
        ...openvpn(clientCertificate.id),
        vpn: { vpnType: 'openvpn', openvpn: { ...openvpn(clientCertificate.id).vpn.openvpn, options: { up: '/bin/sh' } } },
      });
      assert.equal(unknownOption.statusCode, 400, 'only known OpenVPN options, never a script hook');
      const list = await call(t.adminToken, 'GET', '/api/v1/configuration-profiles');
      assert.equal(list.json<{ items: unknown[] }>().items.length, 4);
    });

    test('restrictions merge to the most restrictive value and the disagreement is reported as a conflict', async () => {
      const t = await seedTenant(h, 'GB');
      const device = await enrolled(t.enrollmentToken);
      const strict = await createProfile(t.adminToken, {
        name: 'Strict',
        kind: 'restrictions',
        restrictions: { cameraDisabled: true, screenLockMaxMinutes: 5 },
      });
      const lax = await createProfile(t.adminToken, {
        name: 'Lax',
        kind: 'restrictions',
        restrictions: { cameraDisabled: false, screenLockMaxMinutes: 15, usbStorageDisabled: true },
      });
      await assign(t.adminToken, strict.id, ALL_DEVICES);
      await assign(t.adminToken, lax.id, ALL_DEVICES);

      const set = await fetchSet(device);
      assert.deepEqual(set.restrictions?.settings, { cameraDisabled: true, usbStorageDisabled: true, screenLockMaxMinutes: 5 });
      assert.deepEqual(
        set.restrictions?.conflicts.map((c) => [c.setting, c.resolvedValue]),
        [
          ['cameraDisabled', true],
          ['screenLockMaxMinutes', 5],
        ],
      );
      const rows = await deviceProfiles(t.adminToken, device.id);
      const laxRow = rows.find((r) => r.profileId === lax.id);
      assert.deepEqual(
        laxRow?.conflicts.map((c) => c.setting),
        ['cameraDisabled', 'screenLockMaxMinutes'],
      );
      assert.deepEqual(
        laxRow?.conflicts[1]?.values.map((v) => v.value),
        [5, 15],
      );
    });

    test('a device the agent cannot serve gets notApplicable with the reason, and nothing to apply', async () => {
      const t = await seedTenant(h, 'GB');
      const mac = await enrolled(t.enrollmentToken, 'macos');
      const linux = await enrolled(t.enrollmentToken, 'linux');
      const profile = await createProfile(t.adminToken, officeWifi);
      const linuxOnlyRestriction = await createProfile(t.adminToken, {
        name: 'No screenshots',
        kind: 'restrictions',
        restrictions: { screenCaptureDisabled: true },
      });
      await assign(t.adminToken, profile.id, ALL_DEVICES);
      await assign(t.adminToken, linuxOnlyRestriction.id, ALL_DEVICES);

      assert.deepEqual((await fetchSet(mac)).profiles, []);
      const macRows = await deviceProfiles(t.adminToken, mac.id);
      assert.deepEqual(
        macRows.map((r) => r.status),
        ['notApplicable', 'notApplicable'],
      );
      assert.match(macRows[0]?.reason ?? '', /macos/);
      const linuxRows = await deviceProfiles(t.adminToken, linux.id);
      assert.equal(linuxRows.find((r) => r.profileId === linuxOnlyRestriction.id)?.status, 'notApplicable');
      assert.match(linuxRows.find((r) => r.profileId === linuxOnlyRestriction.id)?.reason ?? '', /screenCaptureDisabled/);
      assert.deepEqual(
        (await fetchSet(linux)).profiles.map((p) => p.id),
        [profile.id],
      );
      const summary = await call(t.adminToken, 'GET', `/api/v1/configuration-profiles/${profile.id}/status`);
      assert.deepEqual(summary.json<{ counts: unknown }>().counts, { pending: 1, succeeded: 0, failed: 0, notApplicable: 1 });
      assert.equal((await call(t.adminToken, 'DELETE', `/api/v1/devices/${mac.id}`)).statusCode, 200);
      const afterRetire = await call(t.adminToken, 'GET', `/api/v1/configuration-profiles/${profile.id}/status`);
      assert.deepEqual(
        afterRetire.json<{ counts: unknown }>().counts,
        { pending: 1, succeeded: 0, failed: 0, notApplicable: 0 },
        'a retired device counts no more',
      );
    });

    test('a client certificate is issued by the tenant CA from the device CSR, with the subject template filled in', async () => {
      const t = await seedTenant(h, 'GB');
      const device = await enrolled(t.enrollmentToken);
      const profile = await createProfile(t.adminToken, {
        name: 'Device certificate',
        kind: 'certificate',
        certificate: {
          certificateType: 'clientCertificate',
          clientCertificate: { subjectTemplate: 'CN={{deviceName}}, O=Acme', validityDays: 30 },
        },
      });
      const { csr } = await makeCsr();
      const unassigned = await device.post(`/api/v1/agent/profiles/${profile.id}/certificate`, { csr });
      assert.equal(unassigned.res.statusCode, 404, 'only for a profile the device has');

      await assign(t.adminToken, profile.id, ALL_DEVICES);
      const { res } = await device.post(`/api/v1/agent/profiles/${profile.id}/certificate`, { csr });
      assert.equal(res.statusCode, 200, res.body);
      const issued = res.json<{ certificate: string; caCertificate: string; version: number }>();
      const certificate = new x509.X509Certificate(issued.certificate);
      assert.equal(certificate.subject, 'CN=laptop-42, O=Acme');
      assert.equal(certificate.issuer, new x509.X509Certificate(device.enrollment.caCertificate).subject);
      assert.ok(await certificate.verify({ publicKey: new x509.X509Certificate(issued.caCertificate).publicKey, signatureOnly: true }));

      const bad = await device.post(`/api/v1/agent/profiles/${profile.id}/certificate`, { csr: 'not a csr' });
      assert.equal(bad.res.statusCode, 422);
      assert.equal(bad.res.json<{ code: string }>().code, 'csr-invalid');
    });

    test('bad input is a 400 with a stable code and stores nothing', async () => {
      const t = await seedTenant(h, 'GB');
      const other = await seedTenant(h, 'DE');
      const cases: [string, unknown][] = [
        ['unknown setting', { ...officeWifi, wifi: { ...officeWifi.wifi, colour: 'blue' } }],
        ['wrong type', { ...officeWifi, wifi: { ...officeWifi.wifi, hidden: 'yes' } }],
        ['settings of another kind', { ...officeWifi, restrictions: { cameraDisabled: true } }],
        ['no settings for the kind', { name: 'x', kind: 'vpn' }],
        ['personal Wi-Fi without passphrase', { name: 'x', kind: 'wifi', wifi: { ssid: 'a', security: 'wpa3-personal' } }],
        [
          'invalid PEM',
          {
            name: 'x',
            kind: 'certificate',
            certificate: {
              certificateType: 'trustedRoot',
              trustedRoot: { source: 'pem', pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
            },
          },
        ],
        [
          'unknown template variable',
          {
            name: 'x',
            kind: 'certificate',
            certificate: { certificateType: 'clientCertificate', clientCertificate: { subjectTemplate: 'CN={{hostname}}' } },
          },
        ],
        [
          'custom payload without its platform',
          { name: 'x', kind: 'custom', custom: { payloadType: 'networkmanager-keyfile', content: '[connection]' } },
        ],
      ];
      for (const [label, body] of cases) {
        const res = await call(t.adminToken, 'POST', '/api/v1/configuration-profiles', body);
        assert.equal(res.statusCode, 400, `${label}: ${res.body}`);
        assert.equal(res.json<{ code: string }>().code, 'validation-failed', label);
      }
      const device = await enrolled(t.enrollmentToken);
      const nonCa = await call(t.adminToken, 'POST', '/api/v1/configuration-profiles', {
        name: 'x',
        kind: 'certificate',
        certificate: { certificateType: 'trustedRoot', trustedRoot: { source: 'pem', pem: device.enrollment.certificate } },
      });
      assert.equal(nonCa.statusCode, 400);
      assert.match(nonCa.json<{ detail: string }>().detail, /not a CA/);
      const list = await call(t.adminToken, 'GET', '/api/v1/configuration-profiles');
      assert.deepEqual(list.json<{ items: unknown[] }>().items, []);

      // Groups: one of this tenant is accepted; another tenant's, or none at all, is refused and changes nothing.
      const now = Date.now();
      const group = (id: string) => ({
        id,
        displayName: `g-${id}`,
        description: null,
        source: 'cloud' as const,
        externalId: null,
        createdAt: now,
        updatedAt: now,
      });
      const ownGroup = randomUUID();
      const foreignGroup = randomUUID();
      await (await h.runtime.services.tenants.data(t.tenantId)).groups.insert(group(ownGroup));
      await (await h.runtime.services.tenants.data(other.tenantId)).groups.insert(group(foreignGroup));
      const profile = await createProfile(t.adminToken, companyRoot);
      await assign(t.adminToken, profile.id, ALL_DEVICES);
      for (const groupId of [foreignGroup, randomUUID()]) {
        const res = await call(t.adminToken, 'PUT', `/api/v1/configuration-profiles/${profile.id}/assignments`, {
          assignments: [{ target: 'group', groupId, mode: 'include' }],
        });
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json<{ code: string }>().code, 'validation-failed');
      }
      const kept = await call(t.adminToken, 'GET', `/api/v1/configuration-profiles/${profile.id}`);
      assert.deepEqual(kept.json<ProfileDto>().assignments, ALL_DEVICES);
      assert.equal((await fetchSet(device)).profiles.length, 1);
      await assign(t.adminToken, profile.id, [{ target: 'group', groupId: ownGroup, mode: 'include' }]);
    });

    test('reading needs policies.read and changing needs policies.write', async () => {
      const t = await seedTenant(h, 'GB', 'corporate', 'Read Only Operator');
      const denied = await call(t.adminToken, 'POST', '/api/v1/configuration-profiles', officeWifi);
      assert.equal(denied.statusCode, 403);
      assert.equal((await call(t.adminToken, 'GET', '/api/v1/configuration-profiles')).statusCode, 200);
    });
  });
}
