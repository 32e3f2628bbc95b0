/** Compliance records → API shapes (ISO timestamps; a group target carries its `groupId`). */
import type { CompliancePolicy, DeviceCompliance as DeviceComplianceDto } from '@custos/shared';
import type { DeviceCompliance } from '../../domain/compliance/compliance-service.js';
import type { CompliancePolicyRecord } from '../../domain/compliance/compliance-store.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function toCompliancePolicyDto(p: CompliancePolicyRecord): CompliancePolicy {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    platform: p.platform,
    settings: p.settings,
    actions: p.actions,
    version: p.version,
    scopeTags: p.scopeTags,
    assignments: p.assignments.map((a) => ({ target: a.target, ...(a.groupId === null ? {} : { groupId: a.groupId }), mode: a.mode })),
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

export function toDeviceComplianceDto(c: DeviceCompliance): DeviceComplianceDto {
  return {
    deviceId: c.deviceId,
    complianceState: c.complianceState,
    policies: c.policies.map((r) => ({
      policyId: r.policyId,
      name: r.policyName,
      version: r.policyVersion,
      state: r.state,
      settings: r.results.map((s) => ({ setting: s.setting, status: s.status, reason: s.reason })),
      evaluatedAt: iso(r.evaluatedAt),
      noncompliantSince: r.noncompliantSince === null ? null : iso(r.noncompliantSince),
      actions: r.actions.map((a) => ({
        type: a.type,
        afterDays: a.afterDays,
        dueAt: iso(a.dueAt),
        status: a.status,
        ranAt: a.ranAt === null ? null : iso(a.ranAt),
        detail: a.detail,
      })),
    })),
  };
}
