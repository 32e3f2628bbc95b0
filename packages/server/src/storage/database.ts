/**
 * Table types for Kysely. Two kinds of database: the global directory (one per deployment) and the
 * region stores (one per region). Conventions, the same on SQLite and PostgreSQL:
 * - times are epoch milliseconds in BIGINT columns (sortable, no timezone conversion in drivers);
 * - booleans are 0/1 integers (SQLite has no boolean and better-sqlite3 binds no JS booleans);
 * - JSON is TEXT;
 * - every region-store table's primary key starts with `tenant_id` (Citus-ready, SPEC §2).
 */

export interface DirectoryTenantTable {
  id: string;
  name: string;
  region: string;
  subscription_state: string;
  created_at: number;
  /** Set when the tenant's data was purged; the row then stays as a tombstone. */
  purged_at: number | null;
  /** Global migration 0005 (domain/lifecycle/): when the current subscription state began. */
  state_changed_at: number | null;
  /** The end of the paid subscription; null: open-ended (the tenant stays `active`). */
  subscription_ends_at: number | null;
  /** A deletion request purges at this time plus the confirmation window, unless withdrawn. */
  deletion_requested_at: number | null;
  /** The signed purge receipt (JSON), kept with the tombstone. */
  purge_receipt: string | null;
}

export interface DirectorySecretTable {
  name: string;
  value: string;
  created_at: number;
}

/**
 * One row per scheduled job (global migration 0002): the process holding it (`holder`) runs the job
 * for the period starting at `period_start` until `expires_at`; see domain/jobs/job-scheduler.ts.
 */
export interface DirectoryJobLeaseTable {
  name: string;
  holder: string;
  period_start: number;
  expires_at: number;
  last_success_at: number | null;
  last_failure_at: number | null;
}

/** Operators of the deployment (global migration 0003); see domain/operators/operator-service.ts. */
export interface DirectoryOperatorTable {
  id: string;
  email: string;
  password_hash: string;
  /** AES-256-GCM ciphertext (base64url `iv.tag.data`) of the base32 TOTP secret. */
  totp_secret: string;
  totp_last_step: number | null;
  created_at: number;
  disabled_at: number | null;
  last_sign_in_at: number | null;
  failed_sign_ins: number;
  locked_until: number | null;
}

export interface DirectoryOperatorSessionTable {
  id: string;
  operator_id: string;
  secret_hash: string;
  created_at: number;
  last_seen_at: number;
  absolute_expires_at: number;
  revoked_at: number | null;
  ip: string | null;
}

export interface DirectoryAccessReviewTable {
  id: string;
  reviewer: string;
  recorded_at: number;
  principals: number;
  /** JSON array of the ids revoked with the review. */
  revoked: string;
  /** JSON: the principals listed. */
  report: string;
}

export interface GlobalDatabase {
  tenants: DirectoryTenantTable;
  server_secrets: DirectorySecretTable;
  job_leases: DirectoryJobLeaseTable;
  operators: DirectoryOperatorTable;
  operator_sessions: DirectoryOperatorSessionTable;
  access_reviews: DirectoryAccessReviewTable;
  tenant_keys: DirectoryTenantKeyTable;
}

/** A tenant's data key version, wrapped by the master key (global migration 0004). */
export interface DirectoryTenantKeyTable {
  tenant_id: string;
  version: number;
  wrapped_key: string;
  /** Which master key wrapped it (`KeyProvider.keyId`). */
  key_id: string;
  created_at: number;
}

/** One row that names the region a store belongs to, checked when the store is opened. */
export interface StoreMetaTable {
  key: string;
  value: string;
}

export interface TenantSettingsTable {
  tenant_id: string;
  name: string;
  country: string;
  admin_email: string | null;
  privacy_statement_version: string;
  privacy_statement_text: string | null;
  privacy_statement_url: string | null;
  support_contact: string | null;
  checkin_interval_seconds: number;
  created_at: number;
  updated_at: number;
  /** `compliant | noncompliant`: the state of a device no compliance policy applies to (migration 0003). */
  no_policy_compliance_state: string;
  /** JSON: MFA requirement, session timeouts, password policy (migration 0004; NULL = defaults). */
  identity_settings: string | null;
  /** JSON: the portals' display name and accent colour (migration 0011; NULL = defaults). */
  branding: string | null;
  /** Devices silent this many days are retired (30–270); NULL: the rule is off (migration 0013). */
  stale_device_days?: number | null;
}

/** Where a tenant's audit chain starts after old events were pruned (migration 0013, domain/retention/). */
export interface AuditCheckpointTable {
  tenant_id: string;
  /** The last pruned event's sequence and hash: verification continues from them. */
  sequence: number;
  hash: string;
  pruned_events: number;
  pruned_at: number;
}

export interface TenantCaTable {
  tenant_id: string;
  certificate_pem: string;
  private_key_pkcs8: string;
  created_at: number;
}

export interface ApiTokenTable {
  tenant_id: string;
  id: string;
  name: string;
  role: string;
  secret_hash: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
  /** JSON array of scope tags; NULL is every object (migration 0004). */
  scope_tags: string | null;
  created_by: string | null;
}

export interface EnrollmentTokenTable {
  tenant_id: string;
  id: string;
  secret_hash: string;
  ownership: string;
  description: string | null;
  platforms: string | null;
  max_uses: number | null;
  uses: number;
  device_limit_per_user: number;
  user_email: string | null;
  expires_at: number;
  created_at: number;
  revoked_at: number | null;
  /** JSON array of scope tags given to the devices that enroll with it; NULL for none. */
  scope_tags: string | null;
}

/** An operator's lockbox request for access to one tenant (region migration 0009). */
export interface LockboxRequestTable {
  tenant_id: string;
  id: string;
  operator_id: string;
  operator_email: string;
  reason: string;
  role: string;
  duration_minutes: number;
  /** `pending | approved | denied | revoked` */
  status: string;
  requested_at: number;
  decided_at: number | null;
  decided_by: string | null;
  expires_at: number | null;
  /** When the expiry was written to the tenant's audit log (once). */
  expiry_recorded_at: number | null;
  last_access_at: number | null;
}

export interface DeviceTable {
  tenant_id: string;
  id: string;
  platform: string;
  management_channel: string;
  ownership: string;
  status: string;
  compliance_state: string;
  app_list_policy: number;
  device_name: string | null;
  manufacturer: string | null;
  model: string | null;
  operating_system: string | null;
  os_version: string | null;
  processor: string | null;
  serial_number: string | null;
  cellular_technology: string | null;
  jail_broken: number | null;
  free_storage_bytes: number | null;
  total_storage_bytes: number | null;
  exchange_device_id: string | null;
  wifi_mac: string | null;
  ethernet_mac: string | null;
  encrypted: number | null;
  imei: string | null;
  supervised: number | null;
  secure_boot: number | null;
  user_email: string | null;
  enrollment_token_id: string | null;
  consent_statement_version: string;
  consent_accepted_at: number;
  consent_method: string;
  certificate_pem: string;
  certificate_serial: string;
  public_key_spki: string;
  inventory_updated_at: number | null;
  enrolled_at: number;
  retired_at: number | null;
  /** JSON array of scope tags (region migration 0009); NULL for none. */
  scope_tags: string | null;
  /** Security state the device reports (region migration 0010); NULL when not reported. */
  password_required: number | null;
  password_minimum_length: number | null;
  password_type: string | null;
  firewall_enabled: number | null;
  /** Keyed hashes for equality lookups of encrypted values (region migration 0012). */
  serial_number_hash: string | null;
  user_email_hash: string | null;
}

/**
 * What a check-in reads and writes, apart from the device record: a narrow row with no secondary
 * index, so the per-request write (sequence number, check-in time) stays small on both dialects
 * (on PostgreSQL it can be a HOT update). `platform`, `enrolled_at` and `app_inventory_scope` are
 * copies the check-in needs; the repository writes them together with the device record.
 */
export interface DeviceCheckInStateTable {
  tenant_id: string;
  device_id: string;
  active: number;
  request_seq: number;
  last_check_in_at: number | null;
  inventory_digest: string | null;
  app_inventory_scope: string;
  platform: string;
  enrolled_at: number;
  /**
   * How many of the device's commands are `pending` (migration 0002). Kept in the same transaction
   * as every change to them and returned by the check-in's UPDATE, so a device with nothing queued
   * pays no extra query.
   */
  pending_commands: number;
  /** The digest of the desired configuration profile set (migration 0006); null: computed at the next check-in. */
  profiles_digest: string | null;
}

export interface DeviceAppTable {
  tenant_id: string;
  device_id: string;
  app_key: string;
  name: string;
  version: string | null;
  app_id: string | null;
  install_location: string | null;
  size_bytes: number | null;
  managed: number;
}

/** A command queued for one device (SPEC §3); `payload` is JSON text. */
export interface DeviceCommandTable {
  tenant_id: string;
  id: string;
  device_id: string;
  action: string;
  payload: string | null;
  state: string;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  completed_at: number | null;
  expires_at: number;
  /** `type:id:name` of the actor that queued it. */
  created_by: string;
  result_status: string | null;
  result_detail: string | null;
  result_at: number | null;
  attempts: number;
}

/** A compliance policy (SPEC §6, migration 0003); `settings` is JSON text, `platform` null means every platform. */
export interface CompliancePolicyTable {
  tenant_id: string;
  id: string;
  name: string;
  description: string | null;
  platform: string | null;
  settings: string;
  /** JSON array of actions for non-compliance (migration 0005); '[]' is the default action alone. */
  actions: string;
  version: number;
  created_at: number;
  updated_at: number;
  /** Soft delete: the row stays so that past results keep their policy's name. */
  deleted_at: number | null;
  /** JSON array of scope tags (migration 0015); NULL: none. */
  scope_tags: string | null;
}

/** Who a policy applies to; `target_id` is the group id for `group` targets and '' otherwise. */
export interface CompliancePolicyAssignmentTable {
  tenant_id: string;
  policy_id: string;
  target_kind: string;
  target_id: string;
  /** 1 = include, 0 = exclude. */
  include: number;
}

/** One device's result for one applicable policy; `results` is JSON text `[{setting,status,reason}]`. */
export interface DeviceComplianceResultTable {
  tenant_id: string;
  device_id: string;
  policy_id: string;
  policy_version: number;
  state: string;
  results: string;
  evaluated_at: number;
}

export interface UserTable {
  tenant_id: string;
  id: string;
  /** Encrypted, like `email` and `phone` (region migration 0016). */
  user_name: string;
  /** Keyed hash of the lower-cased user name: sign-in and SCIM `userName eq` are case-insensitive; unique per tenant. */
  user_name_hash: string | null;
  display_name: string | null;
  email: string | null;
  /** Keyed hash of the lower-cased email address. */
  email_hash: string | null;
  phone: string | null;
  /** `cloud | federated | scim` */
  source: string;
  external_id: string | null;
  active: number;
  password_hash: string | null;
  password_changed_at: number | null;
  last_sign_in_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface GroupTable {
  tenant_id: string;
  id: string;
  display_name: string;
  description: string | null;
  source: string;
  external_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface GroupMemberTable {
  tenant_id: string;
  group_id: string;
  user_id: string;
}

export interface RoleTable {
  tenant_id: string;
  id: string;
  name: string;
  description: string | null;
  /** JSON array of permission names. */
  permissions: string;
  created_at: number;
  updated_at: number;
}

export interface RoleAssignmentTable {
  tenant_id: string;
  id: string;
  /** A built-in role's name or a custom role's id. */
  role: string;
  /** `user | group` */
  principal_kind: string;
  principal_id: string;
  /** JSON array of scope tags; NULL is every object. */
  scope_tags: string | null;
  created_at: number;
}

export interface UserSessionTable {
  tenant_id: string;
  id: string;
  secret_hash: string;
  user_id: string;
  /** `password | oidc` */
  method: string;
  mfa_satisfied: number;
  created_at: number;
  last_seen_at: number;
  absolute_expires_at: number;
  ip: string | null;
  user_agent: string | null;
  revoked_at: number | null;
}

export interface SignInThrottleTable {
  tenant_id: string;
  /** `account:<lower-case user name>` or `ip:<address>` */
  key: string;
  failures: number;
  window_started_at: number;
  locked_until: number | null;
}

export interface UserTotpTable {
  tenant_id: string;
  user_id: string;
  /** AES-256-GCM sealed base32 secret (see domain/identity/mfa-secret-box.ts). */
  secret_sealed: string;
  confirmed_at: number | null;
  last_used_step: number | null;
  created_at: number;
}

export interface UserRecoveryCodeTable {
  tenant_id: string;
  user_id: string;
  code_hash: string;
  used_at: number | null;
}

export interface UserPasskeyTable {
  tenant_id: string;
  /** The WebAuthn credential id, base64url. */
  id: string;
  user_id: string;
  name: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** JSON array of transport hints. */
  transports: string;
  created_at: number;
  last_used_at: number | null;
}

export interface WebAuthnChallengeTable {
  tenant_id: string;
  session_id: string;
  /** `registration | authentication` */
  purpose: string;
  challenge: string;
  expires_at: number;
}

export interface PasswordResetTokenTable {
  tenant_id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface AuditEventTable {
  tenant_id: string;
  sequence: number;
  id: string;
  occurred_at: number;
  actor_type: string;
  actor_id: string;
  /** Encrypted (migration 0019), like `targets`. */
  actor_name: string;
  actor_ip: string | null;
  activity: string;
  category: string;
  operation: string;
  result: string;
  /** JSON array of targets with their modified properties (encrypted, migration 0019). */
  targets: string;
  correlation_id: string | null;
  previous_hash: string;
  hash: string;
  /** The targets' ids in clear, `|id1|id2|`, for the target filter (migration 0019; NULL until its one-time step). */
  target_ids: string | null;
}

/** An event of an audit chain an import brought along (migration 0017): hashed by its source tenant. */
export interface ImportedAuditEventTable extends Omit<AuditEventTable, 'tenant_id'> {
  tenant_id: string;
  position: number;
  source_tenant_id: string;
}

/** Where a pruned imported chain resumes (migration 0019): one row per source chain. */
export interface ImportedAuditCheckpointTable {
  tenant_id: string;
  source_tenant_id: string;
  sequence: number;
  hash: string;
  pruned_events: number;
  pruned_at: number;
}

export interface AuditChainHeadTable {
  tenant_id: string;
  sequence: number;
  hash: string;
}

/** A tenant's OpenID Connect identity provider (migration 0008); one per tenant. */
export interface IdentityProviderTable {
  tenant_id: string;
  issuer: string;
  client_id: string;
  /** AES-256-GCM under the server secret `idp-key`: `v1.<iv>.<tag>.<ciphertext>` (base64url). */
  client_secret_enc: string | null;
  /** JSON: scopes, claim mappings, MFA trust and remember-me rule. */
  options: string;
  created_at: number;
  updated_at: number;
}

/** One SSO sign-in in flight, keyed by the SHA-256 of its `state`; single use, short-lived. */
export interface OidcLoginStateTable {
  tenant_id: string;
  state_hash: string;
  /** SHA-256 of the browser-binding cookie's secret. */
  binding_hash: string;
  nonce: string;
  code_verifier: string;
  redirect_uri: string;
  return_to: string;
  created_at: number;
  expires_at: number;
}

/** Links an IdP subject (issuer + sub) to a Custos user. */
export interface FederatedIdentityTable {
  tenant_id: string;
  issuer: string;
  subject: string;
  user_id: string;
  created_at: number;
  last_sign_in_at: number;
}

/** The tenant's SCIM bearer token (at most one open), stored as its SHA-256. */
export interface ScimTokenTable {
  tenant_id: string;
  id: string;
  secret_hash: string;
  created_by: string | null;
  created_at: number;
  revoked_at: number | null;
}

/**
 * One non-compliance episode of a device with a policy (migration 0005): `runs` is JSON text
 * `{ <action type>: { status, at, detail, attempts, retryAt } }`; `next_due_at` is what the job selects by.
 */
export interface ComplianceEpisodeTable {
  tenant_id: string;
  device_id: string;
  policy_id: string;
  noncompliant_since: number;
  runs: string;
  next_due_at: number | null;
  evaluated_at: number;
  version: number;
}

/** Devices a `retireList` action put forward (migration 0005); `status` is `pending | confirmed | dismissed`. */
export interface ComplianceRetireListTable {
  tenant_id: string;
  device_id: string;
  policy_id: string;
  added_at: number;
  status: string;
  decided_at: number | null;
  /** `type:id:name` of the admin who decided. */
  decided_by: string | null;
}

/** A configuration profile (SPEC §6, migration 0006); `settings` is JSON text of the kind's settings, secrets included. */
export interface ConfigurationProfileTable {
  tenant_id: string;
  id: string;
  name: string;
  description: string | null;
  platform: string | null;
  kind: string;
  settings: string;
  version: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** JSON array of scope tags (migration 0015); NULL: none. */
  scope_tags: string | null;
}

/** Who a profile applies to; like `compliance_policy_assignments`. */
export interface ConfigurationProfileAssignmentTable {
  tenant_id: string;
  profile_id: string;
  target_kind: string;
  target_id: string;
  include: number;
}

/** One device's status for one profile; `conflicts` is JSON text, `removing` 0/1. */
export interface DeviceProfileStateTable {
  tenant_id: string;
  device_id: string;
  profile_id: string;
  profile_version: number;
  status: string;
  reason: string | null;
  removing: number;
  conflicts: string;
  public_key: string | null;
  updated_at: number;
  reported_at: number | null;
}

/** Apple MDM (migration 0014): see domain/apple-mdm/apple-mdm-store.ts for the meaning of each column. */
export interface AppleMdmPushCertificateTable {
  tenant_id: string;
  topic: string;
  certificate_pem: string;
  private_key_sealed: string;
  not_after: number;
  uploaded_at: number;
}

export interface AppleMdmEnrollmentTable {
  tenant_id: string;
  id: string;
  token_id: string;
  ownership: string;
  user_email: string | null;
  /** JSON text: string[]. */
  scope_tags: string;
  challenge_hash: string;
  created_at: number;
  expires_at: number;
  certificate_serial: string | null;
  udid: string | null;
  device_id: string | null;
  /** Set on an enrollment made to renew this device's identity certificate. */
  renews_device_id: string | null;
}

export interface AppleMdmDeviceTable {
  tenant_id: string;
  device_id: string;
  udid: string;
  enrollment_id: string;
  certificate_serial: string;
  certificate_not_after: number | null;
  topic: string;
  push_token: string | null;
  push_magic: string | null;
  push_token_invalid_at: number | null;
  /** JSON text: AppleUserChannel[]. */
  user_channels: string;
  bootstrap_token_sealed: string | null;
  last_seen_at: number;
  created_at: number;
}

export interface AppleMdmCommandTable {
  tenant_id: string;
  uuid: string;
  device_id: string;
  request_type: string;
  command: string;
  priority: number;
  state: string;
  not_now: number;
  common_command_id: string | null;
  profile_id: string | null;
  created_at: number;
  updated_at: number;
  result_status: string | null;
  result_detail: string | null;
}

/** An export job (region migration 0012); `status` is `running | completed | failed`. */
export interface TenantExportTable {
  tenant_id: string;
  id: string;
  status: string;
  requested_by: string;
  created_at: number;
  finished_at: number | null;
  entities_done: number;
  entities_total: number;
  rows_written: number;
  bytes: number | null;
  manifest_sha256: string | null;
  error: string | null;
  /** Last sign of life of a running job (migration 0017); null for rows older than it. */
  heartbeat_at: number | null;
  error_code: string | null;
  /** When a completed archive is deleted (migration 0017). */
  expires_at: number | null;
}

export interface RegionDatabase {
  tenant_exports: TenantExportTable;
  apple_mdm_push_certificates: AppleMdmPushCertificateTable;
  apple_mdm_enrollments: AppleMdmEnrollmentTable;
  apple_mdm_devices: AppleMdmDeviceTable;
  apple_mdm_commands: AppleMdmCommandTable;
  store_meta: StoreMetaTable;
  tenant_settings: TenantSettingsTable;
  tenant_ca: TenantCaTable;
  api_tokens: ApiTokenTable;
  enrollment_tokens: EnrollmentTokenTable;
  devices: DeviceTable;
  device_checkin_state: DeviceCheckInStateTable;
  device_apps: DeviceAppTable;
  device_commands: DeviceCommandTable;
  compliance_policies: CompliancePolicyTable;
  compliance_policy_assignments: CompliancePolicyAssignmentTable;
  device_compliance_results: DeviceComplianceResultTable;
  compliance_episodes: ComplianceEpisodeTable;
  compliance_retire_list: ComplianceRetireListTable;
  users: UserTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  roles: RoleTable;
  role_assignments: RoleAssignmentTable;
  user_sessions: UserSessionTable;
  sign_in_throttles: SignInThrottleTable;
  user_totp: UserTotpTable;
  user_recovery_codes: UserRecoveryCodeTable;
  user_passkeys: UserPasskeyTable;
  webauthn_challenges: WebAuthnChallengeTable;
  password_reset_tokens: PasswordResetTokenTable;
  audit_events: AuditEventTable;
  imported_audit_events: ImportedAuditEventTable;
  imported_audit_checkpoints: ImportedAuditCheckpointTable;
  audit_chain_heads: AuditChainHeadTable;
  audit_checkpoints: AuditCheckpointTable;
  identity_providers: IdentityProviderTable;
  oidc_login_states: OidcLoginStateTable;
  federated_identities: FederatedIdentityTable;
  scim_tokens: ScimTokenTable;
  configuration_profiles: ConfigurationProfileTable;
  configuration_profile_assignments: ConfigurationProfileAssignmentTable;
  device_profile_states: DeviceProfileStateTable;
  lockbox_requests: LockboxRequestTable;
}
