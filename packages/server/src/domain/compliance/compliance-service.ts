/**
 * Compliance policies (SPEC §6): admins create, version, assign and delete them; every device gets
 * one result per applicable policy and setting, and an overall state where the most severe wins.
 * The evaluation itself is the pure `evaluateSettings` of @custos/shared; this service decides which
 * policies apply, stores the results and keeps the ownership rule's app scope (SPEC §4) in step.
 *
 * When it runs: inside the check-in transaction that stored new inventory (so a device's state never
 * reflects half an inventory), after every change of a policy or its assignments (inline, for the
 * devices the policy can apply to), and on demand for the whole tenant.
 */
import { randomUUID } from 'node:crypto';
import {
  compareVersions,
  evaluateSettings,
  mostSevere,
  needsFullAppInventory,
  stateOfResults,
  type AppInventoryScope,
  type ComplianceSettings,
  type ComplianceState,
  type CompliancePolicyInput,
  type CompliancePolicyUpdate,
  type PolicyAssignment,
  type ComplianceTenantSettings,
  type Platform,
} from '@custos/shared';
import { authorize, type Actor } from '../access/authorize.js';
import type { Clock } from '../clock.js';
import type { DeviceRecord } from '../devices/device-store.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantSettings } from '../tenants/tenant.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { CompliancePolicyRecord, DeviceComplianceResultRecord, PolicyAssignmentRecord } from './compliance-store.js';

/** `listIds` without a cap: re-evaluation covers every device (see `reevaluate`). */
const ALL = Number.MAX_SAFE_INTEGER;

/** True when `assignment` selects `device`. Group targets match nothing until groups exist. */
function targets(assignment: PolicyAssignmentRecord, device: DeviceRecord): boolean {
  switch (assignment.target) {
    case 'allDevices':
      return true;
    case 'allUsers':
      return device.userEmail !== null;
    case 'group':
      return false;
  }
}

/** A policy applies when its platform fits, an include assignment selects the device and no exclude does. */
export function policyApplies(policy: CompliancePolicyRecord, device: DeviceRecord): boolean {
  if (policy.deletedAt !== null || (policy.platform !== null && policy.platform !== device.platform)) return false;
  const selected = policy.assignments.filter((a) => targets(a, device));
  return selected.some((a) => a.mode === 'include') && !selected.some((a) => a.mode === 'exclude');
}

/** The checks JSON Schema cannot make: each version limit must be comparable, and min ≤ max. */
function validateSettings(settings: ComplianceSettings): void {
  for (const key of ['minimumOsVersion', 'maximumOsVersion'] as const) {
    const limit = settings[key];
    if (limit !== undefined && compareVersions(limit, '0') === undefined) {
      throw new DomainError('validation-failed', `"${key}" must start with a dotted version number such as "12.0"; "${limit}" does not.`);
    }
  }
  const { minimumOsVersion: min, maximumOsVersion: max } = settings;
  if (min !== undefined && max !== undefined && (compareVersions(min, max) ?? 0) > 0) {
    throw new DomainError('validation-failed', `"minimumOsVersion" ${min} is above "maximumOsVersion" ${max}; no device could comply.`);
  }
}

function toAssignmentRecords(assignments: readonly PolicyAssignment[]): PolicyAssignmentRecord[] {
  const seen = new Set<string>();
  return assignments.map((a, i) => {
    if (a.target === 'group' && a.groupId === undefined) {
      throw new DomainError('validation-failed', `assignments[${i}]: a "group" target needs "groupId".`);
    }
    if (a.target !== 'group' && a.groupId !== undefined) {
      throw new DomainError('validation-failed', `assignments[${i}]: "groupId" belongs to "group" targets only, not "${a.target}".`);
    }
    const key = `${a.target}/${a.groupId ?? ''}`;
    if (seen.has(key)) {
      throw new DomainError('validation-failed', `assignments[${i}]: ${key.replace(/\/$/, '')} is listed twice; name each target once.`);
    }
    seen.add(key);
    return { target: a.target, groupId: a.groupId ?? null, mode: a.mode };
  });
}

export interface DeviceCompliance {
  deviceId: string;
  complianceState: ComplianceState;
  policies: DeviceComplianceResultRecord[];
}

export class ComplianceService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  async list(actor: Actor, tenantId: string): Promise<CompliancePolicyRecord[]> {
    authorize(actor, 'policies.read', { tenantId });
    return (await this.tenants.data(tenantId)).compliancePolicies.list();
  }

  async get(actor: Actor, tenantId: string, id: string): Promise<CompliancePolicyRecord> {
    authorize(actor, 'policies.read', { tenantId });
    return this.existing(await this.tenants.data(tenantId), id);
  }

  /** A new policy, version 1, assigned to nobody: it changes no device until it is assigned. */
  async create(actor: Actor, tenantId: string, input: CompliancePolicyInput): Promise<CompliancePolicyRecord> {
    authorize(actor, 'policies.write', { tenantId });
    validateSettings(input.settings);
    const now = this.clock.now();
    const policy: CompliancePolicyRecord = {
      id: randomUUID(),
      name: input.name,
      description: input.description ?? null,
      platform: input.platform ?? null,
      settings: input.settings,
      version: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      assignments: [],
    };
    const data = await this.tenants.data(tenantId);
    await data.transaction((trx) => trx.compliancePolicies.insert(policy));
    return policy;
  }

  /** Replaces the policy's content; its version goes up by one and its devices are re-evaluated. */
  async update(actor: Actor, tenantId: string, id: string, input: CompliancePolicyUpdate): Promise<CompliancePolicyRecord> {
    authorize(actor, 'policies.write', { tenantId });
    validateSettings(input.settings);
    const data = await this.tenants.data(tenantId);
    const { before, after } = await data.transaction(async (trx) => {
      const current = await this.existing(trx, id);
      if (input.version !== undefined && input.version !== current.version) {
        throw new DomainError('conflict', `Policy ${id} is at version ${current.version}, not ${input.version}; read it again.`, {
          version: current.version,
        });
      }
      const next: CompliancePolicyRecord = {
        ...current,
        name: input.name,
        description: input.description ?? null,
        platform: input.platform ?? null,
        settings: input.settings,
        version: current.version + 1,
        updatedAt: this.clock.now(),
      };
      if (!(await trx.compliancePolicies.update(next))) {
        throw new DomainError('conflict', `Policy ${id} changed while it was being updated; read it again.`);
      }
      return { before: current, after: next };
    });
    await this.reevaluateFor(data, [before, after]);
    return after;
  }

  /** Soft delete: the policy stops applying at once; its devices are re-evaluated without it. */
  async delete(actor: Actor, tenantId: string, id: string): Promise<void> {
    authorize(actor, 'policies.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const policy = await this.existing(data, id);
    if (!(await data.transaction((trx) => trx.compliancePolicies.softDelete(id, this.clock.now())))) {
      throw new DomainError('not-found', `No compliance policy has the id ${id}.`);
    }
    await this.reevaluateFor(data, [policy]);
  }

  /** Replaces the whole assignment list of a policy and re-evaluates the devices it can apply to. */
  async setAssignments(
    actor: Actor,
    tenantId: string,
    id: string,
    assignments: readonly PolicyAssignment[],
  ): Promise<CompliancePolicyRecord> {
    authorize(actor, 'policies.write', { tenantId });
    const records = toAssignmentRecords(assignments);
    const data = await this.tenants.data(tenantId);
    const policy = await data.transaction(async (trx) => {
      const current = await this.existing(trx, id);
      await trx.compliancePolicies.replaceAssignments(id, records);
      return { ...current, assignments: records };
    });
    await this.reevaluateFor(data, [policy]);
    return policy;
  }

  async tenantSettings(actor: Actor, tenantId: string): Promise<ComplianceTenantSettings> {
    authorize(actor, 'policies.read', { tenantId });
    const settings = await (await this.tenants.data(tenantId)).settings.get();
    return { devicesWithoutPolicy: settings?.noPolicyComplianceState ?? 'compliant' };
  }

  /** Sets the state of devices no policy applies to, and re-evaluates every device. */
  async setTenantSettings(actor: Actor, tenantId: string, input: ComplianceTenantSettings): Promise<ComplianceTenantSettings> {
    authorize(actor, 'policies.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    await data.transaction((trx) => trx.settings.setNoPolicyComplianceState(input.devicesWithoutPolicy, this.clock.now()));
    this.tenants.forgetSettings(tenantId);
    await this.reevaluate(data, await data.devices.listIds({}, ALL));
    return input;
  }

  /** Re-evaluates every active device of the tenant; returns how many. */
  async evaluateAll(actor: Actor, tenantId: string): Promise<number> {
    authorize(actor, 'policies.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const ids = await data.devices.listIds({}, ALL);
    await this.reevaluate(data, ids);
    return ids.length;
  }

  /** The device's overall state and its result per applicable policy (needs `devices.read`). */
  async deviceCompliance(actor: Actor, tenantId: string, deviceId: string): Promise<DeviceCompliance> {
    authorize(actor, 'devices.read', { tenantId });
    const data = await this.tenants.data(tenantId);
    const device = await data.devices.get(deviceId);
    if (!device) throw new DomainError('not-found', `No device has the id ${deviceId}.`);
    return { deviceId, complianceState: device.complianceState, policies: await data.complianceResults.listForDevice(deviceId) };
  }

  /**
   * Evaluates one device against the policies that apply to it, in one transaction (the caller's,
   * when it holds one): a result row per policy (rows of policies that no longer apply go), the
   * overall state (most severe; the tenant's no-policy state when none applies) and the app scope
   * of the ownership rule. Returns the device's app scope, or undefined for a device that is not
   * active (a retired device keeps its last state).
   */
  evaluateDevice(data: TenantData, deviceId: string, checkIn?: { platform: Platform }): Promise<AppInventoryScope | undefined> {
    return data.transaction(async (trx) => {
      // A check-in already holds the device's check-in row (its UPDATE took the lock).
      if (!checkIn) await trx.devices.lockCheckInState(deviceId);
      else if ((await trx.compliancePolicies.listForPlatform(checkIn.platform)).length === 0) {
        // The common case on the inventory path: no policy exists for this platform. Two reads
        // instead of a whole evaluation, and no write when the device already has the no-policy
        // state (it then keeps its app scope too).
        const snapshot = await trx.devices.complianceSnapshot(deviceId);
        if (!snapshot?.active) return undefined;
        if (snapshot.complianceState === snapshot.noPolicyState && !snapshot.appListPolicyApplies) return undefined;
        await trx.complianceResults.replaceForDevice(deviceId, []);
        return trx.devices.updateCompliance(deviceId, snapshot.noPolicyState, false);
      }
      const device = await trx.devices.get(deviceId);
      if (!device || device.status !== 'active') return undefined;
      const settings = await trx.settings.get();
      const policies = (await trx.compliancePolicies.listForPlatform(device.platform)).filter((p) => policyApplies(p, device));
      const apps = policies.length > 0 ? await trx.devices.listApps(deviceId) : [];
      const now = this.clock.now();
      const results = policies.map((p) => {
        const settingResults = evaluateSettings(p.settings, { hardware: device.hardware, apps, lastCheckInAt: device.lastCheckInAt, now });
        return {
          policyId: p.id,
          policyVersion: p.version,
          state: stateOfResults(settingResults),
          results: settingResults,
          evaluatedAt: now,
        };
      });
      await trx.complianceResults.replaceForDevice(deviceId, results);
      const state = mostSevere(
        results.map((r) => r.state),
        noPolicyState(settings),
      );
      return trx.devices.updateCompliance(
        deviceId,
        state,
        policies.some((p) => needsFullAppInventory(p.settings)),
      );
    });
  }

  private async existing(data: TenantData, id: string): Promise<CompliancePolicyRecord> {
    const policy = await data.compliancePolicies.get(id);
    if (!policy) throw new DomainError('not-found', `No compliance policy has the id ${id}.`);
    return policy;
  }

  /** Re-evaluates the devices any of these versions of a policy could apply to (their platforms). */
  private async reevaluateFor(data: TenantData, versions: readonly CompliancePolicyRecord[]): Promise<void> {
    const platforms = versions.map((v) => v.platform);
    if (platforms.includes(null)) return this.reevaluate(data, await data.devices.listIds({}, ALL));
    const ids: string[] = [];
    for (const platform of new Set(platforms)) if (platform !== null) ids.push(...(await data.devices.listIds({ platform }, ALL)));
    await this.reevaluate(data, ids);
  }

  /**
   * Inline, one short transaction per device, so no long transaction holds a tenant's devices (a
   * device checking in meanwhile waits for one device's evaluation at most). Fine for a few thousand
   * devices per change; far above that the admin request grows long, and this belongs in a
   * background job (the scheduler arrives with the actions-for-non-compliance part of issue 4).
   */
  private async reevaluate(data: TenantData, deviceIds: readonly string[]): Promise<void> {
    for (const id of deviceIds) await this.evaluateDevice(data, id);
  }
}

function noPolicyState(settings: TenantSettings | undefined): ComplianceState {
  return settings?.noPolicyComplianceState ?? 'compliant';
}
