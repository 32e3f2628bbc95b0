/**
 * The file contents the Linux adapter writes, as pure functions: NetworkManager keyfiles
 * (https://networkmanager.dev/docs/api/latest/nm-settings-keyfile.html) for Wi-Fi, WireGuard and the
 * OpenVPN plugin, and the modprobe and dconf files that carry device restrictions.
 */
import type { DeliveredProfile, RestrictionSettings } from '@custos/shared';

/** Where each kind of file goes, relative to the profile root ("/" in real mode). */
export const LINUX_PATHS = {
  connections: 'etc/NetworkManager/system-connections',
  trustAnchors: 'usr/local/share/ca-certificates',
  certificates: 'etc/custos/certs',
  modprobe: 'etc/modprobe.d/custos-restrictions.conf',
  dconf: 'etc/dconf/db/local.d/00-custos-restrictions',
  dconfLocks: 'etc/dconf/db/local.d/locks/custos-restrictions',
} as const;

/** A GKeyFile value: backslash, line breaks, tabs and a leading space escaped (glib `g_key_file_set_value`). */
export function keyfileValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/^ /, '\\s');
}

type Section = [name: string, entries: [key: string, value: string | number | boolean | undefined][]];

function keyfile(sections: Section[]): string {
  return sections
    .map(([name, entries]) => {
      const lines = entries
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? keyfileValue(v) : String(v)}`);
      return `[${name}]\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`;
    })
    .join('\n');
}

const list = (values: readonly string[]) => `${values.join(';')};`;

function connection(profile: DeliveredProfile, type: string, autoConnect: boolean | undefined, extra: Section[1] = []): Section {
  // The profile id is a UUID: NetworkManager's connection uuid, so the same profile is the same connection.
  return ['connection', [['id', profile.name], ['uuid', profile.id], ['type', type], ['autoconnect', autoConnect ?? true], ...extra]];
}

export function wifiKeyfile(profile: DeliveredProfile): string {
  const w = profile.wifi;
  if (!w) throw new Error(`Profile ${profile.id} has no Wi-Fi settings.`);
  const sections: Section[] = [
    connection(profile, 'wifi', w.autoConnect),
    [
      'wifi',
      [
        ['mode', 'infrastructure'],
        ['ssid', w.ssid],
        ['hidden', w.hidden === true ? true : undefined],
      ],
    ],
  ];
  switch (w.security) {
    case 'none':
      break;
    case 'wpa2-personal':
      sections.push([
        'wifi-security',
        [
          ['key-mgmt', 'wpa-psk'],
          ['psk', w.passphrase],
        ],
      ]);
      break;
    case 'wpa3-personal':
      sections.push([
        'wifi-security',
        [
          ['key-mgmt', 'sae'],
          ['psk', w.passphrase],
        ],
      ]);
      break;
    case 'wpa2-enterprise':
      sections.push(['wifi-security', [['key-mgmt', 'wpa-eap']]]);
      sections.push([
        '802-1x',
        [
          ['eap', list([w.eapMethod ?? 'peap'])],
          ['identity', w.identity],
          ['password', w.passphrase],
          ['phase2-auth', 'mschapv2'],
        ],
      ]);
      break;
  }
  sections.push(['ipv4', [['method', 'auto']]], ['ipv6', [['method', 'auto']]]);
  return keyfile(sections);
}

/** A Linux interface name is at most 15 bytes: "cwg-" and the profile id's first 8 hex digits. */
export function wireguardInterfaceName(profileId: string): string {
  return `cwg-${profileId.replace(/-/g, '').slice(0, 8)}`;
}

export function wireguardKeyfile(profile: DeliveredProfile, privateKey: string): string {
  const wg = profile.vpn?.wireguard;
  if (!wg) throw new Error(`Profile ${profile.id} has no WireGuard settings.`);
  const v4 = wg.addresses.filter((a) => !a.includes(':'));
  const v6 = wg.addresses.filter((a) => a.includes(':'));
  const dns4 = (wg.dns ?? []).filter((d) => !d.includes(':'));
  const sections: Section[] = [
    connection(profile, 'wireguard', profile.vpn?.autoConnect ?? false, [['interface-name', wireguardInterfaceName(profile.id)]]),
    [
      'wireguard',
      [
        ['private-key', privateKey],
        ['listen-port', wg.listenPort],
        ['mtu', wg.mtu],
      ],
    ],
    ...wg.peers.map((peer): Section => [
      `wireguard-peer.${peer.publicKey}`,
      [
        ['endpoint', peer.endpoint],
        ['allowed-ips', list(peer.allowedIPs)],
        ['persistent-keepalive', peer.persistentKeepalive],
      ],
    ]),
    [
      'ipv4',
      v4.length === 0
        ? [['method', 'disabled']]
        : [
            ['method', 'manual'],
            ...v4.map((a, i): [string, string] => [`address${i + 1}`, a]),
            ['dns', dns4.length > 0 ? list(dns4) : undefined],
          ],
    ],
    [
      'ipv6',
      v6.length === 0 ? [['method', 'disabled']] : [['method', 'manual'], ...v6.map((a, i): [string, string] => [`address${i + 1}`, a])],
    ],
  ];
  return keyfile(sections);
}

export interface OpenVpnFiles {
  ca: string;
  certificate?: string;
  key?: string;
}

/** The NetworkManager openvpn plugin's keyfile (service org.freedesktop.NetworkManager.openvpn). */
export function openvpnKeyfile(profile: DeliveredProfile, files: OpenVpnFiles): string {
  const o = profile.vpn?.openvpn;
  if (!o) throw new Error(`Profile ${profile.id} has no OpenVPN settings.`);
  const connectionType = { certificate: 'tls', password: 'password', 'password-certificate': 'password-tls' }[o.authentication];
  const data: Section[1] = [
    ['service-type', 'org.freedesktop.NetworkManager.openvpn'],
    ['connection-type', connectionType],
    ['remote', o.remote],
    ['port', o.port ?? 1194],
    ['proto-tcp', o.proto === 'tcp' ? 'yes' : undefined],
    ['ca', files.ca],
    ['cert', files.certificate],
    ['key', files.key],
    ['username', o.username],
    // The user types the password when connecting; Custos never holds it.
    ['password-flags', o.authentication === 'certificate' ? undefined : 2],
    ...Object.entries(o.options ?? {}).sort(([a], [b]) => a.localeCompare(b)),
  ];
  return keyfile([
    connection(profile, 'vpn', profile.vpn?.autoConnect ?? false),
    ['vpn', data],
    ['ipv4', [['method', 'auto']]],
    ['ipv6', [['method', 'auto']]],
  ]);
}

/** Kernel modules a restriction keeps from loading: `install <module> /bin/false` in modprobe.d. */
const BLOCKED_MODULES = {
  cameraDisabled: ['uvcvideo'],
  usbStorageDisabled: ['usb_storage', 'uas'],
  bluetoothDisabled: ['btusb', 'bluetooth'],
};

export interface RestrictionFiles {
  modprobe: string | undefined;
  dconf: string | undefined;
  dconfLocks: string | undefined;
}

export function restrictionFiles(settings: RestrictionSettings, profileIds: readonly string[]): RestrictionFiles {
  const header = `# Written by the Custos agent for configuration profiles ${profileIds.join(', ')}; removed with them.\n`;
  const modules = (Object.keys(BLOCKED_MODULES) as (keyof typeof BLOCKED_MODULES)[])
    .filter((k) => settings[k] === true)
    .flatMap((k) => BLOCKED_MODULES[k]);
  const minutes = settings.screenLockMaxMinutes;
  return {
    modprobe: modules.length === 0 ? undefined : header + modules.map((m) => `install ${m} /bin/false\n`).join(''),
    dconf:
      minutes === undefined
        ? undefined
        : `${header}[org/gnome/desktop/session]\nidle-delay=uint32 ${minutes * 60}\n\n[org/gnome/desktop/screensaver]\nlock-enabled=true\nlock-delay=uint32 0\n`,
    dconfLocks:
      minutes === undefined
        ? undefined
        : `${header}/org/gnome/desktop/session/idle-delay\n/org/gnome/desktop/screensaver/lock-enabled\n/org/gnome/desktop/screensaver/lock-delay\n`,
  };
}
