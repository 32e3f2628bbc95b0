/**
 * Realistic, deterministic inventory documents: a Debian laptop with dpkg packages, shaped exactly
 * as the agent's `parseDpkgQuery` reports them (app id = package name, no install location, size in
 * bytes, unmanaged). The same inputs always give the same documents, so runs are comparable.
 */
import { createHash } from 'node:crypto';
import { canonicalInventoryJson, type AppRecord, type InventoryDocument } from '@custos/shared';

const PACKAGE_STEMS = [
  'adduser',
  'apt',
  'base-files',
  'bash',
  'bsdutils',
  'ca-certificates',
  'coreutils',
  'cron',
  'curl',
  'dash',
  'dbus',
  'debconf',
  'diffutils',
  'dpkg',
  'e2fsprogs',
  'evince',
  'findutils',
  'firefox-esr',
  'fwupd',
  'gcc-12-base',
  'git',
  'gnome-shell',
  'gnupg',
  'grep',
  'gzip',
  'hostname',
  'iproute2',
  'iputils-ping',
  'keepassxc',
  'less',
  'libreoffice-calc',
  'libreoffice-impress',
  'libreoffice-writer',
  'login',
  'mount',
  'nano',
  'ncurses-base',
  'network-manager',
  'openssh-client',
  'openssl',
  'passwd',
  'perl-base',
  'pipewire',
  'procps',
  'python3',
  'rsync',
  'sed',
  'sudo',
  'systemd',
  'tar',
  'thunderbird',
  'tzdata',
  'unattended-upgrades',
  'util-linux',
  'vim',
  'wget',
  'wireguard-tools',
  'xz-utils',
  'zlib1g',
  'zstd',
];
const PACKAGE_PREFIXES = ['', 'lib', 'python3-', 'gir1.2-', 'fonts-', 'node-'];

function packageName(index: number): string {
  const stem = PACKAGE_STEMS[index % PACKAGE_STEMS.length] as string;
  const round = Math.floor(index / PACKAGE_STEMS.length);
  const prefix = PACKAGE_PREFIXES[round % PACKAGE_PREFIXES.length] as string;
  const suffix = round >= PACKAGE_PREFIXES.length ? `${Math.floor(round / PACKAGE_PREFIXES.length)}` : '';
  return `${prefix}${stem}${suffix}`;
}

/** The dpkg packages of device `device`: the same package set fleet-wide, a few versions differ per device. */
export function appsOf(device: number, count: number): AppRecord[] {
  const apps: AppRecord[] = [];
  for (let i = 0; i < count; i++) {
    const name = packageName(i);
    const patch = (i + device) % 11 === 0 ? 2 : 1;
    apps.push({
      name,
      version: `${1 + (i % 9)}.${(i * 7) % 23}.${(i * 3) % 5}-${patch}+deb12u${1 + (i % 4)}`,
      appId: name,
      installLocation: null,
      sizeBytes: 1024 * (40 + ((i * 7919) % 180_000)),
      managed: false,
    });
  }
  return apps;
}

function macOf(device: number): string {
  const hex = (0x3c_52_82_00_00_00 + device).toString(16).padStart(12, '0');
  return hex.match(/../g)?.join(':') ?? hex;
}

export function inventoryOf(device: number, appCount: number): InventoryDocument {
  const number = String(device).padStart(5, '0');
  return {
    hardware: {
      deviceName: `laptop-${number}`,
      manufacturer: 'LENOVO',
      model: 'ThinkPad X1 Carbon Gen 11',
      operatingSystem: 'Debian GNU/Linux',
      osVersion: '12.7',
      processor: '13th Gen Intel(R) Core(TM) i7-1365U',
      serialNumber: `PF4${number}`,
      encrypted: true,
      secureBoot: true,
      wifiMac: macOf(device),
      ethernetMac: null,
      freeStorageBytes: 180_000_000_000 + device * 1_000_003,
      totalStorageBytes: 512_110_190_592,
    },
    apps: appsOf(device, appCount),
  };
}

/** The digest the agent sends with a document (base64url SHA-256 of its canonical JSON). */
export function inventoryDigest(doc: InventoryDocument): string {
  return createHash('sha256').update(canonicalInventoryJson(doc)).digest('base64url');
}
