/**
 * Roles and role assignments (SPEC §3): the built-in roles of shared/roles.ts, custom roles built
 * from the same permissions, and assignments of either to a user or a group of the tenant over a
 * scope (every object, or the objects carrying one of a list of scope tags).
 *
 * Privilege escalation guard: a caller may create, change, assign or remove a role only when it
 * holds every permission of that role itself, over at least the scope it grants. Without it a Role
 * Administrator could hand itself (or a token) Tenant Administrator.
 */
import { randomUUID } from 'node:crypto';
import {
  BUILT_IN_ROLE_DESCRIPTIONS,
  BUILT_IN_ROLES,
  PERMISSION_DESCRIPTIONS,
  PERMISSIONS,
  isBuiltInRole,
  type Permission,
} from '@custos/shared';
import { authorize, isAllowed, scopeFilter, type Actor, type Grant } from '../access/authorize.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { checkScopeTags } from '../devices/device-scope.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { RoleAssignmentRecord, RoleRecord } from './identity-stores.js';
import { permissionsOfRoleRef } from './principals.js';

/** A built-in or custom role as the API shows it; a built-in role's id is its name. */
export interface RoleView {
  id: string;
  name: string;
  description: string | null;
  builtIn: boolean;
  permissions: Permission[];
}

export interface AssignmentView extends RoleAssignmentRecord {
  /** The role's name (null when a custom role was deleted meanwhile). */
  roleName: string | null;
}

export interface MyPermissions {
  actor: { type: string; id: string; name: string };
  tenantId: string;
  permissions: Permission[];
  grants: { permissions: Permission[]; scopeTags: string[] | null }[];
}

const PERMISSION_SET: ReadonlySet<string> = new Set(PERMISSIONS);

function sortedPermissions(permissions: Iterable<Permission>): Permission[] {
  const set = new Set(permissions);
  return PERMISSIONS.filter((p) => set.has(p));
}

/** Refuses names that are not permissions (400) and returns the list in catalogue order. */
export function checkPermissions(names: readonly string[]): Permission[] {
  const unknown = names.filter((n) => !PERMISSION_SET.has(n));
  if (unknown.length > 0) {
    throw new DomainError('validation-failed', `Unknown permission${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}.`, {
      unknownPermissions: unknown,
      permissions: [...PERMISSIONS],
    });
  }
  if (names.length === 0) throw new DomainError('validation-failed', 'A role needs at least one permission.');
  return sortedPermissions(names as Permission[]);
}

/**
 * Throws `forbidden` unless `actor` holds each of `permissions` over every object `scopeTags`
 * reaches (null: every object of the tenant). The system actor (the server's command line) may.
 */
export function assertCanDelegate(
  actor: Actor,
  tenantId: string,
  permissions: Iterable<Permission>,
  scopeTags: readonly string[] | null,
): void {
  const missing: Permission[] = [];
  for (const permission of permissions) {
    if (!isAllowed(actor, permission, { tenantId })) {
      missing.push(permission);
      continue;
    }
    const own = scopeFilter(actor, permission);
    if (own === null) continue;
    if (scopeTags === null || scopeTags.some((t) => !own.includes(t))) missing.push(permission);
  }
  if (missing.length > 0) {
    throw new DomainError(
      'forbidden',
      `A caller can only grant permissions it holds itself over the same scope; missing: ${missing.join(', ')}.`,
      { missingPermissions: missing },
    );
  }
}

export function builtInRoleViews(): RoleView[] {
  return Object.entries(BUILT_IN_ROLES).map(([name, permissions]) => ({
    id: name,
    name,
    description: BUILT_IN_ROLE_DESCRIPTIONS[name as keyof typeof BUILT_IN_ROLES],
    builtIn: true,
    permissions: sortedPermissions(permissions),
  }));
}

function customRoleView(role: RoleRecord): RoleView {
  return { id: role.id, name: role.name, description: role.description, builtIn: false, permissions: sortedPermissions(role.permissions) };
}

function grantView(grant: Grant): { permissions: Permission[]; scopeTags: string[] | null } {
  return { permissions: sortedPermissions(grant.permissions), scopeTags: grant.scopeTags === null ? null : [...grant.scopeTags] };
}

/** The name a role reference shows as: a built-in name, a custom role's name, or null when gone. */
export async function roleNameOf(data: TenantData, role: string): Promise<string | null> {
  if (isBuiltInRole(role)) return role;
  return (await data.roles.get(role))?.name ?? null;
}

export class RoleService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  /** The permission catalogue a custom role is built from. */
  listPermissions(actor: Actor, tenantId: string): { name: Permission; description: string }[] {
    authorize(actor, 'roles.read', { tenantId });
    return PERMISSIONS.map((name) => ({ name, description: PERMISSION_DESCRIPTIONS[name] }));
  }

  /** Built-in roles first (in SPEC order), then the tenant's custom roles by name. */
  async listRoles(actor: Actor, tenantId: string): Promise<RoleView[]> {
    authorize(actor, 'roles.read', { tenantId });
    const custom = await (await this.tenants.data(tenantId)).roles.list();
    return [...builtInRoleViews(), ...custom.map(customRoleView)];
  }

  async getRole(actor: Actor, tenantId: string, id: string): Promise<RoleView> {
    authorize(actor, 'roles.read', { tenantId });
    const role = await (await this.tenants.data(tenantId)).roles.get(id);
    if (!role) throw new DomainError('not-found', `No custom role has the id ${id}.`);
    return customRoleView(role);
  }

  async createRole(
    actor: Actor,
    tenantId: string,
    input: { name: string; description?: string | null; permissions: readonly string[] },
  ): Promise<RoleView> {
    authorize(actor, 'roles.write', { tenantId });
    const name = checkRoleName(input.name);
    const permissions = checkPermissions(input.permissions);
    assertCanDelegate(actor, tenantId, permissions, null);
    const now = this.clock.now();
    const role: RoleRecord = {
      id: randomUUID(),
      name,
      description: input.description ?? null,
      permissions,
      createdAt: now,
      updatedAt: now,
    };
    const data = await this.tenants.data(tenantId);
    return data.transaction(async (trx) => {
      await this.checkNameFree(trx, name);
      await trx.roles.insert(role);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Create role',
        category: 'RoleManagement',
        operation: 'create',
        targets: [{ type: 'role', id: role.id, name, modifiedProperties: changedProperties(undefined, roleAuditView(role)) }],
      });
      return customRoleView(role);
    });
  }

  async updateRole(
    actor: Actor,
    tenantId: string,
    id: string,
    input: { name?: string; description?: string | null; permissions?: readonly string[] },
  ): Promise<RoleView> {
    authorize(actor, 'roles.write', { tenantId });
    const name = input.name === undefined ? undefined : checkRoleName(input.name);
    const permissions = input.permissions === undefined ? undefined : checkPermissions(input.permissions);
    const data = await this.tenants.data(tenantId);
    return data.transaction(async (trx) => {
      const before = await trx.roles.get(id);
      if (!before) throw new DomainError('not-found', `No custom role has the id ${id}.`);
      // Both the old and the new permission set: changing a role changes what its holders can do.
      assertCanDelegate(actor, tenantId, new Set([...before.permissions, ...(permissions ?? [])]), null);
      if (name !== undefined && name !== before.name) await this.checkNameFree(trx, name);
      const after: RoleRecord = {
        ...before,
        name: name ?? before.name,
        description: input.description === undefined ? before.description : input.description,
        permissions: permissions ?? before.permissions,
        updatedAt: this.clock.now(),
      };
      await trx.roles.update(after);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Update role',
        category: 'RoleManagement',
        operation: 'update',
        targets: [
          { type: 'role', id, name: after.name, modifiedProperties: changedProperties(roleAuditView(before), roleAuditView(after)) },
        ],
      });
      return customRoleView(after);
    });
  }

  /** Deletes a custom role and every assignment of it; tokens holding it grant nothing from then on. */
  async deleteRole(actor: Actor, tenantId: string, id: string): Promise<void> {
    authorize(actor, 'roles.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      const role = await trx.roles.get(id);
      if (!role) throw new DomainError('not-found', `No custom role has the id ${id}.`);
      assertCanDelegate(actor, tenantId, role.permissions, null);
      const removed = await trx.roleAssignments.deleteForRole(id);
      await trx.roles.delete(id);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Delete role',
        category: 'RoleManagement',
        operation: 'delete',
        targets: [
          {
            type: 'role',
            id,
            name: role.name,
            modifiedProperties: [
              ...changedProperties(roleAuditView(role), undefined),
              { name: 'removedAssignments', oldValue: null, newValue: removed },
            ],
          },
        ],
      });
    });
  }

  async listAssignments(actor: Actor, tenantId: string): Promise<AssignmentView[]> {
    authorize(actor, 'roles.read', { tenantId });
    const data = await this.tenants.data(tenantId);
    const assignments = await data.roleAssignments.list();
    const names = new Map<string, string | null>();
    const views: AssignmentView[] = [];
    for (const a of assignments) {
      if (!names.has(a.role)) names.set(a.role, await roleNameOf(data, a.role));
      views.push({ ...a, roleName: names.get(a.role) ?? null });
    }
    return views;
  }

  async createAssignment(
    actor: Actor,
    tenantId: string,
    input: { role: string; principalKind: 'user' | 'group'; principalId: string; scopeTags?: readonly string[] | null },
  ): Promise<AssignmentView> {
    authorize(actor, 'roles.write', { tenantId });
    const scopeTags = input.scopeTags === undefined || input.scopeTags === null ? null : checkScopeTags(input.scopeTags);
    if (scopeTags !== null && scopeTags.length === 0)
      throw new DomainError('validation-failed', 'scopeTags is null (every object) or names at least one tag.');
    const data = await this.tenants.data(tenantId);
    return data.transaction(async (trx) => {
      const permissions = await permissionsOfRoleRef(trx, input.role);
      if (!permissions)
        throw new DomainError('validation-failed', `"${input.role}" is neither a built-in role nor a custom role of this tenant.`);
      const principal =
        input.principalKind === 'user'
          ? ((await trx.users.get(input.principalId))?.userName ?? undefined)
          : ((await trx.groups.get(input.principalId))?.displayName ?? undefined);
      if (principal === undefined) {
        throw new DomainError('validation-failed', `No ${input.principalKind} of this tenant has the id ${input.principalId}.`);
      }
      assertCanDelegate(actor, tenantId, permissions, scopeTags);
      const assignment: RoleAssignmentRecord = {
        id: randomUUID(),
        role: input.role,
        principalKind: input.principalKind,
        principalId: input.principalId,
        scopeTags,
        createdAt: this.clock.now(),
      };
      await trx.roleAssignments.insert(assignment);
      const roleName = await roleNameOf(trx, input.role);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Assign role',
        category: 'RoleManagement',
        operation: 'create',
        targets: [
          {
            type: 'roleAssignment',
            id: assignment.id,
            ...(roleName ? { name: roleName } : {}),
            modifiedProperties: changedProperties(undefined, assignmentAuditView(assignment)),
          },
          { type: input.principalKind, id: input.principalId, name: principal },
        ],
      });
      return { ...assignment, roleName };
    });
  }

  async deleteAssignment(actor: Actor, tenantId: string, id: string): Promise<void> {
    authorize(actor, 'roles.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      const assignment = await trx.roleAssignments.get(id);
      if (!assignment) throw new DomainError('not-found', `No role assignment has the id ${id}.`);
      const permissions = await permissionsOfRoleRef(trx, assignment.role);
      // Removing a role is as sensitive as granting it: the same guard applies.
      assertCanDelegate(actor, tenantId, permissions ?? [], assignment.scopeTags);
      await trx.roleAssignments.delete(id);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Remove role assignment',
        category: 'RoleManagement',
        operation: 'delete',
        targets: [
          { type: 'roleAssignment', id, modifiedProperties: changedProperties(assignmentAuditView(assignment), undefined) },
          { type: assignment.principalKind, id: assignment.principalId },
        ],
      });
    });
  }

  /** What the caller may do in its tenant: every permission, and each grant with its scope. */
  myPermissions(actor: Actor, tenantId: string): MyPermissions {
    if (actor.type === 'system') throw new DomainError('forbidden', 'This endpoint needs a tenant-bound credential.');
    return {
      actor: { type: actor.type, id: actor.id, name: actor.name },
      tenantId,
      permissions: sortedPermissions(actor.tenantId === tenantId ? actor.grants.flatMap((g) => [...g.permissions]) : []),
      grants: actor.tenantId === tenantId ? actor.grants.map(grantView) : [],
    };
  }

  private async checkNameFree(trx: TenantData, name: string): Promise<void> {
    if (isBuiltInRole(name) || Object.keys(BUILT_IN_ROLES).some((b) => b.toLowerCase() === name.toLowerCase())) {
      throw new DomainError('conflict', `"${name}" is a built-in role; choose another name.`);
    }
    if ((await trx.roles.list()).some((r) => r.name.toLowerCase() === name.toLowerCase())) {
      throw new DomainError('conflict', `A custom role named "${name}" already exists.`);
    }
  }
}

function checkRoleName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100) throw new DomainError('validation-failed', 'A role name is 1 to 100 characters.');
  return trimmed;
}

function roleAuditView(role: RoleRecord): Record<string, unknown> {
  return { name: role.name, description: role.description, permissions: role.permissions };
}

function assignmentAuditView(a: RoleAssignmentRecord): Record<string, unknown> {
  return { role: a.role, principalKind: a.principalKind, principalId: a.principalId, scopeTags: a.scopeTags };
}
