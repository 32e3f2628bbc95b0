/**
 * Schemas of the identity administration API (SPEC §3, §5): users, groups, roles, role
 * assignments, the caller's own permissions, API tokens, device scope tags, and the operator plane
 * (operator sign-in and lockbox access requests). Password hashes and token secrets never appear in
 * a response; a token's secret is shown once, in the response that creates it.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { BUILT_IN_ROLES, PERMISSIONS, type BuiltInRole, type Permission } from './roles.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Uuid = Type.String({ format: 'uuid' });
const Timestamp = Type.String({ format: 'date-time' });

/** What each built-in role is for (shown by `GET /roles` and in docs/architecture.md). */
export const BUILT_IN_ROLE_DESCRIPTIONS: Record<BuiltInRole, string> = {
  'Tenant Administrator': 'Everything in the tenant, including roles, tokens, the audit log, exports and lockbox approvals.',
  'Policy and Profile Manager':
    'Reads everything an operator sees; creates, edits and assigns compliance policies and configuration profiles.',
  'Help Desk Operator': 'Reads devices and users; syncs, locks, wipes, retires and renames devices. Cannot edit policies.',
  'Application Manager': 'Reads everything an operator sees; manages the app catalog and app assignments.',
  'Read Only Operator': 'Reads devices, enrollment, policies, apps, users, roles and tenant settings; changes nothing.',
  'Privacy Officer':
    'Reads and verifies the audit log, runs exports and data lifecycle actions, decides operator access requests (lockbox); reads devices, users and the tenant.',
  'Role Administrator': 'Manages custom roles, role assignments and API tokens — only ever with permissions it holds itself.',
};

export const PERMISSION_DESCRIPTIONS: Record<Permission, string> = {
  'devices.read': 'See devices, their inventory, compliance, profiles and command history.',
  'devices.write': 'Change devices: sync, rename, restart, collect inventory, scope tags.',
  'devices.retire': 'Retire devices (remove company data and the credential).',
  'devices.lock': 'Lock devices remotely.',
  'devices.wipe': 'Wipe devices (factory reset).',
  'enrollment.read': 'See enrollment tokens and restrictions.',
  'enrollment.write': 'Create and revoke enrollment tokens.',
  'policies.read': 'See compliance policies and configuration profiles.',
  'policies.write': 'Create, change, assign and delete compliance policies and configuration profiles.',
  'apps.read': 'See the app catalog and app assignments.',
  'apps.write': 'Manage the app catalog and app assignments.',
  'users.read': 'See users and groups.',
  'users.write': 'Create, change, deactivate and delete users and groups.',
  'roles.read': 'See roles and role assignments.',
  'roles.write': 'Create custom roles and assign roles (only with permissions the caller holds).',
  'tokens.read': 'See API tokens (never their secrets).',
  'tokens.write': 'Create and revoke API tokens (only with permissions the caller holds).',
  'audit.read': 'Read and verify the audit log.',
  'tenant.read': 'See tenant settings.',
  'tenant.write': 'Change tenant settings.',
  'export.run': 'Export tenant data.',
  'lifecycle.manage': 'Run data lifecycle actions (retention, purge).',
  'lockbox.approve': "See, approve and deny operators' time-boxed requests for access to the tenant's data (lockbox).",
};

export const PermissionSchema = Type.Enum([...PERMISSIONS]);
export const ScopeTagSchema = Type.String({
  pattern: '^[a-z0-9][a-z0-9._-]{0,63}$',
  description: 'Lower-case letters, digits, ".", "_", "-".',
});
export const ScopeTagsSchema = Nullable(
  Type.Array(ScopeTagSchema, { minItems: 1, maxItems: 50, description: 'null: every object; otherwise objects with one of these tags.' }),
);

export const IdentityIdParams = Type.Object({ id: Uuid });

// ---- users and groups ----

export const UserSchema = Type.Object({
  id: Uuid,
  userName: Type.String(),
  displayName: Nullable(Type.String()),
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  source: Type.Enum(['cloud', 'federated', 'scim']),
  externalId: Nullable(Type.String()),
  active: Type.Boolean(),
  hasPassword: Type.Boolean(),
  passwordChangedAt: Nullable(Timestamp),
  lastSignInAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type UserDto = Static<typeof UserSchema>;

export const UserListSchema = Type.Object({ items: Type.Array(UserSchema), nextCursor: Nullable(Type.String()) });

export const UserListQuery = Type.Object(
  {
    userName: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Exact user name (case-insensitive).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const UserCreateSchema = Type.Object(
  {
    userName: Type.String({ minLength: 1, maxLength: 256 }),
    displayName: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    email: Type.Optional(Nullable(Type.String({ maxLength: 320 }))),
    phone: Type.Optional(
      Nullable(Type.String({ maxLength: 32, description: 'E.164-ish: an optional "+", digits, spaces, dots, dashes, parentheses.' })),
    ),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    active: Type.Optional(Type.Boolean()),
    roles: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        maxItems: 20,
        description: 'Built-in role names or custom role ids, over every object.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const UserUpdateSchema = Type.Object(
  {
    userName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    displayName: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    email: Type.Optional(Nullable(Type.String({ maxLength: 320 }))),
    phone: Type.Optional(
      Nullable(Type.String({ maxLength: 32, description: 'E.164-ish: an optional "+", digits, spaces, dots, dashes, parentheses.' })),
    ),
    externalId: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    active: Type.Optional(Type.Boolean({ description: 'false deactivates: sessions and API tokens stop at once.' })),
  },
  { additionalProperties: false },
);

export const GroupSchema = Type.Object({
  id: Uuid,
  displayName: Type.String(),
  description: Nullable(Type.String()),
  source: Type.Enum(['cloud', 'scim']),
  externalId: Nullable(Type.String()),
  members: Type.Optional(Type.Array(Uuid)),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const GroupListSchema = Type.Object({ items: Type.Array(GroupSchema), nextCursor: Nullable(Type.String()) });

export const GroupListQuery = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

const Members = Type.Array(Uuid, { maxItems: 10_000 });

export const GroupCreateSchema = Type.Object(
  {
    displayName: Type.String({ minLength: 1, maxLength: 256 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
    members: Type.Optional(Members),
  },
  { additionalProperties: false },
);

export const GroupUpdateSchema = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    description: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
    members: Type.Optional(Type.Array(Uuid, { maxItems: 10_000, description: 'Replaces the member list.' })),
    add: Type.Optional(Members),
    remove: Type.Optional(Members),
  },
  { additionalProperties: false },
);

// ---- roles, permissions, assignments ----

export const RoleSchema = Type.Object({
  id: Type.String({ description: "A custom role's id, or a built-in role's name." }),
  name: Type.String(),
  description: Nullable(Type.String()),
  builtIn: Type.Boolean(),
  permissions: Type.Array(PermissionSchema),
});
export type RoleDto = Static<typeof RoleSchema>;

export const RoleListSchema = Type.Object({ items: Type.Array(RoleSchema) });

export const RoleCreateSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
    permissions: Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: PERMISSIONS.length }),
  },
  { additionalProperties: false },
);

export const RoleUpdateSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
    permissions: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: PERMISSIONS.length })),
  },
  { additionalProperties: false },
);

export const PermissionListSchema = Type.Object({
  items: Type.Array(Type.Object({ name: PermissionSchema, description: Type.String() })),
});

export const RoleAssignmentSchema = Type.Object({
  id: Uuid,
  role: Type.String({ description: "A built-in role's name or a custom role's id." }),
  roleName: Nullable(Type.String()),
  principalKind: Type.Enum(['user', 'group']),
  principalId: Uuid,
  scopeTags: ScopeTagsSchema,
  createdAt: Timestamp,
});

export const RoleAssignmentListSchema = Type.Object({ items: Type.Array(RoleAssignmentSchema) });

export const RoleAssignmentCreateSchema = Type.Object(
  {
    role: Type.String({ minLength: 1, maxLength: 100 }),
    principalKind: Type.Enum(['user', 'group']),
    principalId: Uuid,
    scopeTags: Type.Optional(ScopeTagsSchema),
  },
  { additionalProperties: false },
);

export const MePermissionsSchema = Type.Object({
  actor: Type.Object({ type: Type.String(), id: Type.String(), name: Type.String() }),
  tenantId: Uuid,
  permissions: Type.Array(PermissionSchema),
  grants: Type.Array(Type.Object({ permissions: Type.Array(PermissionSchema), scopeTags: ScopeTagsSchema })),
});

// ---- API tokens ----

export const ApiTokenSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  role: Type.String({ description: "A built-in role's name or a custom role's id." }),
  roleName: Nullable(Type.String()),
  scopeTags: ScopeTagsSchema,
  createdAt: Timestamp,
  expiresAt: Timestamp,
  revokedAt: Nullable(Timestamp),
  lastUsedAt: Nullable(Timestamp),
  createdBy: Nullable(Type.String()),
});

export const ApiTokenListSchema = Type.Object({ items: Type.Array(ApiTokenSchema) });

export const ApiTokenCreateSchema = Type.Object(
  {
    role: Type.String({ minLength: 1, maxLength: 100 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    scopeTags: Type.Optional(ScopeTagsSchema),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 730, default: 90 })),
  },
  { additionalProperties: false },
);

export const ApiTokenCreatedSchema = Type.Intersect([
  ApiTokenSchema,
  Type.Object({ token: Type.String({ description: 'Shown once; Custos keeps only its hash.' }) }),
]);

export const DeviceScopeTagsSchema = Type.Object(
  { scopeTags: Type.Array(ScopeTagSchema, { maxItems: 50 }) },
  { additionalProperties: false },
);

// ---- operator plane ----

export const OperatorLoginSchema = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
    totpCode: Type.String({ pattern: '^[0-9]{6}$' }),
  },
  { additionalProperties: false },
);

export const OperatorSessionSchema = Type.Object({
  operatorId: Uuid,
  email: Type.String(),
  csrfToken: Type.String({ description: 'Send as X-CSRF-Token with every change.' }),
  absoluteExpiresAt: Timestamp,
});

export const AccessRequestCreateSchema = Type.Object(
  {
    tenantId: Uuid,
    reason: Type.String({ minLength: 10, maxLength: 2000 }),
    durationMinutes: Type.Integer({ minimum: 5, maximum: 480 }),
    role: Type.Optional(Type.Enum(Object.keys(BUILT_IN_ROLES) as BuiltInRole[], { default: 'Read Only Operator' })),
  },
  { additionalProperties: false },
);

export const AccessRequestSchema = Type.Object({
  id: Uuid,
  tenantId: Uuid,
  operatorId: Uuid,
  operatorEmail: Type.String(),
  reason: Type.String(),
  role: Type.String(),
  durationMinutes: Type.Integer(),
  status: Type.Enum(['pending', 'approved', 'denied', 'expired']),
  requestedAt: Timestamp,
  decidedAt: Nullable(Timestamp),
  decidedBy: Nullable(Type.String()),
  expiresAt: Nullable(Timestamp),
  lastAccessAt: Nullable(Timestamp),
});

export const AccessRequestListSchema = Type.Object({ items: Type.Array(AccessRequestSchema) });
