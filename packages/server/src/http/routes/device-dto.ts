/** Domain records → API shapes (SPEC §11 field names; ISO timestamps). */
import { appInventoryScope, PASSWORD_TYPES, type App, type Device, type EnrollmentToken, type PasswordType } from '@custos/shared';
import type { DeviceRecord, StoredApp } from '../../domain/devices/device-store.js';
import type { EnrollmentTokenRecord } from '../../domain/enrollment/enrollment-token.js';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}
function bool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

function passwordType(v: unknown): PasswordType | null {
  return PASSWORD_TYPES.find((t) => t === v) ?? null;
}

export function toDeviceDto(tenantId: string, d: DeviceRecord): Device {
  const h = d.hardware;
  return {
    id: d.id,
    tenantId,
    platform: d.platform,
    managementChannel: d.managementChannel,
    ownership: d.ownership,
    status: d.status,
    complianceState: d.complianceState,
    deviceName: str(h['deviceName']),
    manufacturer: str(h['manufacturer']),
    model: str(h['model']),
    operatingSystem: str(h['operatingSystem']),
    osVersion: str(h['osVersion']),
    processor: str(h['processor']),
    serialNumber: str(h['serialNumber']),
    cellularTechnology: str(h['cellularTechnology']),
    jailBroken: bool(h['jailBroken']),
    freeStorageBytes: num(h['freeStorageBytes']),
    totalStorageBytes: num(h['totalStorageBytes']),
    exchangeDeviceId: str(h['exchangeDeviceId']),
    wifiMac: str(h['wifiMac']),
    ethernetMac: str(h['ethernetMac']),
    encrypted: bool(h['encrypted']),
    imei: str(h['imei']),
    supervised: bool(h['supervised']),
    secureBoot: bool(h['secureBoot']),
    passwordRequired: bool(h['passwordRequired']),
    passwordMinimumLength: num(h['passwordMinimumLength']),
    passwordType: passwordType(h['passwordType']),
    firewallEnabled: bool(h['firewallEnabled']),
    appInventoryScope: appInventoryScope(d.ownership, d.platform, d.appListPolicyApplies),
    lastCheckInAt: isoOrNull(d.lastCheckInAt),
    enrolledAt: iso(d.enrolledAt),
    retiredAt: isoOrNull(d.retiredAt),
    scopeTags: d.scopeTags ?? [],
    consent: {
      privacyStatementVersion: d.consent.privacyStatementVersion,
      acceptedAt: iso(d.consent.acceptedAt),
      method: d.consent.method,
    },
  };
}

export function toAppDto(a: StoredApp): App {
  return {
    name: a.name,
    version: a.version,
    appId: a.appId,
    installLocation: a.installLocation,
    sizeBytes: a.sizeBytes,
    managed: a.managed ?? false,
  };
}

export function toEnrollmentTokenDto(t: EnrollmentTokenRecord): EnrollmentToken {
  return {
    id: t.id,
    ownership: t.ownership,
    description: t.description,
    platforms: t.platforms,
    maxUses: t.maxUses,
    uses: t.uses,
    deviceLimitPerUser: t.deviceLimitPerUser,
    userEmail: t.userEmail,
    expiresAt: iso(t.expiresAt),
    createdAt: iso(t.createdAt),
    revokedAt: isoOrNull(t.revokedAt),
    scopeTags: t.scopeTags ?? [],
  };
}
