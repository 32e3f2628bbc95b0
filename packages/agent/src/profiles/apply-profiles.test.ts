/**
 * The Linux adapter in root-less mode and the profile sync around it: keyfile contents and modes,
 * WireGuard keys made on the device, merged restrictions, exact removal, and `notApplicable` from a
 * platform without an adapter. The server side is a recording stand-in for the device client.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentProfileSet, DeliveredProfile, ProfileStatusReport } from '@custos/shared';
import type { AgentPlatform } from '../agent-platform.js';
import type { DeviceClient } from '../client.js';
import type { AgentState } from '../state.js';
import { removeAllProfiles, syncProfiles } from './apply-profiles.js';
import { wireguardKeys } from './linux-adapter.js';
import { keyfileValue, openvpnKeyfile, wifiKeyfile } from './linux-keyfiles.js';

const WIFI: DeliveredProfile = {
  id: '11111111-1111-4111-8111-111111111111',
  name: 'Office Wi-Fi',
  version: 1,
  kind: 'wifi',
  wifi: { ssid: 'Office', security: 'wpa2-personal', passphrase: 'correct horse battery', hidden: true },
};
const ROOT_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const TRUSTED_ROOT: DeliveredProfile = {
  id: '22222222-2222-4222-8222-222222222222',
  name: 'Company root',
  version: 1,
  kind: 'certificate',
  certificate: { certificateType: 'trustedRoot', pem: ROOT_PEM },
};
const WIREGUARD: DeliveredProfile = {
  id: '33333333-3333-4333-8333-333333333333',
  name: 'VPN',
  version: 1,
  kind: 'vpn',
  vpn: {
    vpnType: 'wireguard',
    wireguard: {
      addresses: ['10.8.0.2/32'],
      peers: [{ publicKey: wireguardKeys().publicKey, endpoint: 'vpn.example.com:51820', allowedIPs: ['10.0.0.0/8'] }],
    },
  },
};

/** A stand-in for the server: serves `set`, records the reports. */
function fakeClient(platform: AgentPlatform, set: () => AgentProfileSet) {
  const reports: ProfileStatusReport[] = [];
  const state = { platform } as AgentState;
  const client = {
    state,
    save: () => Promise.resolve(),
    fetchProfiles: () => Promise.resolve(set()),
    reportProfileStatus: (report: ProfileStatusReport) => {
      reports.push(report);
      return Promise.resolve();
    },
    requestProfileCertificate: () => Promise.reject(new Error('not in this test')),
  };
  return { client: client as unknown as DeviceClient, reports, state };
}

const setOf = (profiles: DeliveredProfile[], extra: Partial<AgentProfileSet> = {}): AgentProfileSet => ({
  digest: `d-${profiles.map((p) => p.id).join()}`,
  profiles,
  restrictions: null,
  remove: [],
  ...extra,
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('configuration profiles on Linux, root-less', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'custos-profiles-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a Wi-Fi profile becomes a NetworkManager keyfile readable by root only', async () => {
    const { client, reports } = fakeClient('linux', () => setOf([WIFI]));
    await syncProfiles(client, { root, real: false });
    const path = join(root, 'etc/NetworkManager/system-connections', `custos-${WIFI.id}.nmconnection`);
    const text = await readFile(path, 'utf8');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.match(text, /^\[connection\]\nid=Office Wi-Fi\nuuid=11111111-1111-4111-8111-111111111111\ntype=wifi\nautoconnect=true\n/);
    assert.match(text, /\[wifi\]\nmode=infrastructure\nssid=Office\nhidden=true\n/);
    assert.match(text, /\[wifi-security\]\nkey-mgmt=wpa-psk\npsk=correct horse battery\n/);
    assert.deepEqual(reports[0]?.results, [{ profileId: WIFI.id, version: 1, status: 'succeeded' }]);
  });

  test('WPA3 uses SAE, enterprise writes 802.1X, and keyfile values are escaped', () => {
    assert.match(
      wifiKeyfile({ ...WIFI, wifi: { ssid: 'x', security: 'wpa3-personal', passphrase: 'abcdefgh' } }),
      /key-mgmt=sae\npsk=abcdefgh/,
    );
    const enterprise = wifiKeyfile({
      ...WIFI,
      wifi: { ssid: 'corp', security: 'wpa2-enterprise', eapMethod: 'ttls', identity: 'alice', passphrase: 'p4ssw0rd!' },
    });
    assert.match(enterprise, /key-mgmt=wpa-eap/);
    assert.match(enterprise, /\[802-1x\]\neap=ttls;\nidentity=alice\npassword=p4ssw0rd!\nphase2-auth=mschapv2\n/);
    assert.equal(keyfileValue(' a\\b\nc'), '\\sa\\\\b\\nc');
  });

  test('an OpenVPN profile is a NetworkManager openvpn plugin keyfile pointing at the CA and the client certificate', () => {
    const text = openvpnKeyfile(
      {
        id: '55555555-5555-4555-8555-555555555555',
        name: 'OpenVPN',
        version: 1,
        kind: 'vpn',
        vpn: {
          vpnType: 'openvpn',
          openvpn: {
            remote: 'vpn.example.com',
            proto: 'tcp',
            ca: ROOT_PEM,
            authentication: 'password-certificate',
            username: 'alice',
            options: { cipher: 'AES-256-GCM' },
          },
        },
      },
      { ca: '/etc/custos/certs/ca.crt', certificate: '/etc/custos/certs/c.crt', key: '/etc/custos/certs/c.key' },
    );
    assert.match(text, /type=vpn\n/);
    assert.match(
      text,
      /\[vpn\]\nservice-type=org.freedesktop.NetworkManager.openvpn\nconnection-type=password-tls\nremote=vpn.example.com\nport=1194\nproto-tcp=yes\nca=\/etc\/custos\/certs\/ca.crt\ncert=\/etc\/custos\/certs\/c.crt\nkey=\/etc\/custos\/certs\/c.key\nusername=alice\npassword-flags=2\ncipher=AES-256-GCM\n/,
    );
  });

  test('a trusted root lands in the trust store and only its own files go when it is unassigned', async () => {
    let current = setOf([TRUSTED_ROOT, WIFI]);
    const { client, reports, state } = fakeClient('linux', () => current);
    await syncProfiles(client, { root, real: false });
    const anchor = join(root, 'usr/local/share/ca-certificates', `custos-${TRUSTED_ROOT.id}.crt`);
    assert.equal(await readFile(anchor, 'utf8'), ROOT_PEM);
    assert.equal(state.profiles?.appliedDigest, current.digest);

    current = setOf([WIFI], { remove: [TRUSTED_ROOT.id] });
    await syncProfiles(client, { root, real: false });
    assert.deepEqual(await filesUnder(root), [`etc/NetworkManager/system-connections/custos-${WIFI.id}.nmconnection`]);
    assert.deepEqual(reports[1]?.removed, [TRUSTED_ROOT.id]);
    assert.deepEqual(Object.keys(state.profiles?.installed ?? {}), [WIFI.id]);
  });

  test('leaving management removes every file the agent wrote for profiles, and nothing else', async () => {
    const { client, state } = fakeClient('linux', () => setOf([TRUSTED_ROOT, WIFI]));
    await syncProfiles(client, { root, real: false });
    const unrelated = join(root, 'etc/NetworkManager/system-connections/home.nmconnection');
    await writeFile(unrelated, '[connection]\n');
    assert.deepEqual(await removeAllProfiles(state), []);
    assert.deepEqual(await filesUnder(root), ['etc/NetworkManager/system-connections/home.nmconnection']);
    assert.equal(state.profiles, undefined);
  });

  test('a WireGuard key is generated on the device, kept across versions, and its public key reported', async () => {
    let current = setOf([WIREGUARD]);
    const { client, reports } = fakeClient('linux', () => current);
    await syncProfiles(client, { root, real: false });
    const path = join(root, 'etc/NetworkManager/system-connections', `custos-${WIREGUARD.id}.nmconnection`);
    const text = await readFile(path, 'utf8');
    const privateKey = /private-key=(\S+)/.exec(text)?.[1] ?? '';
    const publicKey = reports[0]?.results[0]?.publicKey ?? '';
    assert.equal(wireguardKeys(privateKey).publicKey, publicKey);
    assert.match(text, /type=wireguard\nautoconnect=false\ninterface-name=cwg-33333333/);
    assert.match(text, /\[wireguard-peer\.[A-Za-z0-9+/]{43}=\]\nendpoint=vpn.example.com:51820\nallowed-ips=10.0.0.0\/8;/);
    assert.match(text, /\[ipv4\]\nmethod=manual\naddress1=10.8.0.2\/32\n/);

    current = setOf([{ ...WIREGUARD, version: 2, name: 'VPN 2' }]);
    await syncProfiles(client, { root, real: false });
    assert.equal(reports[1]?.results[0]?.publicKey, publicKey, 'the same key after an update');
  });

  test('the WireGuard public key is the X25519 public key of the private one', () => {
    const a = wireguardKeys();
    const b = wireguardKeys();
    const key = (k: string) =>
      createPrivateKey({
        key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), Buffer.from(k, 'base64')]),
        format: 'der',
        type: 'pkcs8',
      });
    const pub = (k: string) =>
      createPublicKey({
        key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), Buffer.from(k, 'base64')]),
        format: 'der',
        type: 'spki',
      });
    assert.deepEqual(
      diffieHellman({ privateKey: key(a.privateKey), publicKey: pub(b.publicKey) }),
      diffieHellman({ privateKey: key(b.privateKey), publicKey: pub(a.publicKey) }),
    );
  });

  test('merged restrictions become modprobe and dconf files; settings Linux cannot enforce are named', async () => {
    const strict: DeliveredProfile = {
      id: '44444444-4444-4444-8444-444444444444',
      name: 'Strict',
      version: 1,
      kind: 'restrictions',
      restrictions: { cameraDisabled: true, screenLockMaxMinutes: 5, screenCaptureDisabled: true },
    };
    const set = setOf([strict], {
      restrictions: {
        settings: { cameraDisabled: true, screenLockMaxMinutes: 5, screenCaptureDisabled: true },
        profileIds: [strict.id],
        conflicts: [],
      },
    });
    let current = set;
    const { client, reports } = fakeClient('linux', () => current);
    await syncProfiles(client, { root, real: false });
    assert.match(await readFile(join(root, 'etc/modprobe.d/custos-restrictions.conf'), 'utf8'), /^install uvcvideo \/bin\/false$/m);
    assert.match(await readFile(join(root, 'etc/dconf/db/local.d/00-custos-restrictions'), 'utf8'), /idle-delay=uint32 300/);
    const [result] = reports[0]?.results ?? [];
    assert.equal(result?.status, 'succeeded');
    assert.match(result?.reason ?? '', /not applicable on Linux: screenCaptureDisabled/);

    current = setOf([], { remove: [strict.id] });
    await syncProfiles(client, { root, real: false });
    assert.deepEqual(await filesUnder(root), []);
    assert.deepEqual(reports[1]?.removed, [strict.id]);
  });

  test('a profile that cannot be written is reported failed with the reason, and tried again at the next check-in', async () => {
    // A file where the directory tree should be: no write below it succeeds, not even as root.
    await writeFile(join(root, 'etc'), 'in the way');
    const strict: DeliveredProfile = {
      id: '66666666-6666-4666-8666-666666666666',
      name: 'Strict',
      version: 1,
      kind: 'restrictions',
      restrictions: { usbStorageDisabled: true },
    };
    const set = setOf([WIFI, TRUSTED_ROOT, strict], {
      restrictions: { settings: { usbStorageDisabled: true }, profileIds: [strict.id], conflicts: [] },
    });
    const { client, reports, state } = fakeClient('linux', () => set);
    await syncProfiles(client, { root, real: false });
    const byId = new Map(reports[0]?.results.map((r) => [r.profileId, r]));
    assert.equal(byId.get(WIFI.id)?.status, 'failed');
    assert.match(byId.get(WIFI.id)?.reason ?? '', /ENOTDIR|EEXIST/);
    assert.equal(byId.get(strict.id)?.status, 'failed');
    assert.equal(byId.get(TRUSTED_ROOT.id)?.status, 'succeeded', 'the others are applied all the same');
    assert.equal(state.profiles?.appliedDigest, null);
  });

  test('on a platform without an adapter every profile is notApplicable and nothing is written', async () => {
    const { client, reports } = fakeClient('macos', () => setOf([WIFI, TRUSTED_ROOT]));
    await syncProfiles(client, { root, real: false });
    assert.deepEqual(
      reports[0]?.results.map((r) => r.status),
      ['notApplicable', 'notApplicable'],
    );
    assert.match(reports[0]?.results[0]?.reason ?? '', /macos/);
    assert.deepEqual(await filesUnder(root), []);
  });
});
