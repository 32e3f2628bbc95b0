/**
 * Scope tags (SPEC §3): an admin whose role is assigned over tags sees and changes only the objects
 * (devices, compliance policies, configuration profiles) carrying one of them. An object outside the
 * caller's scope is answered as not found, exactly like one that does not exist, so the scope does
 * not leak which objects exist; an untagged object is reachable only through an all-scope role.
 */
import type { Permission } from '@custos/shared';
import { DomainError } from '../domain-error.js';
import { isAllowed, scopeFilter, type Actor } from './authorize.js';

export const SCOPE_TAG = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MAX_SCOPE_TAGS = 50;

/** Validates and normalizes a list of scope tags (lower case, unique, sorted). */
export function checkScopeTags(tags: readonly string[]): string[] {
  const normalized = [...new Set(tags.map((t) => t.trim().toLowerCase()))].sort();
  if (normalized.length > MAX_SCOPE_TAGS) throw new DomainError('validation-failed', `At most ${MAX_SCOPE_TAGS} scope tags.`);
  for (const tag of normalized) {
    if (!SCOPE_TAG.test(tag)) {
      throw new DomainError(
        'validation-failed',
        `"${tag}" is not a scope tag: 1 to 64 of a-z, 0-9, ".", "_" and "-", starting with a letter or digit.`,
      );
    }
  }
  return normalized;
}

interface Scoped {
  id: string;
  scopeTags?: readonly string[];
}

/** Throws `not-found` (as for a missing object) unless `actor` holds `permission` over the object's scope. */
export function requireInScope(actor: Actor, permission: Permission, tenantId: string, object: Scoped, what: string): void {
  if (!isAllowed(actor, permission, { tenantId, scopeTags: object.scopeTags ?? [] })) {
    throw new DomainError('not-found', `No ${what} has the id ${object.id}.`);
  }
}

/** The objects of `items` the actor may see under `permission`. */
export function visibleTo<T extends { scopeTags?: readonly string[] }>(actor: Actor, permission: Permission, items: readonly T[]): T[] {
  const tags = scopeFilter(actor, permission);
  if (tags === null) return [...items];
  return items.filter((item) => (item.scopeTags ?? []).some((t) => tags.includes(t)));
}

/**
 * A scoped admin may only create (or re-tag) an object within its own scope: the new tags must
 * include one it holds `permission` over. An all-scope admin may use any tags, or none.
 */
export function requireTagsInScope(actor: Actor, permission: Permission, tenantId: string, tags: readonly string[]): void {
  if (isAllowed(actor, permission, { tenantId, scopeTags: tags })) return;
  const mine = scopeFilter(actor, permission) ?? [];
  throw new DomainError(
    'forbidden',
    mine.length === 0
      ? `This caller lacks the permission "${permission}".`
      : `Your role applies to the scope tags ${mine.join(', ')}; tag it with one of them.`,
    { permission },
  );
}
