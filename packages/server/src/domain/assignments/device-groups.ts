/**
 * The groups a device belongs to for assignments: the groups of its user. A device names its user by
 * email (`devices.user_email`, from enrollment); the user is the tenant user whose user name is that
 * address (user names are email addresses for cloud, federated and SCIM users alike).
 */
import type { DeviceRecord } from '../devices/device-store.js';
import { DomainError } from '../domain-error.js';
import type { PolicyAssignmentRecord } from './assignment-targets.js';
import type { TenantData } from '../tenant-data.js';

const NONE: ReadonlySet<string> = new Set();

export async function groupsOfDevice(data: TenantData, device: Pick<DeviceRecord, 'userEmail'>): Promise<ReadonlySet<string>> {
  if (device.userEmail === null) return NONE;
  const user = await data.users.findByUserName(device.userEmail);
  if (!user || !user.active) return NONE;
  return new Set(await data.groups.groupsOfUser(user.id));
}

/**
 * Refuses an assignment list naming a group that is not a group of this tenant (another tenant's
 * included): `validation-failed`, with the ids, before anything is stored.
 */
export async function requireKnownGroups(data: TenantData, assignments: readonly PolicyAssignmentRecord[]): Promise<void> {
  const groupIds = [...new Set(assignments.flatMap((a) => (a.groupId === null ? [] : [a.groupId])))];
  if (groupIds.length === 0) return;
  const known = new Set(await data.groups.existing(groupIds));
  const unknown = groupIds.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new DomainError('validation-failed', `No group of this tenant has the id ${unknown.join(', ')}.`, { groupIds: unknown });
  }
}
