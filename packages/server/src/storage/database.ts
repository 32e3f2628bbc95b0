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
}

export interface DirectorySecretTable {
  name: string;
  value: string;
  created_at: number;
}

export interface GlobalDatabase {
  tenants: DirectoryTenantTable;
  server_secrets: DirectorySecretTable;
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
  version: number;
  created_at: number;
  updated_at: number;
  /** Soft delete: the row stays so that past results keep their policy's name. */
  deleted_at: number | null;
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

export interface RegionDatabase {
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
}
