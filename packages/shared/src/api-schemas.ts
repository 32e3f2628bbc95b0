/**
 * Request and response schemas of the public API and the device protocol. They drive validation,
 * the OpenAPI document, the agent and (later) the web client, so the same shape is written once.
 */
import { Type, type Static, type TSchema } from 'typebox';
import type { ComplianceSettings } from './compliance.js';
import { ACTION_SCHEDULE_STATUSES, NONCOMPLIANCE_ACTION_TYPES, type NoncomplianceAction } from './compliance-actions.js';
import { COMPLIANCE_STATES, MANAGEMENT_CHANNELS, OWNERSHIPS, PLATFORMS } from './platforms.js';
import { PASSWORD_TYPES } from './privacy-catalog.js';
import { ScopeTagSchema } from './identity-schemas.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const StringEnum = <const T extends string[]>(values: readonly [...T]) => Type.Enum(values);

export const Uuid = Type.String({ format: 'uuid' });
export const Timestamp = Type.String({ format: 'date-time' });
export const PlatformSchema = StringEnum(PLATFORMS);
export const OwnershipSchema = StringEnum(OWNERSHIPS);
export const ComplianceStateSchema = StringEnum(COMPLIANCE_STATES);

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    code: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
  },
  { additionalProperties: true, $id: 'Problem' },
);

export const DeviceIdParams = Type.Object({ id: Uuid });

export const DeviceSchema = Type.Object({
  id: Uuid,
  tenantId: Uuid,
  platform: PlatformSchema,
  managementChannel: StringEnum(MANAGEMENT_CHANNELS),
  ownership: OwnershipSchema,
  status: StringEnum(['active', 'retired'] as const),
  complianceState: ComplianceStateSchema,
  deviceName: Nullable(Type.String()),
  manufacturer: Nullable(Type.String()),
  model: Nullable(Type.String()),
  operatingSystem: Nullable(Type.String()),
  osVersion: Nullable(Type.String()),
  processor: Nullable(Type.String()),
  serialNumber: Nullable(Type.String()),
  cellularTechnology: Nullable(Type.String()),
  jailBroken: Nullable(Type.Boolean()),
  freeStorageBytes: Nullable(Type.Integer()),
  totalStorageBytes: Nullable(Type.Integer()),
  exchangeDeviceId: Nullable(Type.String()),
  wifiMac: Nullable(Type.String()),
  ethernetMac: Nullable(Type.String()),
  encrypted: Nullable(Type.Boolean()),
  imei: Nullable(Type.String()),
  supervised: Nullable(Type.Boolean()),
  secureBoot: Nullable(Type.Boolean()),
  passwordRequired: Nullable(Type.Boolean()),
  passwordMinimumLength: Nullable(Type.Integer()),
  passwordType: Nullable(StringEnum(PASSWORD_TYPES)),
  firewallEnabled: Nullable(Type.Boolean()),
  appInventoryScope: StringEnum(['all', 'managed-only'] as const),
  lastCheckInAt: Nullable(Timestamp),
  enrolledAt: Timestamp,
  retiredAt: Nullable(Timestamp),
  scopeTags: Type.Optional(
    Type.Array(Type.String(), { description: 'Scope tags: admins scoped to tags see the device only with one of them.' }),
  ),
  consent: Type.Object({
    privacyStatementVersion: Type.String(),
    acceptedAt: Timestamp,
    method: StringEnum(['interactive', 'unattended'] as const),
  }),
});
export type Device = Static<typeof DeviceSchema>;

export const DEVICE_SORT_FIELDS = ['deviceName', 'lastCheckInAt', 'enrolledAt', 'osVersion', 'serialNumber', 'model'] as const;
export type DeviceSortField = (typeof DEVICE_SORT_FIELDS)[number];

export const DeviceListQuery = Type.Object(
  {
    platform: Type.Optional(PlatformSchema),
    operatingSystem: Type.Optional(Type.String({ maxLength: 256 })),
    osVersion: Type.Optional(Type.String({ maxLength: 256 })),
    ownership: Type.Optional(OwnershipSchema),
    complianceState: Type.Optional(ComplianceStateSchema),
    status: Type.Optional(StringEnum(['active', 'retired'] as const)),
    lastCheckInAfter: Type.Optional(Timestamp),
    lastCheckInBefore: Type.Optional(Timestamp),
    search: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'Matches device name (substring) or serial number (exact).' }),
    ),
    sort: Type.Optional(StringEnum(DEVICE_SORT_FIELDS)),
    order: Type.Optional(StringEnum(['asc', 'desc'] as const)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type DeviceListQuery = Static<typeof DeviceListQuery>;

export const DeviceListSchema = Type.Object({
  items: Type.Array(DeviceSchema),
  nextCursor: Nullable(Type.String()),
});

export const AppSchema = Type.Object({
  name: Type.String(),
  version: Nullable(Type.String()),
  appId: Nullable(Type.String()),
  installLocation: Nullable(Type.String()),
  sizeBytes: Nullable(Type.Integer()),
  managed: Type.Boolean(),
});
export type App = Static<typeof AppSchema>;

export const AppListSchema = Type.Object({ items: Type.Array(AppSchema), appInventoryScope: StringEnum(['all', 'managed-only'] as const) });

export const EnrollmentTokenCreateSchema = Type.Object(
  {
    ownership: OwnershipSchema,
    description: Type.Optional(Type.String({ maxLength: 256 })),
    expiresInHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 365, default: 24 * 7 })),
    maxUses: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1_000_000 }))),
    platforms: Type.Optional(Type.Array(PlatformSchema, { minItems: 1, uniqueItems: true })),
    deviceLimitPerUser: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 15 })),
    userEmail: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
    scopeTags: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }), {
        maxItems: 50,
        description: 'Scope tags given to every device that enrolls with it.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type EnrollmentTokenCreate = Static<typeof EnrollmentTokenCreateSchema>;

export const EnrollmentTokenSchema = Type.Object({
  id: Uuid,
  ownership: OwnershipSchema,
  description: Nullable(Type.String()),
  platforms: Nullable(Type.Array(PlatformSchema)),
  maxUses: Nullable(Type.Integer()),
  uses: Type.Integer(),
  deviceLimitPerUser: Type.Integer(),
  userEmail: Nullable(Type.String()),
  expiresAt: Timestamp,
  createdAt: Timestamp,
  revokedAt: Nullable(Timestamp),
  scopeTags: Type.Optional(Type.Array(Type.String())),
});
export type EnrollmentToken = Static<typeof EnrollmentTokenSchema>;

export const EnrollmentTokenCreatedSchema = Type.Intersect([
  EnrollmentTokenSchema,
  Type.Object({ token: Type.String({ description: 'Shown once; Custos keeps only its hash.' }) }),
]);

/** What a device shows its user before enrolling: who manages it and what they will see. */
export const EnrollmentInfoSchema = Type.Object({
  tenantName: Type.String(),
  ownership: OwnershipSchema,
  privacyStatement: Type.Object({ version: Type.String(), text: Nullable(Type.String()), url: Nullable(Type.String()) }),
  supportContact: Nullable(Type.String()),
  collected: Type.Array(Type.Object({ name: Type.String(), label: Type.String(), purpose: Type.String() })),
  apps: Type.String({ description: 'Which apps are collected, and why.' }),
  neverCollected: Type.Array(Type.String()),
  /** How long it is kept (the retention rules). */
  retention: Type.Optional(Type.Array(Type.String())),
});
export type EnrollmentInfo = Static<typeof EnrollmentInfoSchema>;

export const EnrollRequestSchema = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 512 }),
    csr: Type.String({ minLength: 1, maxLength: 16384, description: 'PKCS#10 request in PEM, ECDSA P-256.' }),
    platform: PlatformSchema,
    consent: Type.Object(
      {
        privacyStatementVersion: Type.String({ minLength: 1, maxLength: 128 }),
        method: StringEnum(['interactive', 'unattended'] as const),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type EnrollRequest = Static<typeof EnrollRequestSchema>;

export const CheckInScheduleSchema = Type.Object({
  initialIntervalSeconds: Type.Integer(),
  initialPeriodSeconds: Type.Integer(),
  intervalSeconds: Type.Integer(),
});

export const EnrollResponseSchema = Type.Object({
  tenantId: Uuid,
  deviceId: Uuid,
  certificate: Type.String({ description: 'The device certificate in PEM, issued by the tenant CA.' }),
  caCertificate: Type.String(),
  appInventoryScope: StringEnum(['all', 'managed-only'] as const),
  schedule: CheckInScheduleSchema,
});
export type EnrollResponse = Static<typeof EnrollResponseSchema>;

export const DeviceSessionSchema = Type.Object({
  sessionToken: Type.String(),
  sessionKey: Type.String({ description: 'base64url HMAC-SHA256 key for this session; sent once, over TLS.' }),
  expiresAt: Timestamp,
});
export type DeviceSession = Static<typeof DeviceSessionSchema>;

/**
 * A check-in. With nothing changed the agent sends only its inventory digest; otherwise either a
 * whole inventory document or a delta against the digest the server holds.
 */
export const CheckInRequestSchema = Type.Object(
  {
    inventoryDigest: Type.String({ maxLength: 128 }),
    inventory: Type.Optional(Type.Unknown({ description: 'A whole inventory document, validated against the privacy catalog.' })),
    delta: Type.Optional(Type.Unknown({ description: 'An inventory delta, validated against the privacy catalog.' })),
  },
  { additionalProperties: false },
);
export type CheckInRequest = Static<typeof CheckInRequestSchema>;

/**
 * Device actions (SPEC §6, §11): each is a command queued for one device and delivered with its next
 * check-in. `sync` and `collect-inventory` ask for a whole inventory now; `retire` removes company
 * data from the device and, once acknowledged, retires its record.
 */
export const DEVICE_ACTIONS = ['sync', 'lock', 'retire', 'wipe', 'rename', 'restart', 'collect-inventory'] as const;
export type DeviceAction = (typeof DEVICE_ACTIONS)[number];

/**
 * `pending → sent → acknowledged | error | notNow | expired` (SPEC §3). `notNow` is what the device
 * answered, not a resting state: the command goes back to `pending` for a later check-in, and the
 * answer stays visible as its `result`.
 */
export const COMMAND_STATES = ['pending', 'sent', 'acknowledged', 'error', 'expired'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];
export const COMMAND_RESULT_STATUSES = ['acknowledged', 'error', 'notNow'] as const;
export type CommandResultStatus = (typeof COMMAND_RESULT_STATUSES)[number];

/** A host name a device can take on every platform: one DNS label (RFC 1123), at most 63 characters. */
export const DEVICE_NAME_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$';

export const CommandPayloadSchema = Type.Object(
  { deviceName: Type.Optional(Type.String({ minLength: 1, maxLength: 63, pattern: DEVICE_NAME_PATTERN })) },
  { additionalProperties: false },
);
export type CommandPayload = Static<typeof CommandPayloadSchema>;

export const CommandSchema = Type.Object({
  id: Uuid,
  deviceId: Uuid,
  action: StringEnum(DEVICE_ACTIONS),
  payload: Nullable(CommandPayloadSchema),
  state: StringEnum(COMMAND_STATES),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  sentAt: Nullable(Timestamp),
  completedAt: Nullable(Timestamp),
  expiresAt: Timestamp,
  createdBy: Type.String({ description: 'The actor that queued it, as `type:id:name`.' }),
  attempts: Type.Integer({ description: 'How many times it was delivered to the device.' }),
  result: Nullable(
    Type.Object({
      status: StringEnum(COMMAND_RESULT_STATUSES),
      detail: Nullable(Type.String()),
      at: Timestamp,
    }),
  ),
});
export type Command = Static<typeof CommandSchema>;

export const CommandListSchema = Type.Object({ items: Type.Array(CommandSchema) });

export const DeviceActionParams = Type.Object({ id: Uuid, action: StringEnum(DEVICE_ACTIONS) });
export const DeviceCommandParams = Type.Object({ id: Uuid, commandId: Uuid });
export const CommandListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) },
  { additionalProperties: false },
);

export const ActionRequestSchema = Type.Object(
  {
    deviceName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 63, pattern: DEVICE_NAME_PATTERN, description: 'For `rename`: the new host name.' }),
    ),
    expiresInHours: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 24 * 30,
        description: 'Undelivered or unanswered after this, the command expires. Default 7 days.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ActionRequest = Static<typeof ActionRequestSchema>;

/** The device list's filters, without paging and sorting: which devices a bulk action targets. */
export const DeviceFilterSchema = Type.Omit(DeviceListQuery, ['cursor', 'limit', 'sort', 'order'], { additionalProperties: false });
export type DeviceFilter = Static<typeof DeviceFilterSchema>;

export const BULK_ACTION_MAX_DEVICES = 10_000;

export const BulkActionParams = Type.Object({ action: StringEnum(DEVICE_ACTIONS) });

export const BulkActionRequestSchema = Type.Object(
  {
    filter: Type.Optional(DeviceFilterSchema),
    deviceIds: Type.Optional(Type.Array(Uuid, { maxItems: BULK_ACTION_MAX_DEVICES, uniqueItems: true })),
    confirm: Type.Optional(Type.Boolean({ description: 'Required (`true`) for a bulk `wipe` or `retire`.' })),
    expiresInHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 30 })),
  },
  { additionalProperties: false },
);
export type BulkActionRequest = Static<typeof BulkActionRequestSchema>;

export const BulkActionResultSchema = Type.Object({
  queued: Type.Integer({ description: 'Devices that now have this command pending (new or coalesced with an identical one).' }),
  commands: Type.Array(Uuid),
});
export type BulkActionResult = Static<typeof BulkActionResultSchema>;

/** A command as the device receives it with a check-in. */
export const DeliveredCommandSchema = Type.Object({
  id: Uuid,
  action: StringEnum(DEVICE_ACTIONS),
  payload: Nullable(CommandPayloadSchema),
});
export type DeliveredCommand = Static<typeof DeliveredCommandSchema>;

export const CommandResultSchema = Type.Object(
  {
    status: StringEnum(COMMAND_RESULT_STATUSES),
    detail: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type CommandResult = Static<typeof CommandResultSchema>;

/** A device's push channel message: check in now. */
export interface PushMessage {
  type: 'wake';
}

export const CheckInResponseSchema = Type.Object({
  inventory: StringEnum(['stored', 'unchanged', 'required'] as const),
  appInventoryScope: StringEnum(['all', 'managed-only'] as const),
  nextCheckInSeconds: Type.Integer(),
  serverTime: Timestamp,
  /** Commands queued for the device, oldest first; each is `sent` from now on and awaits its result. */
  commands: Type.Array(DeliveredCommandSchema),
  /** The digest of the device's desired configuration profiles; when it is not what the agent applied, it fetches them. */
  profilesDigest: Type.Optional(Type.String()),
});
export type CheckInResponse = Static<typeof CheckInResponseSchema>;

export const PrivacyCatalogSchema = Type.Object({
  version: Type.String(),
  fields: Type.Array(
    Type.Object({
      name: Type.String(),
      label: Type.String(),
      category: Type.String(),
      source: Type.String(),
      valueType: Type.String(),
      allowedValues: Type.Optional(Type.Array(Type.String(), { description: 'The only values a string field accepts, when fixed.' })),
      platforms: Type.Array(Type.String()),
      purpose: Type.String(),
      retention: Type.Object({ rule: Type.String(), description: Type.String() }),
      sensitivity: Type.String(),
      visibleWith: Type.String(),
    }),
  ),
  prohibitedCategories: Type.Array(Type.Object({ category: Type.String(), label: Type.String() })),
  appInventoryRules: Type.Array(Type.String()),
  /** How long what is no longer current is kept (shared/src/retention.ts). */
  retentionRules: Type.Array(Type.Object({ rule: Type.String(), description: Type.String(), days: Nullable(Type.Integer()) })),
});

export const HealthSchema = Type.Object({ status: Type.String() });

/**
 * A version limit: a leading dotted number, the part `compareVersions` (compliance.ts) compares.
 * The service checks it again with `compareVersions` itself, so the two cannot disagree.
 */
const OS_VERSION_LIMIT_PATTERN = '^\\s*[vV]?\\d+(\\.\\d+)*';
export const COMPLIANCE_LIST_MAX_ENTRIES = 1_000;
const AppMatcherList = Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
  maxItems: COMPLIANCE_LIST_MAX_ENTRIES,
  uniqueItems: true,
  description: 'App ids (bundle or package ids) or app names.',
});

/** The settings of a compliance policy (SPEC §6); the shape of `ComplianceSettings` in compliance.ts. */
export const ComplianceSettingsSchema = Type.Object(
  {
    requireEncryption: Type.Optional(Type.Boolean()),
    minimumOsVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: OS_VERSION_LIMIT_PATTERN })),
    maximumOsVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: OS_VERSION_LIMIT_PATTERN })),
    blockJailbroken: Type.Optional(Type.Boolean()),
    appDenyList: Type.Optional(AppMatcherList),
    appAllowList: Type.Optional(AppMatcherList),
    maxDaysSinceCheckIn: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
    requirePassword: Type.Optional(
      Type.Object(
        {
          minimumLength: Type.Optional(Type.Integer({ minimum: 4, maximum: 64 })),
          type: Type.Optional(StringEnum(PASSWORD_TYPES)),
        },
        {
          additionalProperties: false,
          description:
            'A password must unlock the device; its policy must demand at least this length and this kind (numeric < alphanumeric < complex). {} requires a password only.',
        },
      ),
    ),
    requireFirewall: Type.Optional(Type.Boolean({ description: 'The device firewall must be on.' })),
  },
  { additionalProperties: false },
);

/** Fails to compile when the schema and the evaluator's `ComplianceSettings` drift apart. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const COMPLIANCE_SETTINGS_MATCH: Same<Static<typeof ComplianceSettingsSchema>, ComplianceSettings> = true;

export const PolicyIdParams = Type.Object({ id: Uuid });

/**
 * One action for non-compliance (compliance-actions.ts). Each type at most once per policy (the
 * service checks); `additionalRecipients` and `message` belong to `email` only.
 */
export const NoncomplianceActionSchema = Type.Object(
  {
    type: StringEnum(NONCOMPLIANCE_ACTION_TYPES),
    afterDays: Type.Integer({ minimum: 0, maximum: 365, description: 'Days after the device started failing the policy.' }),
    additionalRecipients: Type.Optional(Type.Array(Type.String({ format: 'email', maxLength: 320 }), { maxItems: 20, uniqueItems: true })),
    message: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
  },
  { additionalProperties: false },
);
/** Fails to compile when the schema and `NoncomplianceAction` drift apart. */
export const NONCOMPLIANCE_ACTION_MATCH: Same<Static<typeof NoncomplianceActionSchema>, NoncomplianceAction> = true;
const NoncomplianceActionList = Type.Array(NoncomplianceActionSchema, {
  maxItems: NONCOMPLIANCE_ACTION_TYPES.length,
  description: 'Actions for non-compliance; "markNoncompliant" (the grace period) defaults to 0 days when not listed.',
});

/**
 * Scope tags of a policy or profile (SPEC §3): an admin whose role is assigned over tags sees and
 * changes only the policies carrying one of them. Absent on update: unchanged.
 */
export const PolicyScopeTags = Type.Array(ScopeTagSchema, { maxItems: 50, description: 'Scope tags; none: only all-scope admins see it.' });

export const CompliancePolicyInputSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    platform: Type.Optional(Nullable(PlatformSchema)),
    settings: ComplianceSettingsSchema,
    actions: Type.Optional(NoncomplianceActionList),
    scopeTags: Type.Optional(PolicyScopeTags),
  },
  { additionalProperties: false },
);
export type CompliancePolicyInput = Static<typeof CompliancePolicyInputSchema>;

/** A whole replacement; `version`, when sent, must be the current one (else 409: someone else changed it). */
export const CompliancePolicyUpdateSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    platform: Type.Optional(Nullable(PlatformSchema)),
    settings: ComplianceSettingsSchema,
    actions: Type.Optional(NoncomplianceActionList),
    scopeTags: Type.Optional(PolicyScopeTags),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type CompliancePolicyUpdate = Static<typeof CompliancePolicyUpdateSchema>;

/**
 * Who a policy or profile applies to. `allUsers` means devices with a user; `group` means the devices
 * whose user is an active member of the group (of this tenant).
 */
export const ASSIGNMENT_TARGETS = ['allDevices', 'allUsers', 'group'] as const;
export type AssignmentTarget = (typeof ASSIGNMENT_TARGETS)[number];
export const ASSIGNMENT_MODES = ['include', 'exclude'] as const;
export type AssignmentMode = (typeof ASSIGNMENT_MODES)[number];

export const PolicyAssignmentSchema = Type.Object(
  {
    target: StringEnum(ASSIGNMENT_TARGETS),
    groupId: Type.Optional(Uuid),
    mode: StringEnum(ASSIGNMENT_MODES),
  },
  { additionalProperties: false },
);
export type PolicyAssignment = Static<typeof PolicyAssignmentSchema>;

export const PolicyAssignmentsSchema = Type.Object(
  { assignments: Type.Array(PolicyAssignmentSchema, { maxItems: COMPLIANCE_LIST_MAX_ENTRIES }) },
  { additionalProperties: false },
);
export type PolicyAssignments = Static<typeof PolicyAssignmentsSchema>;

export const CompliancePolicySchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  platform: Nullable(PlatformSchema),
  settings: ComplianceSettingsSchema,
  actions: Type.Array(NoncomplianceActionSchema),
  version: Type.Integer({ description: 'Increases with every change of the policy.' }),
  scopeTags: Type.Array(Type.String()),
  assignments: Type.Array(PolicyAssignmentSchema),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type CompliancePolicy = Static<typeof CompliancePolicySchema>;

export const CompliancePolicyListSchema = Type.Object({ items: Type.Array(CompliancePolicySchema) });

export const SETTING_STATUSES = ['compliant', 'noncompliant', 'unknown'] as const;

/** A device's compliance: the overall state and, per applicable policy, each setting's result. */
export const DeviceComplianceSchema = Type.Object({
  deviceId: Uuid,
  complianceState: ComplianceStateSchema,
  policies: Type.Array(
    Type.Object({
      policyId: Uuid,
      name: Type.String(),
      version: Type.Integer({ description: 'The policy version this result was evaluated against.' }),
      state: ComplianceStateSchema,
      settings: Type.Array(Type.Object({ setting: Type.String(), status: StringEnum(SETTING_STATUSES), reason: Type.String() })),
      evaluatedAt: Timestamp,
      noncompliantSince: Type.Union([Timestamp, Type.Null()], {
        description: 'When the device started failing this policy (the episode the actions count from); null when it does not.',
      }),
      actions: Type.Array(
        Type.Object({
          type: StringEnum(NONCOMPLIANCE_ACTION_TYPES),
          afterDays: Type.Integer(),
          dueAt: Timestamp,
          status: StringEnum(ACTION_SCHEDULE_STATUSES),
          ranAt: Type.Union([Timestamp, Type.Null()]),
          detail: Type.Union([Type.String(), Type.Null()]),
        }),
        { description: 'The actions of the current non-compliance episode: when each is due and what it did; empty when none.' },
      ),
    }),
  ),
});
export type DeviceCompliance = Static<typeof DeviceComplianceSchema>;

/** The tenant's compliance settings: the state of a device no policy applies to. */
export const ComplianceTenantSettingsSchema = Type.Object(
  { devicesWithoutPolicy: StringEnum(['compliant', 'noncompliant'] as const) },
  { additionalProperties: false },
);
export type ComplianceTenantSettings = Static<typeof ComplianceTenantSettingsSchema>;

export const ComplianceEvaluationSchema = Type.Object({ evaluated: Type.Integer({ description: 'Active devices evaluated.' }) });

/** A device a `retireList` action put forward for retirement; an admin confirms or dismisses it. */
export const RetireListEntrySchema = Type.Object({
  deviceId: Uuid,
  deviceName: Nullable(Type.String()),
  userEmail: Nullable(Type.String()),
  policyId: Uuid,
  policyName: Type.String(),
  addedAt: Timestamp,
});
export type RetireListEntry = Static<typeof RetireListEntrySchema>;
export const RetireListSchema = Type.Object({ items: Type.Array(RetireListEntrySchema) });
export const RetireListDecisionSchema = Type.Object({
  deviceId: Uuid,
  decision: StringEnum(['confirmed', 'dismissed'] as const),
  /** The retire command queued by a confirmation. */
  commandId: Nullable(Uuid),
});
export type RetireListDecision = Static<typeof RetireListDecisionSchema>;

/** `GET /api/v1/tenant/subscription`: the subscription lifecycle state (SPEC §9) and what it means. */
const SubscriptionStateSchema = StringEnum(['active', 'warning', 'suspended', 'retention', 'purged'] as const);
export const TenantSubscriptionSchema = Type.Object({
  state: SubscriptionStateSchema,
  stateSince: Type.String({ format: 'date-time' }),
  subscriptionEndsAt: Nullable(Type.String({ format: 'date-time' })),
  deletionRequestedAt: Nullable(Type.String({ format: 'date-time' })),
  next: Nullable(Type.Object({ state: SubscriptionStateSchema, at: Type.String({ format: 'date-time' }) })),
  /** A sentence for the portals' banner; null while active with nothing scheduled. */
  notice: Nullable(Type.String()),
});
export type TenantSubscription = Static<typeof TenantSubscriptionSchema>;

/** `POST /api/v1/exports`, `GET /api/v1/exports/{id}`: a tenant export running in the background (SPEC §9). */
export const ExportJobSchema = Type.Object({
  id: Uuid,
  /** `failed` with errorCode `interrupted`: its process stopped; `expired`: the archive's lifetime ended and it was deleted. */
  status: StringEnum(['running', 'completed', 'failed', 'expired'] as const),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
  progress: Type.Object({
    entitiesDone: Type.Integer(),
    entitiesTotal: Type.Integer(),
    rowsWritten: Type.Integer(),
  }),
  /** Size of the archive once completed. */
  bytes: Nullable(Type.Integer()),
  /** SHA-256 of the archive's manifest.json once completed (the import's audit event names it). */
  manifestSha256: Nullable(Type.String()),
  error: Nullable(Type.String()),
  /** Why it failed: `interrupted` (start a new export) or `export-failed`. */
  errorCode: Nullable(StringEnum(['interrupted', 'export-failed'] as const)),
  /** When a completed archive is deleted (its published lifetime). */
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
  /** Where the archive is fetched from once completed. */
  downloadUrl: Nullable(Type.String()),
});
export type ExportJob = Static<typeof ExportJobSchema>;

export const ExportIdParams = Type.Object({ id: Uuid });
