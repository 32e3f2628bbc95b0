/**
 * The one authorization decision (SPEC §1.3): every admin route asks `authorize` before it touches
 * data. Actors carry their tenant and their permissions; a resource names the tenant it belongs to
 * (and, with the identity issue, its scope tags).
 */
import { BUILT_IN_ROLES, isBuiltInRole, type Permission } from '@custos/shared';
import { DomainError } from '../domain-error.js';

export type Actor =
  | { type: 'apiToken'; id: string; name: string; tenantId: string; role: string; permissions: ReadonlySet<Permission> }
  /** The command line on the server host: whoever can run it can already read the data files. */
  | { type: 'system'; id: 'cli'; name: string };

export interface Resource {
  tenantId: string;
  scopeTags?: readonly string[];
}

export function permissionsOfRole(role: string): ReadonlySet<Permission> {
  return new Set(isBuiltInRole(role) ? BUILT_IN_ROLES[role] : []);
}

export function isAllowed(actor: Actor, permission: Permission, resource: Resource): boolean {
  switch (actor.type) {
    case 'system':
      return true;
    case 'apiToken':
      return actor.tenantId === resource.tenantId && actor.permissions.has(permission);
  }
}

/** Throws `forbidden` unless `actor` may exercise `permission` on `resource`. */
export function authorize(actor: Actor, permission: Permission, resource: Resource): void {
  if (!isAllowed(actor, permission, resource)) {
    throw new DomainError('forbidden', `This ${actor.type === 'apiToken' ? 'token' : 'caller'} lacks the permission "${permission}".`, {
      permission,
    });
  }
}
