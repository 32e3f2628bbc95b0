/**
 * Assignments (SPEC §3, issue 4): who a compliance policy or a configuration profile applies to.
 * Targets are `allDevices`, `allUsers` (devices with a user) or a `group`, each `include` or
 * `exclude`; a policy or profile applies to a device that an include selects and no exclude does.
 * Compliance and profiles both decide with `assignmentsSelect`, so the two cannot drift.
 */
import type { AssignmentMode, AssignmentTarget, PolicyAssignment } from '@custos/shared';
import type { DeviceRecord } from '../devices/device-store.js';
import { DomainError } from '../domain-error.js';

export interface PolicyAssignmentRecord {
  target: AssignmentTarget;
  /** The group's id for `group` targets; null otherwise. */
  groupId: string | null;
  mode: AssignmentMode;
}

/**
 * True when `assignment` selects `device`. A group target selects a device whose user is a member:
 * `deviceGroups` holds those groups' ids (none are passed until devices are linked to users).
 */
function targets(assignment: PolicyAssignmentRecord, device: DeviceRecord, deviceGroups: ReadonlySet<string>): boolean {
  switch (assignment.target) {
    case 'allDevices':
      return true;
    case 'allUsers':
      return device.userEmail !== null;
    case 'group':
      return assignment.groupId !== null && deviceGroups.has(assignment.groupId);
  }
}

const NO_GROUPS: ReadonlySet<string> = new Set();

/** An include assignment selects the device and no exclude does. */
export function assignmentsSelect(
  assignments: readonly PolicyAssignmentRecord[],
  device: DeviceRecord,
  deviceGroups: ReadonlySet<string> = NO_GROUPS,
): boolean {
  const selected = assignments.filter((a) => targets(a, device, deviceGroups));
  return selected.some((a) => a.mode === 'include') && !selected.some((a) => a.mode === 'exclude');
}

/** Checks an assignment list's shape (a group names its id, nothing else does, each target once) and converts it. */
export function toAssignmentRecords(assignments: readonly PolicyAssignment[]): PolicyAssignmentRecord[] {
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
