/**
 * The one authorization decision (SPEC §1.3, §5): every admin service method asks `authorize` before
 * it touches data. An actor carries its tenant and its grants — each grant a permission set over a
 * scope (every object, or the objects carrying one of its scope tags); a resource names the tenant it
 * belongs to and, where it has them, its scope tags.
 */
import { BUILT_IN_ROLES, isBuiltInRole, type Permission } from '@custos/shared';
import { DomainError } from '../domain-error.js';

/** A role's permissions over a scope: `scopeTags: null` is every object of the tenant. */
export interface Grant {
  permissions: ReadonlySet<Permission>;
  scopeTags: readonly string[] | null;
}

/** Where a request came from, recorded with every audit event the request causes. */
export interface RequestContext {
  ip: string | null;
  correlationId: string | null;
}

interface TenantActorBase {
  id: string;
  name: string;
  tenantId: string;
  grants: readonly Grant[];
  context?: RequestContext;
}

export type Actor =
  | (TenantActorBase & { type: 'apiToken' })
  /** A tenant user signed in to a portal session (`sessionId`), or resolved from SSO/SCIM flows. */
  | (TenantActorBase & { type: 'user'; sessionId: string | null })
  /** An IdP provisioning over SCIM with the tenant's SCIM token. */
  | (TenantActorBase & { type: 'scim' })
  /** A deployment operator inside a tenant under an approved, unexpired lockbox request. */
  | (TenantActorBase & { type: 'operator'; lockboxRequestId: string })
  /** The command line on the server host (whoever can run it can already read the data files), or the scheduler. */
  | { type: 'system'; id: 'cli' | 'scheduler'; name: string; context?: RequestContext };

export type TenantActor = Exclude<Actor, { type: 'system' }>;

export interface Resource {
  tenantId: string;
  /**
   * The object's scope tags. Absent for a collection-level check (listing, creating): any grant with
   * the permission passes, and the list is then filtered with `scopeFilter`. An object with no tags
   * is reachable only through an all-scope grant.
   */
  scopeTags?: readonly string[];
}

export function permissionsOfRole(role: string): ReadonlySet<Permission> {
  return new Set(isBuiltInRole(role) ? BUILT_IN_ROLES[role] : []);
}

function grantCovers(grant: Grant, permission: Permission, scopeTags: readonly string[] | undefined): boolean {
  if (!grant.permissions.has(permission)) return false;
  if (grant.scopeTags === null || scopeTags === undefined) return true;
  return scopeTags.some((tag) => grant.scopeTags?.includes(tag));
}

export function isAllowed(actor: Actor, permission: Permission, resource: Resource): boolean {
  if (actor.type === 'system') return true;
  return actor.tenantId === resource.tenantId && actor.grants.some((g) => grantCovers(g, permission, resource.scopeTags));
}

/** Every permission the actor holds anywhere in `tenantId` (for `GET /me/permissions` and portals). */
export function permissionsOf(actor: Actor, tenantId: string): Set<Permission> {
  if (actor.type === 'system') return new Set(Object.values(BUILT_IN_ROLES).flat());
  if (actor.tenantId !== tenantId) return new Set();
  return new Set(actor.grants.flatMap((g) => [...g.permissions]));
}

/**
 * For list queries: `null` when the actor sees every object under `permission`, otherwise the scope
 * tags whose objects it may see (possibly none).
 */
export function scopeFilter(actor: Actor, permission: Permission): readonly string[] | null {
  if (actor.type === 'system') return null;
  const tags = new Set<string>();
  for (const grant of actor.grants) {
    if (!grant.permissions.has(permission)) continue;
    if (grant.scopeTags === null) return null;
    for (const tag of grant.scopeTags) tags.add(tag);
  }
  return [...tags];
}

function describe(actor: Actor): string {
  switch (actor.type) {
    case 'apiToken':
      return 'token';
    case 'user':
      return 'user';
    case 'operator':
      return 'operator';
    case 'scim':
      return 'SCIM client';
    case 'system':
      return 'caller';
  }
}

/** Throws `forbidden` unless `actor` may exercise `permission` on `resource`. */
export function authorize(actor: Actor, permission: Permission, resource: Resource): void {
  if (!isAllowed(actor, permission, resource)) {
    throw new DomainError('forbidden', `This ${describe(actor)} lacks the permission "${permission}" here.`, { permission });
  }
}

/** The tenant an actor works in; the system actor has none and must name one. */
export function tenantOf(actor: Actor): string | null {
  return actor.type === 'system' ? null : actor.tenantId;
}
