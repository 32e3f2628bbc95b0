/** Raw, whole-table access to one tenant's rows, for export and import only (see tenant-export.ts). */
export type ExportTable =
  | 'tenant_settings'
  | 'users'
  | 'groups'
  | 'group_members'
  | 'roles'
  | 'role_assignments'
  | 'enrollment_tokens'
  | 'devices'
  | 'device_checkin_state'
  | 'device_apps'
  | 'device_commands'
  | 'compliance_policies'
  | 'compliance_policy_assignments'
  | 'device_compliance_results'
  | 'configuration_profiles'
  | 'configuration_profile_assignments'
  | 'audit_events'
  | 'imported_audit_events';

/** A stored row without its tenant id; sensitive device values in clear. */
export type ExportedRow = Record<string, unknown>;

export interface TenantRowStore {
  /** Up to `limit` rows ordered by `keyColumns`, strictly after the key `after` (null: from the start). */
  page(table: ExportTable, keyColumns: readonly string[], after: readonly unknown[] | null, limit: number): Promise<ExportedRow[]>;
  count(table: ExportTable): Promise<number>;
  insert(table: ExportTable, rows: readonly ExportedRow[]): Promise<void>;
  /** Overwrites the tenant's settings row with an exported one. */
  replaceSettings(row: ExportedRow): Promise<void>;
}
