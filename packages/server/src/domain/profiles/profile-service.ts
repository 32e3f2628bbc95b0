/**
 * Configuration profiles (SPEC §6, issue 4): admins create, version, assign and delete them; each
 * device gets the set its assignments select, applies it through its agent's platform adapter and
 * reports a status per profile (`pending | succeeded | failed | notApplicable`, with the reason).
 *
 * Delivery: every device's desired set has a digest, kept in `device_checkin_state` and returned by
 * the check-in's one UPDATE, so the check-in tells the agent whether its set changed at no extra
 * cost. A changed profile or assignment recomputes the devices it can apply to (inline, one short
 * transaction per device, like compliance) and wakes those whose set changed through the push
 * channel. The agent then fetches the set, applies it, removes what was unassigned and reports.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  agentCannotApply,
  CUSTOM_PAYLOAD_TYPES,
  DEFAULT_CLIENT_CERTIFICATE_DAYS,
  DEFAULT_SUBJECT_TEMPLATE,
  mergeRestrictions,
  renderSubjectTemplate,
  unknownTemplateVariables,
  type AgentProfileSet,
  type ConfigurationProfileInput,
  type ConfigurationProfileUpdate,
  type DeliveredProfile,
  type MergedRestrictions,
  type Permission,
  type Platform,
  type PolicyAssignment,
  type ProfileCertificate,
  type ProfileSettings,
  type ProfileStatus,
  type ProfileStatusReport,
  type ProfileStatusSummary,
} from '@custos/shared';
import { authorize, type Actor } from '../access/authorize.js';
import { checkScopeTags, requireInScope, requireTagsInScope, visibleTo } from '../access/scope-tags.js';
import { assignmentsSelect, toAssignmentRecords } from '../assignments/assignment-targets.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { DeviceWakeups } from '../commands/device-wakeups.js';
import type { AuthenticatedDevice, DeviceAuthenticator } from '../device-auth/device-authenticator.js';
import type { DeviceRecord } from '../devices/device-store.js';
import { groupsOfDevice, requireKnownGroups } from '../assignments/device-groups.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { appleCannotApply, type AppleProfileDelivery } from '../apple-mdm/apple-profiles.js';
import { issueClientCertificate, validateCaCertificatePem } from './profile-certificates.js';
import type { ProfileSecretBox } from './profile-secret-box.js';
import type { ConfigurationProfileRecord, DeviceProfileStateRecord, DeviceProfileStateView } from './profile-store.js';

/** `listIds` without a cap: a change covers every device it can apply to. */
const ALL = Number.MAX_SAFE_INTEGER;
const AUDIT_CATEGORY = 'configurationProfiles';
/** Write-only settings: never in the admin API, only "[redacted]" in the audit log. */
const SECRETS = ['passphrase', 'privateKey'];

/** What one device is to have: the profiles to deliver, those its platform cannot apply, and the digest. */
export interface DesiredProfiles {
  digest: string;
  deliver: ConfigurationProfileRecord[];
  notApplicable: { profile: ConfigurationProfileRecord; reason: string }[];
  restrictions: (MergedRestrictions & { profileIds: string[] }) | null;
}

/** The desired set of `device` among the tenant's live `profiles` (pure; see `ProfileService.refresh`). */
export function desiredProfiles(
  device: DeviceRecord,
  profiles: readonly ConfigurationProfileRecord[],
  deviceGroups?: ReadonlySet<string>,
): DesiredProfiles {
  const deliver: ConfigurationProfileRecord[] = [];
  const notApplicable: DesiredProfiles['notApplicable'] = [];
  for (const profile of profiles) {
    if (profile.platform !== null && profile.platform !== device.platform) continue;
    if (!assignmentsSelect(profile.assignments, device, deviceGroups)) continue;
    const reason =
      device.managementChannel === 'agent' ? agentCannotApply(device.platform, profile.settings) : appleCannotApply(profile.settings);
    if (reason === undefined) deliver.push(profile);
    else notApplicable.push({ profile, reason });
  }
  const sources = deliver.flatMap((p) =>
    p.settings.kind === 'restrictions' ? [{ profileId: p.id, settings: p.settings.restrictions }] : [],
  );
  const restrictions = sources.length === 0 ? null : { ...mergeRestrictions(sources), profileIds: sources.map((s) => s.profileId) };
  return { digest: setDigest(deliver), deliver, notApplicable, restrictions };
}

/** The digest of a set of profile versions, as the check-in announces it. */
function setDigest(deliver: readonly Pick<ConfigurationProfileRecord, 'id' | 'version'>[]): string {
  const ids = deliver.map((p) => `${p.id}:${p.version}`).sort();
  return createHash('sha256').update(JSON.stringify(ids)).digest('base64url');
}

const EMPTY_SET_DIGEST = setDigest([]);

/** The tags after an update: unchanged when absent; new tags must lie in the actor's scope. */
function retag(actor: Actor, tenantId: string, current: string[], requested: readonly string[] | undefined): string[] {
  if (requested === undefined) return current;
  const tags = checkScopeTags(requested);
  requireTagsInScope(actor, 'policies.write', tenantId, tags);
  return tags;
}

/** `desiredProfiles` with the device's groups looked up when a profile targets a group. */
async function desiredProfilesOf(data: TenantData, device: DeviceRecord): Promise<DesiredProfiles> {
  const profiles = await data.configurationProfiles.listForPlatform(device.platform);
  const groups = profiles.some((p) => p.assignments.some((a) => a.target === 'group')) ? await groupsOfDevice(data, device) : undefined;
  return desiredProfiles(device, profiles, groups);
}

function kindMembers(input: ConfigurationProfileInput): ProfileSettings {
  const present = (['wifi', 'vpn', 'certificate', 'restrictions', 'custom'] as const).filter((k) => input[k] !== undefined);
  const others = present.filter((k) => k !== input.kind);
  if (others.length > 0) {
    throw new DomainError(
      'validation-failed',
      `A ${input.kind} profile has its settings in "${input.kind}" only; remove "${others.join('", "')}".`,
    );
  }
  switch (input.kind) {
    case 'wifi':
      if (input.wifi) return { kind: 'wifi', wifi: input.wifi };
      break;
    case 'vpn':
      if (input.vpn) return { kind: 'vpn', vpn: input.vpn };
      break;
    case 'certificate':
      if (input.certificate) return { kind: 'certificate', certificate: input.certificate };
      break;
    case 'restrictions':
      if (input.restrictions) return { kind: 'restrictions', restrictions: input.restrictions };
      break;
    case 'custom':
      if (input.custom) return { kind: 'custom', custom: input.custom };
      break;
  }
  throw new DomainError('validation-failed', `A ${input.kind} profile needs its settings in "${input.kind}".`);
}

/** Keeps write-only secrets an update leaves out, when the setting that needs them is unchanged in kind. */
function keepSecrets(next: ProfileSettings, previous: ProfileSettings | undefined): ProfileSettings {
  if (next.kind === 'wifi' && previous?.kind === 'wifi' && next.wifi.passphrase === undefined && previous.wifi.passphrase !== undefined) {
    return next.wifi.security === 'none' ? next : { kind: 'wifi', wifi: { ...next.wifi, passphrase: previous.wifi.passphrase } };
  }
  if (
    next.kind === 'vpn' &&
    previous?.kind === 'vpn' &&
    next.vpn.wireguard &&
    next.vpn.wireguard.privateKey === undefined &&
    previous.vpn.wireguard?.privateKey !== undefined
  ) {
    return { kind: 'vpn', vpn: { ...next.vpn, wireguard: { ...next.vpn.wireguard, privateKey: previous.vpn.wireguard.privateKey } } };
  }
  return next;
}

export class ProfileService {
  constructor(
    private readonly tenants: TenantService,
    private readonly authenticator: DeviceAuthenticator,
    private readonly wakeups: DeviceWakeups,
    private readonly secrets: ProfileSecretBox,
    private readonly clock: Clock,
  ) {}

  /** Apple MDM devices' changes go through this (domain/apple-mdm/apple-profiles.ts). */
  private appleDelivery: AppleProfileDelivery | undefined;
  setAppleDelivery(delivery: AppleProfileDelivery): void {
    this.appleDelivery = delivery;
  }

  async list(actor: Actor, tenantId: string): Promise<ConfigurationProfileRecord[]> {
    authorize(actor, 'policies.read', { tenantId });
    return visibleTo(actor, 'policies.read', await (await this.tenants.data(tenantId)).configurationProfiles.list());
  }

  async get(actor: Actor, tenantId: string, id: string): Promise<ConfigurationProfileRecord> {
    authorize(actor, 'policies.read', { tenantId });
    return this.existing(await this.tenants.data(tenantId), id, actor, 'policies.read');
  }

  /** A new profile, version 1, assigned to nobody: no device gets it until it is assigned. */
  async create(actor: Actor, tenantId: string, input: ConfigurationProfileInput): Promise<ConfigurationProfileRecord> {
    authorize(actor, 'policies.write', { tenantId });
    const scopeTags = checkScopeTags(input.scopeTags ?? []);
    requireTagsInScope(actor, 'policies.write', tenantId, scopeTags);
    const data = await this.tenants.data(tenantId);
    const now = this.clock.now();
    const profile: ConfigurationProfileRecord = {
      scopeTags,
      id: randomUUID(),
      name: input.name,
      description: input.description ?? null,
      platform: input.platform ?? null,
      settings: await this.validate(data, input, undefined, undefined, tenantId),
      version: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      assignments: [],
    };
    await data.transaction(async (trx) => {
      await trx.configurationProfiles.insert(profile);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Create configuration profile',
        category: AUDIT_CATEGORY,
        operation: 'create',
        targets: [
          { type: 'configurationProfile', id: profile.id, name: profile.name, modifiedProperties: auditProperties(undefined, profile) },
        ],
      });
    });
    return profile;
  }

  /** Replaces the profile's content; its version goes up by one and its devices get it again. */
  async update(actor: Actor, tenantId: string, id: string, input: ConfigurationProfileUpdate): Promise<ConfigurationProfileRecord> {
    authorize(actor, 'policies.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const { after } = await data.transaction(async (trx) => {
      const current = await this.existing(trx, id, actor, 'policies.write');
      if (input.version !== undefined && input.version !== current.version) {
        throw new DomainError('conflict', `Profile ${id} is at version ${current.version}, not ${input.version}; read it again.`, {
          version: current.version,
        });
      }
      const next: ConfigurationProfileRecord = {
        ...current,
        name: input.name,
        description: input.description ?? null,
        platform: input.platform ?? null,
        settings: await this.validate(trx, input, current.settings, id, tenantId),
        scopeTags: retag(actor, tenantId, current.scopeTags, input.scopeTags),
        version: current.version + 1,
        updatedAt: this.clock.now(),
      };
      if (!(await trx.configurationProfiles.update(next))) {
        throw new DomainError('conflict', `Profile ${id} changed while it was being updated; read it again.`);
      }
      await recordAudit(trx, actor, this.clock, {
        activity: 'Update configuration profile',
        category: AUDIT_CATEGORY,
        operation: 'update',
        targets: [{ type: 'configurationProfile', id, name: next.name, modifiedProperties: auditProperties(current, next) }],
      });
      return { after: next };
    });
    await this.refreshAll(data);
    return after;
  }

  /** Soft delete: devices remove it at their next check-in (woken at once when online). */
  async delete(actor: Actor, tenantId: string, id: string): Promise<void> {
    authorize(actor, 'policies.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      const profile = await this.existing(trx, id, actor, 'policies.write');
      if (!(await trx.configurationProfiles.softDelete(id, this.clock.now()))) {
        throw new DomainError('not-found', `No configuration profile has the id ${id}.`);
      }
      await recordAudit(trx, actor, this.clock, {
        activity: 'Delete configuration profile',
        category: AUDIT_CATEGORY,
        operation: 'delete',
        targets: [{ type: 'configurationProfile', id, name: profile.name }],
      });
    });
    await this.refreshAll(data);
  }

  /**
   * Replaces who the profile applies to. Every group must be a group of this tenant (looked up
   * through the tenant's own stores, which cannot see another tenant's); otherwise nothing changes.
   */
  async setAssignments(
    actor: Actor,
    tenantId: string,
    id: string,
    assignments: readonly PolicyAssignment[],
  ): Promise<ConfigurationProfileRecord> {
    authorize(actor, 'policies.write', { tenantId });
    const records = toAssignmentRecords(assignments);
    const data = await this.tenants.data(tenantId);
    const profile = await data.transaction(async (trx) => {
      const current = await this.existing(trx, id, actor, 'policies.write');
      await requireKnownGroups(trx, records);
      await trx.configurationProfiles.replaceAssignments(id, records);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Assign configuration profile',
        category: AUDIT_CATEGORY,
        operation: 'update',
        targets: [
          {
            type: 'configurationProfile',
            id,
            name: current.name,
            modifiedProperties: [{ name: 'assignments', oldValue: current.assignments, newValue: records }],
          },
        ],
      });
      return { ...current, assignments: records };
    });
    await this.refreshAll(data, profile.platform);
    return profile;
  }

  /** A device's status per profile, with conflicts (needs `devices.read`). */
  async deviceProfiles(actor: Actor, tenantId: string, deviceId: string): Promise<DeviceProfileStateView[]> {
    authorize(actor, 'devices.read', { tenantId });
    const data = await this.tenants.data(tenantId);
    if (!(await data.devices.get(deviceId))) throw new DomainError('not-found', `No device has the id ${deviceId}.`);
    return data.deviceProfileStates.listForDevice(deviceId);
  }

  /** How many devices are in each status for the profile. */
  async statusSummary(actor: Actor, tenantId: string, id: string): Promise<ProfileStatusSummary> {
    authorize(actor, 'policies.read', { tenantId });
    const data = await this.tenants.data(tenantId);
    const profile = await this.existing(data, id, actor, 'policies.write');
    const counts = await data.deviceProfileStates.countByStatus(id);
    return {
      profileId: id,
      version: profile.version,
      counts: {
        pending: counts.pending ?? 0,
        succeeded: counts.succeeded ?? 0,
        failed: counts.failed ?? 0,
        notApplicable: counts.notApplicable ?? 0,
      },
    };
  }

  // ---- The device side --------------------------------------------------------------------------

  /**
   * The digest a check-in announces. The check-in's UPDATE returned the stored one; only a device
   * whose set was never computed (just enrolled) pays for computing it here.
   */
  async digestForCheckIn(data: TenantData, deviceId: string, stored: string | null, platform: Platform): Promise<string | undefined> {
    if (stored !== null) return stored;
    // A device whose set was never computed has no status rows yet; when no profile can apply to its
    // platform, its set is empty — one read and one write, not a full refresh (most first check-ins).
    if ((await data.configurationProfiles.listForPlatform(platform)).length === 0) {
      await data.deviceProfileStates.setDigest(deviceId, EMPTY_SET_DIGEST);
      return EMPTY_SET_DIGEST;
    }
    return (await this.refresh(data, deviceId))?.desired.digest;
  }

  /** `GET /api/v1/agent/profiles`: the device's desired set, secrets included, and what to remove. */
  async agentProfiles(device: AuthenticatedDevice): Promise<AgentProfileSet> {
    await this.authenticator.record(device, false);
    const refreshed = await this.refresh(device.data, device.deviceId);
    if (!refreshed) throw new DomainError('device-not-active', 'This device was retired; its credential is revoked.');
    const { desired, removing } = refreshed;
    const needsCa = desired.deliver.some(
      (p) => p.settings.kind === 'certificate' && p.settings.certificate.trustedRoot?.source === 'tenantCa',
    );
    const caPem = needsCa ? (await device.data.certificateAuthority.get())?.certificatePem : undefined;
    return {
      digest: desired.digest,
      profiles: desired.deliver.map((p) => toDelivered(this.openSecrets(device.tenantId, p), caPem)),
      restrictions: desired.restrictions,
      remove: removing,
    };
  }

  /** `POST /api/v1/agent/profiles/status`: each result for the version it is about; removals drop their rows. */
  async recordStatus(device: AuthenticatedDevice, report: ProfileStatusReport): Promise<void> {
    await device.data.transaction(async (data) => {
      await this.authenticator.record({ ...device, data }, false);
      const now = this.clock.now();
      for (const r of report.results) {
        // A report on an older version (the profile changed meanwhile) or a removed profile is stale: ignored.
        await data.deviceProfileStates.recordReport(
          device.deviceId,
          { profileId: r.profileId, version: r.version, status: r.status, reason: r.reason ?? null, publicKey: r.publicKey ?? null },
          now,
        );
      }
      await data.deviceProfileStates.deleteRemoved(device.deviceId, report.removed);
    });
  }

  /**
   * `POST /api/v1/agent/profiles/{id}/certificate`: the tenant CA signs the device's CSR for a
   * client-certificate profile the device has, with the profile's subject template filled in.
   */
  async issueCertificate(device: AuthenticatedDevice, profileId: string, csrPem: string): Promise<ProfileCertificate> {
    await this.authenticator.record(device, false);
    const data = device.data;
    const record = await data.devices.get(device.deviceId);
    if (!record || record.status !== 'active')
      throw new DomainError('device-not-active', 'This device was retired; its credential is revoked.');
    const desired = await desiredProfilesOf(data, record);
    const profile = desired.deliver.find((p) => p.id === profileId);
    if (!profile || profile.settings.kind !== 'certificate' || profile.settings.certificate.certificateType !== 'clientCertificate') {
      throw new DomainError('not-found', `This device has no client-certificate profile ${profileId}.`);
    }
    const ca = await data.certificateAuthority.get();
    if (!ca) throw new DomainError('not-found', 'The tenant has no certificate authority.');
    const options = profile.settings.certificate.clientCertificate;
    const subject = renderSubjectTemplate(options?.subjectTemplate ?? DEFAULT_SUBJECT_TEMPLATE, {
      deviceName: textOf(record.hardware['deviceName']),
      deviceId: record.id,
      serialNumber: textOf(record.hardware['serialNumber']),
      userEmail: record.userEmail,
      tenantId: device.tenantId,
    });
    const days = options?.validityDays ?? DEFAULT_CLIENT_CERTIFICATE_DAYS;
    const certificate = await issueClientCertificate(ca, csrPem, subject, days, this.clock.now());
    return { certificate, caCertificate: ca.certificatePem, version: profile.version };
  }

  /**
   * Recomputes one device's desired set in one transaction: its status rows (new or changed
   * profiles `pending`, or `notApplicable` with the reason; unassigned ones awaiting removal) and
   * the digest the check-in announces. Undefined for a device that is not active.
   */
  async refresh(
    data: TenantData,
    deviceId: string,
  ): Promise<{ desired: DesiredProfiles; removing: string[]; changed: boolean } | undefined> {
    return data.transaction(async (trx) => {
      // Lock order as a check-in: its state row first (see DeviceStore.lockCheckInState).
      await trx.devices.lockCheckInState(deviceId);
      const device = await trx.devices.get(deviceId);
      if (!device || device.status !== 'active') return undefined;
      const desired = await desiredProfilesOf(trx, device);
      const rows = new Map((await trx.deviceProfileStates.listForDevice(deviceId)).map((r) => [r.profileId, r]));
      const now = this.clock.now();
      const put: DeviceProfileStateRecord[] = [];
      const wanted = new Set<string>();
      const conflictsOf = (id: string) => desired.restrictions?.conflicts.filter((c) => c.values.some((v) => v.profileId === id)) ?? [];
      for (const p of desired.deliver) {
        wanted.add(p.id);
        const row = rows.get(p.id);
        const conflicts = conflictsOf(p.id);
        const fresh =
          !row || row.removing || row.profileVersion !== p.version || (row.status === 'notApplicable' && row.reportedAt === null);
        if (fresh) put.push(state(p, 'pending', null, conflicts, now));
        else if (JSON.stringify(row.conflicts) !== JSON.stringify(conflicts)) put.push({ ...row, conflicts, updatedAt: now });
      }
      for (const { profile, reason } of desired.notApplicable) {
        wanted.add(profile.id);
        const row = rows.get(profile.id);
        if (!row || row.profileVersion !== profile.version || row.status !== 'notApplicable' || row.reason !== reason || row.removing) {
          put.push(state(profile, 'notApplicable', reason, [], now));
        }
      }
      const dropped: string[] = [];
      const removed: string[] = [];
      for (const row of rows.values()) {
        if (wanted.has(row.profileId) || row.removing) continue;
        if (!(row.status === 'notApplicable' && row.reportedAt === null)) removed.push(row.profileId);
        // Never delivered (the server judged it not applicable): nothing on the device to remove.
        if (row.status === 'notApplicable' && row.reportedAt === null) dropped.push(row.profileId);
        else
          put.push({
            ...row,
            removing: true,
            status: 'pending',
            reason: 'Unassigned; waiting for the device to remove it.',
            updatedAt: now,
          });
      }
      await trx.deviceProfileStates.put(deviceId, put);
      await trx.deviceProfileStates.delete(deviceId, dropped);
      // Apple MDM devices get their changes as InstallProfile / RemoveProfile commands.
      if (device.managementChannel === 'apple-mdm' && this.appleDelivery) {
        const installs = desired.deliver.filter((p) => put.some((r) => r.profileId === p.id && r.status === 'pending' && !r.removing));
        await this.appleDelivery(
          trx,
          deviceId,
          installs.map((p) => this.openSecrets(data.tenantId, p)),
          removed,
        );
      }
      const previous = await trx.deviceProfileStates.getDigest(deviceId);
      await trx.deviceProfileStates.setDigest(deviceId, desired.digest);
      const removing = [...rows.values()].filter((r) => !wanted.has(r.profileId) && !dropped.includes(r.profileId));
      return { desired, removing: removing.map((r) => r.profileId), changed: previous !== desired.digest };
    });
  }

  private sealSecrets(tenantId: string, settings: ProfileSettings): ProfileSettings {
    return mapSecrets(settings, (plain) => this.secrets.seal(tenantId, plain));
  }

  private openSecrets(tenantId: string, profile: ConfigurationProfileRecord): ConfigurationProfileRecord {
    return { ...profile, settings: mapSecrets(profile.settings, (sealed) => this.secrets.open(tenantId, sealed)) };
  }

  /** The live configuration profile, when the actor holds `permission` over its scope; otherwise not found, as for a missing one. */
  private async existing(data: TenantData, id: string, actor: Actor, permission: Permission): Promise<ConfigurationProfileRecord> {
    const profile = await data.configurationProfiles.get(id);
    if (!profile) throw new DomainError('not-found', `No configuration profile has the id ${id}.`);
    requireInScope(actor, permission, data.tenantId, profile, 'configuration profile');
    return profile;
  }

  /**
   * Recomputes the devices a change can concern (those of the profile's platform, or all) and wakes
   * those whose set changed, so online devices apply it within seconds. Inline, one short
   * transaction per device: fine for a few thousand devices per change (see ComplianceService).
   */
  private async refreshAll(data: TenantData, platform: ConfigurationProfileRecord['platform'] = null): Promise<void> {
    await this.refreshDevices(data, await data.devices.listIds(platform === null ? {} : { platform }, ALL));
  }

  /** Recomputes these devices' sets and wakes those whose set changed (also after a group membership change). */
  async refreshDevices(data: TenantData, ids: readonly string[]): Promise<void> {
    const woken: string[] = [];
    for (const id of ids) {
      const result = await this.refresh(data, id);
      if (result?.changed || (result && result.removing.length > 0)) woken.push(id);
    }
    if (woken.length > 0) await this.wakeups.publish(data.tenantId, woken);
  }

  /** The checks JSON Schema cannot make; returns the settings to store (secrets kept from `previous`). */
  private async validate(
    data: TenantData,
    input: ConfigurationProfileInput,
    previous: ProfileSettings | undefined,
    selfId: string | undefined,
    tenantId: string,
  ): Promise<ProfileSettings> {
    // New secrets are sealed at once; omitted ones are kept from `previous`, sealed already.
    const settings = keepSecrets(this.sealSecrets(tenantId, kindMembers(input)), previous);
    const now = this.clock.now();
    switch (settings.kind) {
      case 'wifi': {
        const w = settings.wifi;
        if (w.security === 'none' && (w.passphrase !== undefined || w.eapMethod !== undefined || w.identity !== undefined)) {
          throw new DomainError(
            'validation-failed',
            'An open network ("security": "none") takes no "passphrase", "eapMethod" or "identity".',
          );
        }
        if ((w.security === 'wpa2-personal' || w.security === 'wpa3-personal') && w.passphrase === undefined) {
          throw new DomainError('validation-failed', `"${w.security}" needs "passphrase" (8–63 characters).`);
        }
        if (w.security === 'wpa2-enterprise' && (w.eapMethod === undefined || w.identity === undefined || w.passphrase === undefined)) {
          throw new DomainError(
            'validation-failed',
            '"wpa2-enterprise" needs "eapMethod", "identity" and "passphrase" (the EAP password).',
          );
        }
        return settings;
      }
      case 'vpn': {
        const v = settings.vpn;
        const other = v.vpnType === 'wireguard' ? 'openvpn' : 'wireguard';
        if (v[v.vpnType] === undefined)
          throw new DomainError('validation-failed', `A ${v.vpnType} VPN needs its settings in "${v.vpnType}".`);
        if (v[other] !== undefined) throw new DomainError('validation-failed', `A ${v.vpnType} VPN takes no "${other}" settings.`);
        const o = v.openvpn;
        if (o) {
          const ca = validateCaCertificatePem(o.ca, 'vpn.openvpn.ca', now);
          const needsCert = o.authentication !== 'password';
          if (needsCert !== (o.clientCertificateProfileId !== undefined)) {
            throw new DomainError(
              'validation-failed',
              needsCert
                ? `"${o.authentication}" authentication needs "clientCertificateProfileId": a clientCertificate profile.`
                : '"password" authentication takes no "clientCertificateProfileId".',
            );
          }
          if (o.authentication !== 'certificate' && o.username === undefined) {
            throw new DomainError('validation-failed', `"${o.authentication}" authentication needs "username".`);
          }
          if (o.clientCertificateProfileId !== undefined) {
            const cert =
              o.clientCertificateProfileId === selfId ? undefined : await data.configurationProfiles.get(o.clientCertificateProfileId);
            if (cert?.settings.kind !== 'certificate' || cert.settings.certificate.certificateType !== 'clientCertificate') {
              throw new DomainError(
                'validation-failed',
                `"clientCertificateProfileId" ${o.clientCertificateProfileId} is no clientCertificate profile of this tenant.`,
              );
            }
          }
          return { kind: 'vpn', vpn: { ...v, openvpn: { ...o, ca } } };
        }
        return settings;
      }
      case 'certificate': {
        const c = settings.certificate;
        if (c.certificateType === 'trustedRoot') {
          if (c.clientCertificate !== undefined)
            throw new DomainError('validation-failed', 'A trustedRoot profile takes no "clientCertificate" settings.');
          const root = c.trustedRoot;
          if (!root)
            throw new DomainError('validation-failed', 'A trustedRoot profile needs "trustedRoot": { "source": "tenantCa" } or a "pem".');
          if (root.source === 'tenantCa') {
            if (root.pem !== undefined)
              throw new DomainError('validation-failed', 'Source "tenantCa" takes no "pem": the tenant CA is used.');
            return settings;
          }
          if (root.pem === undefined) throw new DomainError('validation-failed', 'Source "pem" needs "pem": the CA certificate.');
          return {
            kind: 'certificate',
            certificate: {
              ...c,
              trustedRoot: { source: 'pem', pem: validateCaCertificatePem(root.pem, 'certificate.trustedRoot.pem', now) },
            },
          };
        }
        if (c.trustedRoot !== undefined)
          throw new DomainError('validation-failed', 'A clientCertificate profile takes no "trustedRoot" settings.');
        const template = c.clientCertificate?.subjectTemplate ?? DEFAULT_SUBJECT_TEMPLATE;
        const unknown = unknownTemplateVariables(template);
        if (unknown.length > 0) {
          throw new DomainError(
            'validation-failed',
            `"subjectTemplate" names unknown variables: ${unknown.map((u) => `{{${u}}}`).join(', ')}.`,
          );
        }
        if (!/^\s*[A-Za-z][A-Za-z0-9.]*\s*=/.test(template)) {
          throw new DomainError(
            'validation-failed',
            '"subjectTemplate" must be a distinguished name such as "CN={{deviceName}}, O=Example".',
          );
        }
        return settings;
      }
      case 'restrictions':
        return settings;
      case 'custom': {
        const platforms: readonly string[] = CUSTOM_PAYLOAD_TYPES[settings.custom.payloadType];
        if (input.platform === undefined || input.platform === null || !platforms.includes(input.platform)) {
          throw new DomainError(
            'validation-failed',
            `A ${settings.custom.payloadType} payload needs "platform" set to ${platforms.join(' or ')}.`,
          );
        }
        return settings;
      }
    }
  }
}

/** The settings with each write-only secret (Wi-Fi passphrase, WireGuard private key) passed through `transform`. */
function mapSecrets(settings: ProfileSettings, transform: (value: string) => string): ProfileSettings {
  if (settings.kind === 'wifi' && settings.wifi.passphrase !== undefined) {
    return { kind: 'wifi', wifi: { ...settings.wifi, passphrase: transform(settings.wifi.passphrase) } };
  }
  const wireguard = settings.kind === 'vpn' ? settings.vpn.wireguard : undefined;
  if (settings.kind === 'vpn' && wireguard?.privateKey !== undefined) {
    return { kind: 'vpn', vpn: { ...settings.vpn, wireguard: { ...wireguard, privateKey: transform(wireguard.privateKey) } } };
  }
  return settings;
}

function textOf(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function state(
  profile: ConfigurationProfileRecord,
  status: ProfileStatus,
  reason: string | null,
  conflicts: DeviceProfileStateRecord['conflicts'],
  now: number,
): DeviceProfileStateRecord {
  return {
    profileId: profile.id,
    profileVersion: profile.version,
    status,
    reason,
    removing: false,
    conflicts,
    publicKey: null,
    updatedAt: now,
    reportedAt: null,
  };
}

function toDelivered(p: ConfigurationProfileRecord, tenantCaPem: string | undefined): DeliveredProfile {
  const base = { id: p.id, name: p.name, version: p.version, kind: p.settings.kind };
  switch (p.settings.kind) {
    case 'wifi':
      return { ...base, wifi: p.settings.wifi };
    case 'vpn':
      return { ...base, vpn: p.settings.vpn };
    case 'restrictions':
      return { ...base, restrictions: p.settings.restrictions };
    case 'custom':
      return { ...base, custom: p.settings.custom };
    case 'certificate': {
      const c = p.settings.certificate;
      const pem = c.trustedRoot?.source === 'tenantCa' ? tenantCaPem : c.trustedRoot?.pem;
      return { ...base, certificate: { certificateType: c.certificateType, ...(pem === undefined ? {} : { pem }) } };
    }
  }
}

/** The audited view of a profile: its fields and settings, secrets redacted. */
function auditProperties(
  before: ConfigurationProfileRecord | undefined,
  after: ConfigurationProfileRecord,
): ReturnType<typeof changedProperties> {
  const flat = (p: ConfigurationProfileRecord | undefined): Record<string, unknown> | undefined => {
    if (!p) return undefined;
    const { kind, ...members } = p.settings;
    const settings = Object.values(members)[0] as Record<string, unknown>;
    const wireguard = (settings['wireguard'] ?? {}) as Record<string, unknown>;
    return {
      name: p.name,
      description: p.description,
      platform: p.platform,
      kind,
      ...Object.fromEntries(Object.entries(settings).filter(([k]) => k !== 'wireguard')),
      ...(settings['wireguard'] ? { wireguard: { ...wireguard, privateKey: undefined }, privateKey: wireguard['privateKey'] } : {}),
    };
  };
  return changedProperties(flat(before), flat(after), SECRETS);
}
