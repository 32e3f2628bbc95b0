/**
 * What a user may do: the role assignments made to the user and to the user's groups, each turned
 * into a grant (the role's permissions over the assignment's scope). Built-in roles come from
 * shared/roles.ts; custom roles from the tenant's role store. An assignment naming a role that no
 * longer exists grants nothing.
 */
import { BUILT_IN_ROLES, isBuiltInRole, type Permission } from '@custos/shared';
import type { Grant } from '../access/authorize.js';
import type { TenantData } from '../tenant-data.js';

/** The permissions of a built-in role name or a custom role id; undefined when it names neither. */
export async function permissionsOfRoleRef(data: TenantData, role: string): Promise<ReadonlySet<Permission> | undefined> {
  if (isBuiltInRole(role)) return new Set(BUILT_IN_ROLES[role]);
  const custom = await data.roles.get(role);
  return custom && new Set(custom.permissions);
}

export async function grantsOfUser(data: TenantData, userId: string): Promise<Grant[]> {
  const groups = await data.groups.groupsOfUser(userId);
  const assignments = await data.roleAssignments.forPrincipals(userId, groups);
  const grants: Grant[] = [];
  for (const assignment of assignments) {
    const permissions = await permissionsOfRoleRef(data, assignment.role);
    if (permissions && permissions.size > 0) grants.push({ permissions, scopeTags: assignment.scopeTags });
  }
  return grants;
}

/**
 * An admin is anyone holding a permission beyond what every end user has (their own devices in the
 * Company Portal need none): MFA is required for them when the tenant says so (SPEC §5).
 */
export function isAdmin(grants: readonly Grant[]): boolean {
  return grants.some((g) => g.permissions.size > 0);
}
