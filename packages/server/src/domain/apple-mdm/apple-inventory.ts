/**
 * Apple MDM responses mapped into the common model (SPEC §7): `DeviceInformation` and
 * `SecurityInfo` into catalog hardware fields, `InstalledApplicationList` into app records. Only
 * the Apple keys named here are read, each into its catalog field; a response that carries a key of
 * a prohibited category (location, messages, …) is refused whole, like an agent's inventory.
 */
import {
  prohibitedCategoryOf,
  validateHardware,
  type AppRecord,
  type FieldIssue,
  type HardwareInventory,
  type Platform,
} from '@custos/shared';
import { DomainError } from '../domain-error.js';
import { bool, dict, num, str, type PlistDict } from './plist-codec.js';

/** The `DeviceInformation` queries Custos sends: exactly the keys it maps. */
export const DEVICE_INFORMATION_QUERIES = [
  'DeviceName',
  'Model',
  'ModelName',
  'ProductName',
  'OSVersion',
  'SerialNumber',
  'WiFiMAC',
  'EthernetMAC',
  'DeviceCapacity',
  'AvailableDeviceCapacity',
  'IMEI',
  'IsSupervised',
  'EASDeviceIdentifier',
  'CellularTechnology',
] as const;

const CELLULAR = ['none', 'GSM', 'CDMA', 'GSM and CDMA'];
const GB = 1_000_000_000;

export function platformOfProduct(productName: string | undefined, model?: string): Platform {
  const name = `${productName ?? ''} ${model ?? ''}`;
  if (/iPad/i.test(name)) return 'ipados';
  if (/iPhone|iPod/i.test(name)) return 'ios';
  return 'macos';
}

const OS_NAMES: Partial<Record<Platform, string>> = { ios: 'iOS', ipados: 'iPadOS', macos: 'macOS' };

function refuseProhibited(responses: PlistDict, where: string): void {
  const issues: FieldIssue[] = [];
  for (const key of Object.keys(responses)) {
    const category = prohibitedCategoryOf(key);
    if (category) {
      issues.push({
        field: `${where}.${key}`,
        reason: 'prohibited',
        category,
        message: `Custos never collects ${category} data.`,
      });
    }
  }
  if (issues.length > 0) {
    throw new DomainError(
      'inventory-fields-refused',
      `Refused ${issues.length} field(s): ${issues.map((i) => i.field).join(', ')}. Nothing was stored.`,
      {
        errors: issues,
      },
    );
  }
}

function checked(hardware: HardwareInventory, platform: Platform, where: string): HardwareInventory {
  const issues: FieldIssue[] = [];
  validateHardware(hardware, where, issues, platform);
  if (issues.length > 0) {
    throw new DomainError(
      'inventory-fields-refused',
      `Refused ${issues.length} field(s): ${issues.map((i) => i.field).join(', ')}. Nothing was stored.`,
      {
        errors: issues,
      },
    );
  }
  return hardware;
}

/** `QueryResponses` (or an Authenticate message, which carries some of the same keys) → hardware. */
export function hardwareFromDeviceInformation(responses: PlistDict, platform: Platform, where = 'QueryResponses'): HardwareInventory {
  refuseProhibited(responses, where);
  const hw: Record<string, string | number | boolean> = { manufacturer: 'Apple' };
  const put = (field: string, value: string | number | boolean | undefined) => {
    if (value !== undefined && value !== '') hw[field] = value;
  };
  put('deviceName', str(responses, 'DeviceName'));
  put('model', str(responses, 'ProductName') ?? str(responses, 'ModelName') ?? str(responses, 'Model'));
  put('operatingSystem', OS_NAMES[platform]);
  put('osVersion', str(responses, 'OSVersion'));
  put('serialNumber', str(responses, 'SerialNumber'));
  put('wifiMac', str(responses, 'WiFiMAC'));
  put('ethernetMac', str(responses, 'EthernetMAC'));
  const total = num(responses, 'DeviceCapacity');
  const free = num(responses, 'AvailableDeviceCapacity');
  if (total !== undefined && total >= 0) put('totalStorageBytes', Math.round(total * GB));
  if (free !== undefined && free >= 0) put('freeStorageBytes', Math.round(free * GB));
  if (platform !== 'macos') put('imei', str(responses, 'IMEI'));
  put('supervised', bool(responses, 'IsSupervised'));
  put('exchangeDeviceId', str(responses, 'EASDeviceIdentifier'));
  const cellular = num(responses, 'CellularTechnology');
  if (cellular !== undefined) put('cellularTechnology', CELLULAR[cellular] ?? 'none');
  return checked(hw, platform, 'hardware');
}

/**
 * `SecurityInfo` → the encryption and passcode state the compliance settings read. iOS/iPadOS data
 * protection is on when the hardware supports block and file encryption and a passcode is set; a
 * Mac reports FileVault (`FDE_Enabled`).
 */
export function hardwareFromSecurityInfo(info: PlistDict, platform: Platform): HardwareInventory {
  // Only the keys read below are kept; SecurityInfo's other keys (profile and restriction state) are not stored.
  const passcodePresent = bool(info, 'PasscodePresent');
  const hw: Record<string, boolean> = {};
  if (platform === 'macos') {
    const fde = bool(info, 'FDE_Enabled');
    if (fde !== undefined) hw['encrypted'] = fde;
    const firewall = dict(info['FirewallSettings']);
    const enabled = firewall ? bool(firewall, 'FirewallEnabled') : undefined;
    if (enabled !== undefined) hw['firewallEnabled'] = enabled;
  } else {
    const caps = num(info, 'HardwareEncryptionCaps');
    if (caps !== undefined) hw['encrypted'] = (caps & 3) === 3 && passcodePresent === true;
  }
  if (passcodePresent !== undefined) hw['passwordRequired'] = passcodePresent;
  return checked(hw, platform, 'hardware');
}

/** `InstalledApplicationList` items → app records; `managed` says whether the list was the managed apps only. */
export function appsFromInstalledApplicationList(items: unknown, managed: boolean): AppRecord[] {
  if (!Array.isArray(items)) throw new DomainError('apple-mdm-message-invalid', 'InstalledApplicationList must be an array.');
  const apps: AppRecord[] = [];
  for (const raw of items) {
    const item = dict(raw as PlistDict);
    if (!item) throw new DomainError('apple-mdm-message-invalid', 'Each InstalledApplicationList item must be a dictionary.');
    const name = str(item, 'Name') ?? str(item, 'Identifier');
    if (!name) continue;
    const app: AppRecord = { name: name.slice(0, 512), managed };
    const version = str(item, 'ShortVersion') ?? str(item, 'Version');
    if (version) app.version = version.slice(0, 128);
    const id = str(item, 'Identifier');
    if (id) app.appId = id.slice(0, 512);
    const size = num(item, 'BundleSize');
    if (size !== undefined && size >= 0) app.sizeBytes = Math.round(size);
    apps.push(app);
  }
  return apps;
}
