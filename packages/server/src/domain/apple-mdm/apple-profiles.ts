/**
 * Configuration profiles for Apple MDM devices (SPEC §6, §7): which kinds an Apple device takes,
 * and each as a `.mobileconfig` for `InstallProfile`. Wi-Fi becomes a `com.apple.wifi.managed`
 * payload; a custom `apple-configuration-profile` is installed as given. The profile's identifier
 * is derived from its id, so `RemoveProfile` can name it.
 */
import { createHash } from 'node:crypto';
import type { ProfileSettings, WifiSettings } from '@custos/shared';
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

export function appleCannotApply(settings: ProfileSettings): string | undefined {
  switch (settings.kind) {
    case 'wifi':
      return undefined;
    case 'custom':
      return settings.custom.payloadType === 'apple-configuration-profile'
        ? undefined
        : `A ${settings.custom.payloadType} payload is not for Apple devices; they take apple-configuration-profile payloads.`;
    case 'vpn':
    case 'certificate':
    case 'restrictions':
      return `Custos does not yet send ${settings.kind} profiles to Apple MDM devices (Wi-Fi and custom Apple profiles so far).`;
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

function wifiPayload(wifi: WifiSettings, identifier: string, seed: string): PlistDict {
  const payload: PlistDict = {
    PayloadType: 'com.apple.wifi.managed',
    PayloadVersion: 1,
    PayloadIdentifier: `${identifier}.wifi`,
    PayloadUUID: uuidOf(`${seed}:wifi`),
    PayloadDisplayName: `Wi-Fi ${wifi.ssid}`,
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

/** The `.mobileconfig` (XML plist bytes) `InstallProfile` carries for a profile. */
export function mobileconfigOf(profile: ConfigurationProfileRecord): Buffer {
  const settings = profile.settings;
  if (settings.kind === 'custom') return Buffer.from(settings.custom.content, 'utf8');
  if (settings.kind !== 'wifi') throw new Error(`No Apple payload for ${settings.kind} profiles.`);
  const identifier = appleProfileIdentifier(profile.id);
  const seed = `${profile.id}:${profile.version}`;
  return Buffer.from(
    buildPlist({
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadIdentifier: identifier,
      PayloadUUID: uuidOf(seed),
      PayloadDisplayName: profile.name,
      PayloadRemovalDisallowed: false,
      PayloadContent: [wifiPayload(settings.wifi, identifier, seed)],
    }),
  );
}
