/**
 * Each Custos profile kind as an Apple `.mobileconfig`: the payload built, parsed back with the
 * codec and its keys checked (certificate bytes against the DER), or the reason an Apple device
 * cannot take it.
 */
import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, type webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Platform, ProfileSettings } from '@custos/shared';
import { rsaKeys, selfSigned } from '../../test-support/apple-device-simulator.js';
import type { ConfigurationProfileRecord } from '../profiles/profile-store.js';
import { appleCannotApply, mobileconfigOf } from './apple-profiles.js';
import { data, parsePlistDict, type PlistDict, type PlistValue } from './plist-codec.js';

const RSA_SIGN: webcrypto.RsaHashedImportParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const WG_KEY = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const PEER_KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';

function profile(settings: ProfileSettings, version = 1): ConfigurationProfileRecord {
  return {
    id: '3f1c2b9e-8d4a-4c7b-9e2f-1a2b3c4d5e6f',
    name: 'Test profile',
    description: null,
    platform: null,
    settings,
    version,
    scopeTags: [],
    createdAt: 0,
    updatedAt: 0,
    deletedAt: null,
    assignments: [],
  };
}

function payloads(mobileconfig: Buffer): PlistDict[] {
  const top = parsePlistDict(mobileconfig);
  assert.equal(top['PayloadType'], 'Configuration');
  assert.equal(top['PayloadIdentifier'], 'io.custos.profile.3f1c2b9e-8d4a-4c7b-9e2f-1a2b3c4d5e6f');
  return (top['PayloadContent'] as PlistValue[]).map((p) => p as PlistDict);
}

async function intermediateOf(root: x509.X509Certificate, rootKeys: webcrypto.CryptoKeyPair): Promise<x509.X509Certificate> {
  const keys = await rsaKeys();
  return x509.X509CertificateGenerator.create({
    serialNumber: `1${randomBytes(8).toString('hex')}`,
    subject: 'CN=Example Issuing CA',
    issuer: root.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    signingKey: rootKeys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: RSA_SIGN,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
}

const ios = { platform: 'ios' as Platform };

describe('certificate profiles', () => {
  test('the tenant CA becomes a com.apple.security.root payload carrying its DER, with stable UUIDs per version', async () => {
    const keys = await rsaKeys();
    const ca = await selfSigned(keys, 'CN=Tenant CA, OU=tenant', true);
    const settings: ProfileSettings = {
      kind: 'certificate',
      certificate: { certificateType: 'trustedRoot', trustedRoot: { source: 'tenantCa' } },
    };
    assert.equal(appleCannotApply(settings), undefined);
    const target = { platform: 'ios' as Platform, tenantCaPem: ca.toString('pem') };
    const [root, ...rest] = payloads(mobileconfigOf(profile(settings), target));
    assert.equal(rest.length, 0);
    assert.equal(root?.['PayloadType'], 'com.apple.security.root');
    assert.equal(root?.['PayloadCertificateFileName'], 'Tenant CA.cer');
    assert.deepEqual(data(root ?? {}, 'PayloadContent'), Buffer.from(ca.rawData), 'PayloadContent is the certificate DER');

    const again = parsePlistDict(mobileconfigOf(profile(settings), target));
    const next = parsePlistDict(mobileconfigOf(profile(settings, 2), target));
    const first = parsePlistDict(mobileconfigOf(profile(settings), target));
    assert.equal(again['PayloadUUID'], first['PayloadUUID'], 'the same version has the same UUID');
    assert.notEqual(next['PayloadUUID'], first['PayloadUUID'], 'a new version has a new UUID');
    assert.match(first['PayloadUUID'] as string, /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-A[0-9A-F]{3}-[0-9A-F]{12}$/);
    assert.throws(() => mobileconfigOf(profile(settings), ios), /needs its certificate/);
  });

  test('an uploaded intermediate CA becomes com.apple.security.pkcs1, an uploaded root com.apple.security.root', async () => {
    const rootKeys = await rsaKeys();
    const root = await selfSigned(rootKeys, 'CN=Example Root', true);
    const intermediate = await intermediateOf(root, rootKeys);
    for (const [cert, type] of [
      [intermediate, 'com.apple.security.pkcs1'],
      [root, 'com.apple.security.root'],
    ] as const) {
      const settings: ProfileSettings = {
        kind: 'certificate',
        certificate: { certificateType: 'trustedRoot', trustedRoot: { source: 'pem', pem: cert.toString('pem') } },
      };
      const [payload] = payloads(mobileconfigOf(profile(settings), ios));
      assert.equal(payload?.['PayloadType'], type);
      assert.deepEqual(data(payload ?? {}, 'PayloadContent'), Buffer.from(cert.rawData));
    }
  });

  test('a client certificate from a device CSR is not applicable on Apple devices, with the reason', () => {
    const settings: ProfileSettings = { kind: 'certificate', certificate: { certificateType: 'clientCertificate' } };
    assert.match(appleCannotApply(settings) ?? '', /SCEP endpoint issues only the one enrollment identity certificate/);
    assert.throws(() => mobileconfigOf(profile(settings), ios), /No Apple payload/);
  });
});

describe('restrictions profiles', () => {
  test('camera, screenshots, auto-lock and passcode length map to applicationaccess and passcode payloads; the rest are named', () => {
    const settings: ProfileSettings = {
      kind: 'restrictions',
      restrictions: {
        cameraDisabled: true,
        screenCaptureDisabled: false,
        usbStorageDisabled: true,
        screenLockMaxMinutes: 5,
        minimumPasswordLength: 8,
      },
    };
    assert.equal(appleCannotApply(settings), undefined);
    const config = mobileconfigOf(profile(settings), ios);
    assert.equal(parsePlistDict(config)['PayloadDescription'], 'Not enforced on this device: usbStorageDisabled.');
    const [access, passcode, ...rest] = payloads(config);
    assert.equal(rest.length, 0);
    assert.equal(access?.['PayloadType'], 'com.apple.applicationaccess');
    assert.equal(access?.['allowCamera'], false);
    assert.equal(access?.['allowScreenShot'], true);
    assert.equal(passcode?.['PayloadType'], 'com.apple.mobiledevice.passwordpolicy');
    assert.equal(passcode?.['maxInactivity'], 5);
    assert.equal(passcode?.['minLength'], 8);
    assert.equal(passcode?.['forcePIN'], true);
    assert.notEqual(access?.['PayloadUUID'], passcode?.['PayloadUUID']);
  });

  test('a limit beyond Apple’s range: a longer auto-lock becomes 15 minutes, a longer passcode minimum is not enforced', () => {
    const settings: ProfileSettings = { kind: 'restrictions', restrictions: { screenLockMaxMinutes: 60, minimumPasswordLength: 20 } };
    const config = mobileconfigOf(profile(settings), ios);
    assert.equal(parsePlistDict(config)['PayloadDescription'], 'Not enforced on this device: minimumPasswordLength.');
    const [passcode, ...rest] = payloads(config);
    assert.equal(rest.length, 0);
    assert.equal(passcode?.['maxInactivity'], 15);
    assert.equal(passcode?.['minLength'], undefined);
    assert.equal(passcode?.['forcePIN'], undefined);
  });

  test('restrictions Apple has no equivalent for are not applicable, each named', () => {
    const settings: ProfileSettings = { kind: 'restrictions', restrictions: { usbStorageDisabled: true, bluetoothDisabled: true } };
    assert.equal(appleCannotApply(settings), 'Apple devices cannot enforce usbStorageDisabled, bluetoothDisabled.');
    assert.equal(
      appleCannotApply({ kind: 'restrictions', restrictions: { minimumPasswordLength: 32 } }),
      'Apple devices cannot enforce minimumPasswordLength.',
    );
  });
});

describe('VPN profiles', () => {
  const wireguard = {
    addresses: ['10.8.0.2/32'],
    dns: ['10.8.0.1'],
    mtu: 1380,
    peers: [
      { publicKey: PEER_KEY, endpoint: 'vpn.example.com:51820', allowedIPs: ['10.8.0.0/24', '10.9.0.0/16'], persistentKeepalive: 25 },
    ],
  };

  test('WireGuard with a key becomes the WireGuard app’s com.apple.vpn.managed payload, per platform', () => {
    const settings: ProfileSettings = {
      kind: 'vpn',
      vpn: { vpnType: 'wireguard', autoConnect: true, wireguard: { ...wireguard, privateKey: WG_KEY } },
    };
    assert.equal(appleCannotApply(settings), undefined);
    const [vpn] = payloads(mobileconfigOf(profile(settings), ios));
    assert.equal(vpn?.['PayloadType'], 'com.apple.vpn.managed');
    assert.equal(vpn?.['VPNType'], 'VPN');
    assert.equal(vpn?.['VPNSubType'], 'com.wireguard.ios');
    assert.equal(vpn?.['UserDefinedName'], 'Test profile');
    assert.deepEqual(vpn?.['VPN'], {
      RemoteAddress: 'vpn.example.com:51820',
      AuthenticationMethod: 'Password',
      OnDemandEnabled: 1,
      OnDemandRules: [{ Action: 'Connect' }],
    });
    assert.equal(
      (vpn?.['VendorConfig'] as PlistDict)['WgQuickConfig'],
      [
        '[Interface]',
        `PrivateKey = ${WG_KEY}`,
        'Address = 10.8.0.2/32',
        'DNS = 10.8.0.1',
        'MTU = 1380',
        '',
        '[Peer]',
        `PublicKey = ${PEER_KEY}`,
        'AllowedIPs = 10.8.0.0/24, 10.9.0.0/16',
        'Endpoint = vpn.example.com:51820',
        'PersistentKeepalive = 25',
        '',
      ].join('\n'),
    );
    const [mac] = payloads(mobileconfigOf(profile({ kind: 'vpn', vpn: { ...settings.vpn, autoConnect: false } }), { platform: 'macos' }));
    assert.equal(mac?.['VPNSubType'], 'com.wireguard.macos');
    assert.deepEqual(mac?.['VPN'], { RemoteAddress: 'vpn.example.com:51820', AuthenticationMethod: 'Password' });
  });

  test('WireGuard without a key, and OpenVPN, are not applicable, each with its reason', () => {
    assert.match(appleCannotApply({ kind: 'vpn', vpn: { vpnType: 'wireguard', wireguard } }) ?? '', /cannot generate its own key/);
    const openvpn: ProfileSettings = {
      kind: 'vpn',
      vpn: { vpnType: 'openvpn', openvpn: { remote: 'vpn.example.com', ca: 'PEM', authentication: 'password', username: 'u' } },
    };
    assert.match(appleCannotApply(openvpn) ?? '', /no built-in OpenVPN/);
    assert.throws(() => mobileconfigOf(profile(openvpn), ios), /No Apple payload/);
  });
});

describe('Wi-Fi and custom profiles', () => {
  test('Wi-Fi becomes com.apple.wifi.managed with the passphrase; a custom Apple profile is sent as given', () => {
    const wifi: ProfileSettings = { kind: 'wifi', wifi: { ssid: 'Office', security: 'wpa3-personal', passphrase: 'correct horse' } };
    const [payload] = payloads(mobileconfigOf(profile(wifi), ios));
    assert.equal(payload?.['PayloadType'], 'com.apple.wifi.managed');
    assert.equal(payload?.['EncryptionType'], 'WPA3');
    assert.equal(payload?.['Password'], 'correct horse');
    const content = '<?xml version="1.0"?><plist version="1.0"><dict/></plist>';
    const custom: ProfileSettings = { kind: 'custom', custom: { payloadType: 'apple-configuration-profile', content } };
    assert.equal(mobileconfigOf(profile(custom), ios).toString('utf8'), content);
    assert.match(
      appleCannotApply({ kind: 'custom', custom: { payloadType: 'networkmanager-keyfile', content: 'x' } }) ?? '',
      /not for Apple/,
    );
  });
});
