/**
 * The Company Portal's side of the API (SPEC §10): what a signed-in employee may do with their own
 * devices — see them with plain-words reasons, sync, rename, remove a personal one, get a one-time
 * enrollment code — and read what their organization can see. A user needs no admin role for any of
 * it: each call first proves the device is the user's, then acts through the ordinary services with
 * an actor narrowed to that one permission, so the command queue and the audit log treat it like
 * any other change (the audit shows the user).
 */
import type { Permission } from '@custos/shared';
import { describeCollection, type CollectionStatement } from '@custos/shared';
import { DomainError } from '../domain-error.js';
import type { Actor } from '../access/authorize.js';
import type { CommandService } from '../commands/command-service.js';
import type { DeviceRecord } from '../devices/device-store.js';
import type { EnrollmentService } from '../enrollment/enrollment-service.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';

type UserActor = Extract<Actor, { type: 'user' }>;

export interface MyDevice {
  device: DeviceRecord;
  canAccessCompanyResources: boolean;
  /** Plain-words reasons the device is not compliant, one per failing setting. */
  reasons: string[];
}

export interface PortalInfo {
  tenantName: string;
  supportContact: string | null;
  privacyStatement: { version: string; text: string | null; url: string | null };
  branding: { displayName: string | null; accentColor: string | null };
}

/** Compliant devices, and devices still in their grace period, may reach company resources. */
const ACCESS_STATES = new Set(['compliant', 'inGracePeriod']);

function asUser(actor: Actor): UserActor {
  if (actor.type !== 'user')
    throw new DomainError('forbidden', 'The Company Portal is for signed-in users; API tokens have no devices of their own.');
  return actor;
}

/** The user's actor holding exactly `permission`, for one action on a device already proven theirs. */
function narrowed(actor: UserActor, permission: Permission): UserActor {
  return { ...actor, grants: [{ permissions: new Set([permission]), scopeTags: null }] };
}

export class SelfService {
  constructor(
    private readonly tenants: TenantService,
    private readonly commands: CommandService,
    private readonly enrollment: EnrollmentService,
  ) {}

  async info(actor: Actor): Promise<PortalInfo> {
    const user = asUser(actor);
    const s = await this.tenants.settings(user.tenantId);
    return {
      tenantName: s.branding.displayName ?? s.name,
      supportContact: s.supportContact,
      privacyStatement: s.privacyStatement,
      branding: s.branding,
    };
  }

  async myDevices(actor: Actor): Promise<MyDevice[]> {
    const user = asUser(actor);
    const data = await this.tenants.data(user.tenantId);
    const email = await this.emailOf(data, user);
    if (!email) return [];
    const result: MyDevice[] = [];
    for (const id of await data.deviceReports.idsForUser(email)) {
      const device = await data.devices.get(id);
      if (!device) continue;
      const results = await data.complianceResults.listForDevice(id);
      const reasons = results.flatMap((r) => r.results.filter((s) => s.status === 'noncompliant').map((s) => s.reason));
      if (device.complianceState === 'unknown')
        reasons.push('This device has not reported its state yet; it will after its next check-in.');
      result.push({ device, canAccessCompanyResources: ACCESS_STATES.has(device.complianceState), reasons });
    }
    return result;
  }

  async sync(actor: Actor, deviceId: string): Promise<void> {
    const user = asUser(actor);
    await this.ownDevice(user, deviceId);
    await this.commands.enqueue(narrowed(user, 'devices.write'), user.tenantId, deviceId, 'sync');
  }

  async rename(actor: Actor, deviceId: string, deviceName: string): Promise<void> {
    const user = asUser(actor);
    await this.ownDevice(user, deviceId);
    await this.commands.enqueue(narrowed(user, 'devices.write'), user.tenantId, deviceId, 'rename', { deviceName });
  }

  /** Removes a personal device from management; its personal data is never touched. */
  async remove(actor: Actor, deviceId: string): Promise<void> {
    const user = asUser(actor);
    const device = await this.ownDevice(user, deviceId);
    if (device.ownership !== 'personal') {
      throw new DomainError('forbidden', 'Only personal devices can be removed here; ask IT to retire a company-owned device.');
    }
    await this.commands.enqueue(narrowed(user, 'devices.retire'), user.tenantId, deviceId, 'retire');
  }

  /** "What your organization can see" for one of the user's devices, from the catalog and its policies. */
  async visibility(actor: Actor, deviceId: string): Promise<CollectionStatement & { appPolicies: string[] }> {
    const user = asUser(actor);
    const device = await this.ownDevice(user, deviceId);
    const data = await this.tenants.data(user.tenantId);
    const results = await data.complianceResults.listForDevice(deviceId);
    const policies = await data.compliancePolicies.list();
    const appPolicies = policies
      .filter(
        (p) =>
          results.some((r) => r.policyId === p.id) &&
          ((p.settings.appAllowList?.length ?? 0) > 0 || (p.settings.appDenyList?.length ?? 0) > 0),
      )
      .map((p) => p.name);
    const statement = describeCollection(device.ownership, device.platform, device.appListPolicyApplies, this.enrollment.exportArchiveDays);
    if (device.appListPolicyApplies && device.ownership === 'personal' && appPolicies.length > 0) {
      statement.apps = `All installed apps, because ${appPolicies.length === 1 ? 'the policy' : 'the policies'} ${appPolicies.map((n) => `"${n}"`).join(', ')} ${appPolicies.length === 1 ? 'checks' : 'check'} for allowed or blocked apps.`;
    }
    return { ...statement, appPolicies };
  }

  /** A one-time, 24-hour enrollment code for a personal device of this user. */
  async enrollmentToken(actor: Actor): Promise<{ token: string; expiresAt: number }> {
    const user = asUser(actor);
    const data = await this.tenants.data(user.tenantId);
    const email = await this.emailOf(data, user);
    if (!email) throw new DomainError('conflict', 'Your account has no email address, which enrollment needs; ask IT to add one.');
    const { token, record } = await this.enrollment.createToken(narrowed(user, 'enrollment.write'), user.tenantId, {
      ownership: 'personal',
      maxUses: 1,
      expiresInHours: 24,
      userEmail: email,
      description: `Company Portal: ${user.name}`,
    });
    return { token, expiresAt: record.expiresAt };
  }

  private async emailOf(data: TenantData, user: UserActor): Promise<string | null> {
    const record = await data.users.get(user.id);
    return record?.email ?? (record && /@/.test(record.userName) ? record.userName : null);
  }

  /** The device, when it is an active device of this user; otherwise the same `not-found` as a missing one. */
  private async ownDevice(user: UserActor, deviceId: string): Promise<DeviceRecord> {
    const data = await this.tenants.data(user.tenantId);
    const email = await this.emailOf(data, user);
    const device = await data.devices.get(deviceId);
    if (!device || !email || device.userEmail?.toLowerCase() !== email.toLowerCase() || device.status !== 'active') {
      throw new DomainError('not-found', `You have no device with the id ${deviceId}.`);
    }
    return device;
  }
}
