/**
 * Permissions and the built-in roles (SPEC §3). A role is a set of permissions; custom roles
 * (identity issue) are built from the same permission list. The server's `authorize` function is the
 * only place that reads these sets.
 */
export const PERMISSIONS = [
  'devices.read',
  'devices.write',
  'devices.retire',
  'devices.lock',
  'devices.wipe',
  'enrollment.read',
  'enrollment.write',
  'policies.read',
  'policies.write',
  'apps.read',
  'apps.write',
  'users.read',
  'users.write',
  'roles.read',
  'roles.write',
  'tokens.read',
  'tokens.write',
  'audit.read',
  'tenant.read',
  'tenant.write',
  'export.run',
  'lifecycle.manage',
  /** Approve or deny an operator's lockbox request for access to the tenant's data (SPEC §5). */
  'lockbox.approve',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const READ_ONLY: Permission[] = [
  'devices.read',
  'enrollment.read',
  'policies.read',
  'apps.read',
  'users.read',
  'roles.read',
  'tenant.read',
];

export const BUILT_IN_ROLES = {
  'Tenant Administrator': [...PERMISSIONS],
  'Policy and Profile Manager': [...READ_ONLY, 'policies.write', 'devices.write'],
  'Help Desk Operator': [...READ_ONLY, 'devices.write', 'devices.lock', 'devices.wipe', 'devices.retire'],
  'Application Manager': [...READ_ONLY, 'apps.write'],
  'Read Only Operator': [...READ_ONLY],
  'Privacy Officer': ['devices.read', 'users.read', 'tenant.read', 'audit.read', 'export.run', 'lifecycle.manage', 'lockbox.approve'],
  'Role Administrator': ['roles.read', 'roles.write', 'users.read', 'tokens.read', 'tokens.write', 'tenant.read'],
} as const satisfies Record<string, readonly Permission[]>;
export type BuiltInRole = keyof typeof BUILT_IN_ROLES;

export function isBuiltInRole(name: string): name is BuiltInRole {
  return Object.hasOwn(BUILT_IN_ROLES, name);
}
