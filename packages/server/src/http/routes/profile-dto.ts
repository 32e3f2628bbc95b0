/** Configuration profile records → API shapes: ISO timestamps, and write-only secrets replaced by "is set" flags. */
import type { ConfigurationProfile, DeviceProfileStatus } from '@custos/shared';
import type { ConfigurationProfileRecord, DeviceProfileStateView } from '../../domain/profiles/profile-store.js';

const iso = (ms: number) => new Date(ms).toISOString();

function settingsView(settings: ConfigurationProfileRecord['settings']): Partial<ConfigurationProfile> {
  switch (settings.kind) {
    case 'wifi': {
      const { passphrase, ...wifi } = settings.wifi;
      return { wifi: { ...wifi, passphraseSet: passphrase !== undefined } };
    }
    case 'vpn': {
      const { wireguard, ...vpn } = settings.vpn;
      if (!wireguard) return { vpn };
      const { privateKey, ...rest } = wireguard;
      return { vpn: { ...vpn, wireguard: { ...rest, privateKeySet: privateKey !== undefined } } };
    }
    case 'certificate':
      return { certificate: settings.certificate };
    case 'restrictions':
      return { restrictions: settings.restrictions };
    case 'custom':
      return { custom: settings.custom };
  }
}

export function toConfigurationProfileDto(p: ConfigurationProfileRecord): ConfigurationProfile {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    platform: p.platform,
    kind: p.settings.kind,
    ...settingsView(p.settings),
    version: p.version,
    scopeTags: p.scopeTags,
    assignments: p.assignments.map((a) => ({ target: a.target, ...(a.groupId === null ? {} : { groupId: a.groupId }), mode: a.mode })),
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export function toDeviceProfileStatusDto(s: DeviceProfileStateView): DeviceProfileStatus {
  return {
    profileId: s.profileId,
    name: s.profileName,
    kind: s.kind,
    version: s.profileVersion,
    status: s.status,
    reason: s.reason,
    removing: s.removing,
    conflicts: s.conflicts,
    publicKey: s.publicKey,
    updatedAt: iso(s.updatedAt),
    reportedAt: s.reportedAt === null ? null : iso(s.reportedAt),
  };
}
