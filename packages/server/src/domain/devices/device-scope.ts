/**
 * Scope tags on devices (SPEC §3): an admin whose role is assigned over tags sees and acts on only
 * the devices carrying one of them. A device outside the caller's scope is answered as not found,
 * exactly like a device that does not exist, so the scope does not leak which devices exist.
 */
import type { Permission } from '@custos/shared';
import { isAllowed, type Actor } from '../access/authorize.js';
import { DomainError } from '../domain-error.js';

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

/** Throws `not-found` unless `actor` holds `permission` over a scope that includes the device. */
export function requireDeviceInScope(
  actor: Actor,
  permission: Permission,
  tenantId: string,
  device: { id: string; scopeTags?: readonly string[] },
): void {
  if (!isAllowed(actor, permission, { tenantId, scopeTags: device.scopeTags ?? [] })) {
    throw new DomainError('not-found', `No device has the id ${device.id}.`);
  }
}
