/**
 * Configuration profiles for Apple MDM devices (SPEC §6, §7): which kinds an Apple device takes,
 * and each as a `.mobileconfig` for `InstallProfile` (payload keys as in Apple's device-management
 * schemas, mdm/profiles/*.yaml in github.com/apple/device-management):
 *
 * - Wi-Fi → `com.apple.wifi.managed`.
 * - Trusted root → `com.apple.security.root` (self-signed) or `com.apple.security.pkcs1` (an
 *   intermediate CA), the certificate's DER in `PayloadContent`. A client certificate from a
 *   device CSR has no Apple counterpart here: Apple devices get identities through SCEP or ACME
 *   payloads, and Custos's SCEP endpoint issues only the one enrollment identity per challenge.
 * - Restrictions → `com.apple.applicationaccess` (camera, screenshots) and
 *   `com.apple.mobiledevice.passwordpolicy` (auto-lock, passcode length). Each profile is its own
 *   payload; the device combines several the way Custos merges them, the most restrictive value
 *   winning. USB storage and Bluetooth have no Apple equivalent and are named in the profile.
 * - WireGuard VPN → `com.apple.vpn.managed` for the WireGuard app (`VPNSubType` its bundle id, the
 *   wg-quick config in `VendorConfig`), only with a key set in the profile: the app cannot make its
 *   own and report the public key. OpenVPN is not mapped (see `appleCannotApply`).
 * - A custom `apple-configuration-profile` is installed as given.
 *
 * The profile's identifier is derived from its id, so `RemoveProfile` can name it; every PayloadUUID
 * is derived from the profile version. Secrets go only into the payload, never into logs.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type {
  CertificateSettings,
  Platform,
  ProfileSettings,
  RestrictionName,
  RestrictionSettings,
  VpnSettings,
  WifiSettings,
} from '@custos/shared';
import type { ConfigurationProfileRecord } from '../profiles/profile-store.js';
import type { TenantData } from '../tenant-data.js';
import { buildPlist, type PlistDict } from './plist-codec.js';

/** Called in the transaction that recomputes an Apple device's desired set (ProfileService.refresh). */
export type AppleProfileDelivery = (
  data: TenantData,
  deviceId: string,
  /** New or changed profiles, secrets opened. */
  install: ConfigurationProfileRecord[],
  /** Ids of profiles no longer assigned. */
  remove: string[],
) => Promise<void>;

/** What a payload depends on beyond the profile: the device's platform and, for a tenant-CA root, that CA. */
export interface AppleProfileTarget {
  platform: Platform;
  tenantCaPem?: string | undefined;
}

/** Apple's passcode policy ranges (com.apple.mobiledevice.passwordpolicy: maxInactivity 0–15, minLength 0–16). */
const APPLE_MAX_INACTIVITY_MINUTES = 15;
const APPLE_MAX_PASSCODE_LENGTH = 16;

/** Custos restrictions with no Apple configuration-profile equivalent. */
const NO_APPLE_EQUIVALENT: readonly RestrictionName[] = ['usbStorageDisabled', 'bluetoothDisabled'];

const CLIENT_CERTIFICATE_REASON =
  'Apple devices take client certificates through SCEP or ACME payloads, and Custos’s SCEP endpoint issues only the one enrollment identity certificate per challenge; clientCertificate profiles are not sent to Apple MDM devices.';
const OPENVPN_REASON =
  'Apple devices have no built-in OpenVPN: it needs the OpenVPN Connect app’s own VendorConfig, which Custos does not produce, and certificate authentication would need a clientCertificate profile, which Apple MDM devices cannot take.';
const WIREGUARD_KEY_REASON =
  'The WireGuard app on Apple devices cannot generate its own key and report the public key; set "privateKey" in the profile to send it to Apple MDM devices.';

export function appleCannotApply(settings: ProfileSettings): string | undefined {
  switch (settings.kind) {
    case 'wifi':
      return undefined;
    case 'certificate':
      return settings.certificate.certificateType === 'clientCertificate' ? CLIENT_CERTIFICATE_REASON : undefined;
    case 'restrictions': {
      const { unenforced, applicationAccess, passcode } = appleRestrictions(settings.restrictions);
      return Object.keys(applicationAccess).length + Object.keys(passcode).length > 0
        ? undefined
        : `Apple devices cannot enforce ${unenforced.join(', ')}.`;
    }
    case 'vpn':
      if (settings.vpn.vpnType === 'openvpn') return OPENVPN_REASON;
      return settings.vpn.wireguard?.privateKey === undefined ? WIREGUARD_KEY_REASON : undefined;
    case 'custom':
      return settings.custom.payloadType === 'apple-configuration-profile'
        ? undefined
        : `A ${settings.custom.payloadType} payload is not for Apple devices; they take apple-configuration-profile payloads.`;
  }
}

export function appleProfileIdentifier(profileId: string): string {
  return `io.custos.profile.${profileId}`;
}

/** A stable UUID-shaped value from a seed: the same profile version always has the same PayloadUUID. */
function uuidOf(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

/** The keys every payload in the profile carries; `part` names the payload within the profile. */
function payloadHeader(type: string, identifier: string, seed: string, part: string, displayName: string): PlistDict {
  return {
    PayloadType: type,
    PayloadVersion: 1,
    PayloadIdentifier: `${identifier}.${part}`,
    PayloadUUID: uuidOf(`${seed}:${part}`),
    PayloadDisplayName: displayName,
  };
}

function wifiPayload(wifi: WifiSettings, identifier: string, seed: string): PlistDict {
  const payload: PlistDict = {
    ...payloadHeader('com.apple.wifi.managed', identifier, seed, 'wifi', `Wi-Fi ${wifi.ssid}`),
    SSID_STR: wifi.ssid,
    HIDDEN_NETWORK: wifi.hidden ?? false,
    AutoJoin: wifi.autoConnect ?? true,
    EncryptionType: wifi.security === 'none' ? 'None' : wifi.security === 'wpa3-personal' ? 'WPA3' : 'WPA2',
  };
  if (wifi.security === 'wpa2-personal' || wifi.security === 'wpa3-personal') payload['Password'] = wifi.passphrase ?? '';
  if (wifi.security === 'wpa2-enterprise') {
    payload['EAPClientConfiguration'] = {
      AcceptEAPTypes: [wifi.eapMethod === 'ttls' ? 21 : 25],
      UserName: wifi.identity ?? '',
      UserPassword: wifi.passphrase ?? '',
    };
  }
  return payload;
}

/**
 * A trusted CA as a certificate payload: `com.apple.security.root` for a self-signed root,
 * `com.apple.security.pkcs1` for an intermediate (the schema's general DER certificate payload).
 */
function certificatePayload(certificate: CertificateSettings, target: AppleProfileTarget, identifier: string, seed: string): PlistDict {
  const pem = certificate.trustedRoot?.source === 'tenantCa' ? target.tenantCaPem : certificate.trustedRoot?.pem;
  if (pem === undefined) throw new Error('A trusted-root profile needs its certificate (the tenant CA or the uploaded PEM).');
  const parsed = new x509.X509Certificate(pem);
  const selfSigned = parsed.subject === parsed.issuer;
  const name = parsed.subjectName.getField('CN')[0] ?? parsed.subject;
  return {
    ...payloadHeader(selfSigned ? 'com.apple.security.root' : 'com.apple.security.pkcs1', identifier, seed, 'certificate', name),
    PayloadCertificateFileName: `${name.replace(/[^A-Za-z0-9 ._-]/g, '_')}.cer`,
    PayloadContent: Buffer.from(parsed.rawData),
  };
}

/** The Apple keys for a restrictions profile, and the settings Apple devices cannot enforce. */
function appleRestrictions(r: RestrictionSettings): { applicationAccess: PlistDict; passcode: PlistDict; unenforced: string[] } {
  const applicationAccess: PlistDict = {};
  const passcode: PlistDict = {};
  const unenforced: string[] = NO_APPLE_EQUIVALENT.filter((name) => r[name] !== undefined);
  if (r.cameraDisabled !== undefined) applicationAccess['allowCamera'] = !r.cameraDisabled;
  if (r.screenCaptureDisabled !== undefined) applicationAccess['allowScreenShot'] = !r.screenCaptureDisabled;
  // A longer limit than Apple allows becomes Apple's longest: the device then locks sooner, never later.
  if (r.screenLockMaxMinutes !== undefined) passcode['maxInactivity'] = Math.min(r.screenLockMaxMinutes, APPLE_MAX_INACTIVITY_MINUTES);
  if (r.minimumPasswordLength !== undefined) {
    // A shorter minimum than asked would be weaker, so a length beyond Apple's range is not enforced.
    if (r.minimumPasswordLength > APPLE_MAX_PASSCODE_LENGTH) unenforced.push('minimumPasswordLength');
    else Object.assign(passcode, { forcePIN: true, minLength: r.minimumPasswordLength });
  }
  return { applicationAccess, passcode, unenforced };
}

function restrictionPayloads(r: RestrictionSettings, identifier: string, seed: string): PlistDict[] {
  const { applicationAccess, passcode } = appleRestrictions(r);
  const payloads: PlistDict[] = [];
  if (Object.keys(applicationAccess).length > 0) {
    payloads.push({
      ...payloadHeader('com.apple.applicationaccess', identifier, seed, 'restrictions', 'Restrictions'),
      ...applicationAccess,
    });
  }
  if (Object.keys(passcode).length > 0) {
    payloads.push({ ...payloadHeader('com.apple.mobiledevice.passwordpolicy', identifier, seed, 'passcode', 'Passcode'), ...passcode });
  }
  return payloads;
}

/** The interface and peers in wg-quick(8) form, as the WireGuard apps read `VendorConfig.WgQuickConfig`. */
function wgQuickConfig(wireguard: NonNullable<VpnSettings['wireguard']>): string {
  const lines = ['[Interface]', `PrivateKey = ${wireguard.privateKey ?? ''}`, `Address = ${wireguard.addresses.join(', ')}`];
  if (wireguard.dns && wireguard.dns.length > 0) lines.push(`DNS = ${wireguard.dns.join(', ')}`);
  if (wireguard.listenPort !== undefined) lines.push(`ListenPort = ${wireguard.listenPort}`);
  if (wireguard.mtu !== undefined) lines.push(`MTU = ${wireguard.mtu}`);
  for (const peer of wireguard.peers) {
    lines.push('', '[Peer]', `PublicKey = ${peer.publicKey}`, `AllowedIPs = ${peer.allowedIPs.join(', ')}`);
    if (peer.endpoint !== undefined) lines.push(`Endpoint = ${peer.endpoint}`);
    if (peer.persistentKeepalive !== undefined) lines.push(`PersistentKeepalive = ${peer.persistentKeepalive}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A WireGuard tunnel for the WireGuard app (its documented `com.apple.vpn.managed` form). */
function vpnPayload(vpn: VpnSettings, name: string, target: AppleProfileTarget, identifier: string, seed: string): PlistDict {
  const wireguard = vpn.wireguard;
  if (vpn.vpnType !== 'wireguard' || !wireguard?.privateKey) throw new Error('Only WireGuard VPNs with a key map to Apple payloads.');
  const vpnDict: PlistDict = {
    // Shown as the server in Settings; the WireGuard app reads its peers from the wg-quick config.
    RemoteAddress: wireguard.peers.find((p) => p.endpoint !== undefined)?.endpoint ?? wireguard.addresses[0] ?? name,
    AuthenticationMethod: 'Password',
  };
  if (vpn.autoConnect) Object.assign(vpnDict, { OnDemandEnabled: 1, OnDemandRules: [{ Action: 'Connect' }] });
  return {
    ...payloadHeader('com.apple.vpn.managed', identifier, seed, 'vpn', 'VPN'),
    UserDefinedName: name,
    VPNType: 'VPN',
    VPNSubType: target.platform === 'macos' ? 'com.wireguard.macos' : 'com.wireguard.ios',
    VendorConfig: { WgQuickConfig: wgQuickConfig(wireguard) },
    VPN: vpnDict,
  };
}

/** The payloads of a profile `appleCannotApply` accepts (all but custom ones, which are whole profiles). */
function payloadsOf(profile: ConfigurationProfileRecord, target: AppleProfileTarget, identifier: string, seed: string): PlistDict[] {
  const settings = profile.settings;
  switch (settings.kind) {
    case 'wifi':
      return [wifiPayload(settings.wifi, identifier, seed)];
    case 'certificate':
      return [certificatePayload(settings.certificate, target, identifier, seed)];
    case 'restrictions':
      return restrictionPayloads(settings.restrictions, identifier, seed);
    case 'vpn':
      return [vpnPayload(settings.vpn, profile.name, target, identifier, seed)];
    case 'custom':
      throw new Error('A custom profile is installed as given.');
  }
}

/** The `.mobileconfig` (XML plist bytes) `InstallProfile` carries for a profile `appleCannotApply` accepts. */
export function mobileconfigOf(profile: ConfigurationProfileRecord, target: AppleProfileTarget): Buffer {
  const settings = profile.settings;
  if (settings.kind === 'custom') return Buffer.from(settings.custom.content, 'utf8');
  const reason = appleCannotApply(settings);
  if (reason !== undefined) throw new Error(`No Apple payload for profile ${profile.id}: ${reason}`);
  const identifier = appleProfileIdentifier(profile.id);
  const seed = `${profile.id}:${profile.version}`;
  const unenforced = settings.kind === 'restrictions' ? appleRestrictions(settings.restrictions).unenforced : [];
  return Buffer.from(
    buildPlist({
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadIdentifier: identifier,
      PayloadUUID: uuidOf(seed),
      PayloadDisplayName: profile.name,
      ...(unenforced.length > 0 ? { PayloadDescription: `Not enforced on this device: ${unenforced.join(', ')}.` } : {}),
      PayloadRemovalDisallowed: false,
      PayloadContent: payloadsOf(profile, target, identifier, seed),
    }),
  );
}
