/**
 * Scope tags on devices (SPEC §3): an admin whose role is assigned over tags sees and acts on only
 * the devices carrying one of them. A device outside the caller's scope is answered as not found,
 * exactly like a device that does not exist, so the scope does not leak which devices exist.
 */
import type { Permission } from '@custos/shared';
import type { Actor } from '../access/authorize.js';
import { requireInScope } from '../access/scope-tags.js';

export { checkScopeTags, MAX_SCOPE_TAGS, SCOPE_TAG } from '../access/scope-tags.js';

/** Throws `not-found` unless `actor` holds `permission` over a scope that includes the device. */
export function requireDeviceInScope(
  actor: Actor,
  permission: Permission,
  tenantId: string,
  device: { id: string; scopeTags?: readonly string[] },
): void {
  requireInScope(actor, permission, tenantId, device, 'device');
}
