/**
 * Hardware inventory from `systeminformation`, limited to the privacy catalog's hardware fields
 * declared for this platform: a field the catalog does not list for the platform is never sent,
 * and a field the platform cannot report is `null`.
 */
import { HARDWARE_FIELDS, type HardwareInventory, type HardwareValue } from '@custos/shared';
import si, { type Systeminformation } from 'systeminformation';
import type { AgentPlatform } from '../agent-platform.js';
import { fitHardwareValue } from './catalog-fit.js';
import { collectDiskEncryption, windowsSystemDrive } from './disk-encryption.js';
import { collectFirewall } from './firewall.js';
import { normalizeReportedString, normalizeReportedValue } from './normalize-reported-value.js';
import { collectPasswordState, type PasswordState } from './password-policy.js';
import { collectSecureBoot } from './secure-boot.js';

/** What the hardware fields are computed from; the parts of systeminformation's answers we read. */
export interface SystemFacts {
  system: Pick<Systeminformation.SystemData, 'manufacturer' | 'model' | 'serial'>;
  osInfo: Pick<Systeminformation.OsData, 'hostname' | 'distro' | 'release'>;
  cpu: Pick<Systeminformation.CpuData, 'manufacturer' | 'brand'>;
  fsSize: Pick<Systeminformation.FsSizeData, 'mount' | 'size' | 'available'>[];
  networkInterfaces: Pick<Systeminformation.NetworkInterfacesData, 'mac' | 'internal' | 'virtual' | 'type'>[];
  encrypted: boolean | null;
  secureBoot: boolean | null;
  firewallEnabled: boolean | null;
  password: PasswordState;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lower-case, colon-separated; `null` for anything else and for the all-zero address of virtual links. */
export function normalizeMac(mac: string): string | null {
  const normalized = mac.trim().toLowerCase().replaceAll('-', ':');
  return MAC.test(normalized) && normalized !== '00:00:00:00:00:00' ? normalized : null;
}

/** The MAC of the first physical interface of that type, in the order the OS lists interfaces. */
export function firstMac(interfaces: SystemFacts['networkInterfaces'], type: 'wireless' | 'wired'): string | null {
  for (const nic of interfaces) {
    if (nic.internal || nic.virtual || nic.type !== type) continue;
    const mac = normalizeMac(nic.mac);
    if (mac !== null) return mac;
  }
  return null;
}

/** Manufacturer and brand together ("Intel Core™ i7-8700"), as systeminformation splits them. */
export function describeProcessor(cpu: SystemFacts['cpu']): string | null {
  const parts = [normalizeReportedString(cpu.manufacturer), normalizeReportedString(cpu.brand)].filter((p) => p !== null);
  return parts.length > 0 ? parts.join(' ') : null;
}

export function systemMount(platform: AgentPlatform): string {
  return platform === 'windows' ? windowsSystemDrive() : '/';
}

function storage(facts: SystemFacts, platform: AgentPlatform): { total: HardwareValue; free: HardwareValue } {
  const mount = systemMount(platform).toLowerCase();
  const volume = facts.fsSize.find((v) => v.mount.toLowerCase() === mount);
  if (!volume) return { total: null, free: null };
  return { total: normalizeReportedValue(volume.size), free: normalizeReportedValue(volume.available) };
}

/** Maps collected facts onto the catalog's hardware fields for `platform`. Pure, for testing. */
export function hardwareFromFacts(facts: SystemFacts, platform: AgentPlatform): HardwareInventory {
  const { total, free } = storage(facts, platform);
  const values: Record<string, HardwareValue> = {
    deviceName: normalizeReportedValue(facts.osInfo.hostname),
    manufacturer: normalizeReportedValue(facts.system.manufacturer),
    model: normalizeReportedValue(facts.system.model),
    serialNumber: normalizeReportedValue(facts.system.serial),
    operatingSystem: normalizeReportedValue(facts.osInfo.distro),
    osVersion: normalizeReportedValue(facts.osInfo.release),
    processor: describeProcessor(facts.cpu),
    totalStorageBytes: total,
    freeStorageBytes: free,
    wifiMac: firstMac(facts.networkInterfaces, 'wireless'),
    ethernetMac: firstMac(facts.networkInterfaces, 'wired'),
    encrypted: facts.encrypted,
    secureBoot: facts.secureBoot,
    firewallEnabled: facts.firewallEnabled,
    passwordRequired: facts.password.passwordRequired,
    passwordMinimumLength: facts.password.passwordMinimumLength,
    passwordType: facts.password.passwordType,
    // Desktops have no jailbreak notion, no cellular modem or Exchange ActiveSync id to report.
  };
  const hardware: HardwareInventory = {};
  for (const field of HARDWARE_FIELDS) {
    if (field.platforms.includes(platform)) hardware[field.name] = fitHardwareValue(field.name, values[field.name] ?? null);
  }
  return hardware;
}

async function orDefault<T, F>(promise: Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await promise;
  } catch {
    return fallback;
  }
}

export async function collectSystemFacts(platform: AgentPlatform): Promise<SystemFacts> {
  const [system, osInfo, cpu, fsSize, networkInterfaces, encrypted, secureBoot, firewallEnabled, password] = await Promise.all([
    orDefault(si.system(), { manufacturer: '', model: '', serial: '' }),
    orDefault(si.osInfo(), { hostname: '', distro: '', release: '' }),
    orDefault(si.cpu(), { manufacturer: '', brand: '' }),
    orDefault(si.fsSize(), []),
    orDefault(si.networkInterfaces(), []),
    orDefault(
      collectDiskEncryption(platform, () => si.blockDevices()),
      null,
    ),
    orDefault(collectSecureBoot(platform), null),
    // A probe that fails leaves its field unreported, never the whole collection.
    orDefault(collectFirewall(platform), null),
    orDefault(collectPasswordState(platform), { passwordRequired: null, passwordMinimumLength: null, passwordType: null }),
  ]);
  return { system, osInfo, cpu, fsSize, networkInterfaces, encrypted, secureBoot, firewallEnabled, password };
}

export async function collectHardware(platform: AgentPlatform): Promise<HardwareInventory> {
  return hardwareFromFacts(await collectSystemFacts(platform), platform);
}
