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
  type Permission,
  type Platform,
} from '@custos/shared';
import { authorize, type Actor } from '../access/authorize.js';
import { assignmentsSelect, toAssignmentRecords } from '../assignments/assignment-targets.js';
import type { Clock } from '../clock.js';
import type { DeviceRecord } from '../devices/device-store.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantSettings } from '../tenants/tenant.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { groupsOfDevice, requireKnownGroups } from '../assignments/device-groups.js';
import { checkScopeTags, requireInScope, requireTagsInScope, visibleTo } from '../access/scope-tags.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import { episodeSchedules, trackEpisodes, validateActions, type EpisodeSchedule } from './noncompliance-episodes.js';
import type { CompliancePolicyRecord, DeviceComplianceResultRecord } from './compliance-store.js';

const AUDIT_CATEGORY = 'Compliance';

/** A policy as the audit log shows it. */
function auditView(p: CompliancePolicyRecord): Record<string, unknown> {
  return {
    name: p.name,
    description: p.description,
    platform: p.platform,
    settings: p.settings,
    actions: p.actions,
    scopeTags: p.scopeTags,
    version: p.version,
  };
}

/** `listIds` without a cap: re-evaluation covers every device (see `reevaluate`). */
const ALL = Number.MAX_SAFE_INTEGER;

/** A policy applies when its platform fits, an include assignment selects the device and no exclude does. */
export function policyApplies(policy: CompliancePolicyRecord, device: DeviceRecord, deviceGroups?: ReadonlySet<string>): boolean {
  if (policy.deletedAt !== null || (policy.platform !== null && policy.platform !== device.platform)) return false;
  return assignmentsSelect(policy.assignments, device, deviceGroups);
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

export interface DeviceCompliance {
  deviceId: string;
  complianceState: ComplianceState;
  /** Each applicable policy's result, with the schedule of its actions for non-compliance. */
  policies: (DeviceComplianceResultRecord & EpisodeSchedule)[];
}

export class ComplianceService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  async list(actor: Actor, tenantId: string): Promise<CompliancePolicyRecord[]> {
    authorize(actor, 'policies.read', { tenantId });
    return visibleTo(actor, 'policies.read', await (await this.tenants.data(tenantId)).compliancePolicies.list());
  }

  async get(actor: Actor, tenantId: string, id: string): Promise<CompliancePolicyRecord> {
    authorize(actor, 'policies.read', { tenantId });
    return this.existing(await this.tenants.data(tenantId), id, actor, 'policies.read');
  }

  /** A new policy, version 1, assigned to nobody: it changes no device until it is assigned. */
  async create(actor: Actor, tenantId: string, input: CompliancePolicyInput): Promise<CompliancePolicyRecord> {
    authorize(actor, 'policies.write', { tenantId });
    validateSettings(input.settings);
    const actions = validateActions(input.actions);
    const scopeTags = checkScopeTags(input.scopeTags ?? []);
    requireTagsInScope(actor, 'policies.write', tenantId, scopeTags);
    const now = this.clock.now();
    const policy: CompliancePolicyRecord = {
      scopeTags,
      id: randomUUID(),
      name: input.name,
      description: input.description ?? null,
      platform: input.platform ?? null,
      settings: input.settings,
      actions,
      version: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      assignments: [],
    };
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      await trx.compliancePolicies.insert(policy);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Create compliance policy',
        category: AUDIT_CATEGORY,
        operation: 'create',
        targets: [
          {
            type: 'compliancePolicy',
            id: policy.id,
            name: policy.name,
            modifiedProperties: changedProperties(undefined, auditView(policy)),
          },
        ],
      });
    });
    return policy;
  }

  /** Replaces the policy's content; its version goes up by one and its devices are re-evaluated. */
  async update(actor: Actor, tenantId: string, id: string, input: CompliancePolicyUpdate): Promise<CompliancePolicyRecord> {
    authorize(actor, 'policies.write', { tenantId });
    validateSettings(input.settings);
    const actions = validateActions(input.actions);
    const data = await this.tenants.data(tenantId);
    const { before, after } = await data.transaction(async (trx) => {
      const current = await this.existing(trx, id, actor, 'policies.write');
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
        actions,
        scopeTags: this.retag(actor, tenantId, current.scopeTags, input.scopeTags),
        version: current.version + 1,
        updatedAt: this.clock.now(),
      };
      if (!(await trx.compliancePolicies.update(next))) {
        throw new DomainError('conflict', `Policy ${id} changed while it was being updated; read it again.`);
      }
      await recordAudit(trx, actor, this.clock, {
        activity: 'Update compliance policy',
        category: AUDIT_CATEGORY,
        operation: 'update',
        targets: [
          { type: 'compliancePolicy', id, name: next.name, modifiedProperties: changedProperties(auditView(current), auditView(next)) },
        ],
      });
      return { before: current, after: next };
    });
    await this.reevaluateFor(data, [before, after]);
    return after;
  }

  /** Soft delete: the policy stops applying at once; its devices are re-evaluated without it. */
  async delete(actor: Actor, tenantId: string, id: string): Promise<void> {
    authorize(actor, 'policies.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const policy = await this.existing(data, id, actor, 'policies.write');
    await data.transaction(async (trx) => {
      if (!(await trx.compliancePolicies.softDelete(id, this.clock.now()))) {
        throw new DomainError('not-found', `No compliance policy has the id ${id}.`);
      }
      await recordAudit(trx, actor, this.clock, {
        activity: 'Delete compliance policy',
        category: AUDIT_CATEGORY,
        operation: 'delete',
        targets: [{ type: 'compliancePolicy', id, name: policy.name }],
      });
    });
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
      const current = await this.existing(trx, id, actor, 'policies.write');
      await requireKnownGroups(trx, records);
      await trx.compliancePolicies.replaceAssignments(id, records);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Assign compliance policy',
        category: AUDIT_CATEGORY,
        operation: 'update',
        targets: [
          {
            type: 'compliancePolicy',
            id,
            name: current.name,
            modifiedProperties: changedProperties({ assignments: current.assignments }, { assignments: records }),
          },
        ],
      });
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
    const before = await this.tenantSettings(actor, tenantId);
    await data.transaction(async (trx) => {
      await trx.settings.setNoPolicyComplianceState(input.devicesWithoutPolicy, this.clock.now());
      await recordAudit(trx, actor, this.clock, {
        activity: 'Update compliance settings',
        category: AUDIT_CATEGORY,
        operation: 'update',
        targets: [{ type: 'tenant', id: tenantId, modifiedProperties: changedProperties({ ...before }, { ...input }) }],
      });
    });
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
    await recordAudit(data, actor, this.clock, {
      activity: 'Re-evaluate compliance',
      category: AUDIT_CATEGORY,
      operation: 'action',
      targets: [{ type: 'tenant', id: tenantId, modifiedProperties: [{ name: 'evaluatedDevices', oldValue: null, newValue: ids.length }] }],
    });
    return ids.length;
  }

  /** The device's overall state and its result per applicable policy (needs `devices.read`). */
  async deviceCompliance(actor: Actor, tenantId: string, deviceId: string): Promise<DeviceCompliance> {
    authorize(actor, 'devices.read', { tenantId });
    const data = await this.tenants.data(tenantId);
    const device = await data.devices.get(deviceId);
    if (!device) throw new DomainError('not-found', `No device has the id ${deviceId}.`);
    const results = await data.complianceResults.listForDevice(deviceId);
    const schedules = await episodeSchedules(data, deviceId, await data.compliancePolicies.list(), this.clock.now());
    const none: EpisodeSchedule = { noncompliantSince: null, actions: [] };
    return {
      deviceId,
      complianceState: device.complianceState,
      policies: results.map((r) => ({ ...r, ...(schedules.get(r.policyId) ?? none) })),
    };
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
        await trackEpisodes(trx, deviceId, [], this.clock.now());
        return trx.devices.updateCompliance(deviceId, snapshot.noPolicyState, false);
      }
      const device = await trx.devices.get(deviceId);
      if (!device || device.status !== 'active') return undefined;
      const settings = await trx.settings.get();
      const candidates = await trx.compliancePolicies.listForPlatform(device.platform);
      // Group targets select the device through its user's groups (looked up only when one is named).
      const groups = candidates.some((p) => p.assignments.some((a) => a.target === 'group'))
        ? await groupsOfDevice(trx, device)
        : undefined;
      const policies = candidates.filter((p) => policyApplies(p, device, groups));
      const apps = policies.length > 0 ? await trx.devices.listApps(deviceId) : [];
      const now = this.clock.now();
      const evaluated = policies.map((p) => {
        const settingResults = evaluateSettings(p.settings, { hardware: device.hardware, apps, lastCheckInAt: device.lastCheckInAt, now });
        return { policy: p, state: stateOfResults(settingResults), results: settingResults };
      });
      // A failing policy is `inGracePeriod` until its markNoncompliant action is due (its episode says when).
      const states = await trackEpisodes(trx, deviceId, evaluated, now);
      const results = evaluated.map((e, i) => ({
        policyId: e.policy.id,
        policyVersion: e.policy.version,
        state: states[i] ?? e.state,
        results: e.results,
        evaluatedAt: now,
      }));
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

  /** The tags after an update: unchanged when absent; new tags must lie in the actor's scope. */
  private retag(actor: Actor, tenantId: string, current: string[], requested: readonly string[] | undefined): string[] {
    if (requested === undefined) return current;
    const tags = checkScopeTags(requested);
    requireTagsInScope(actor, 'policies.write', tenantId, tags);
    return tags;
  }

  /** The live compliance policy, when the actor holds `permission` over its scope; otherwise not found, as for a missing one. */
  private async existing(data: TenantData, id: string, actor: Actor, permission: Permission): Promise<CompliancePolicyRecord> {
    const policy = await data.compliancePolicies.get(id);
    if (!policy) throw new DomainError('not-found', `No compliance policy has the id ${id}.`);
    requireInScope(actor, permission, data.tenantId, policy, 'compliance policy');
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

  /** Re-evaluates these devices now (after a change outside compliance, e.g. a group membership). */
  reevaluateDevices(data: TenantData, deviceIds: readonly string[]): Promise<void> {
    return this.reevaluate(data, deviceIds);
  }
}

function noPolicyState(settings: TenantSettings | undefined): ComplianceState {
  return settings?.noPolicyComplianceState ?? 'compliant';
}
