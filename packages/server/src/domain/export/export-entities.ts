/**
 * What a tenant export holds: one JSON-lines file per entity, in import order (a row's references
 * come before it). Every file is a table of the tenant's region store read in primary-key order,
 * without the tenant id; credentials never leave the store (password hashes, token hashes, MFA
 * secrets, sessions and profile secrets are not exported at all).
 */
import type { ExportedRow, ExportTable } from './tenant-row-store.js';

export interface ExportEntity {
  /** File name inside the archive. */
  file: string;
  table: ExportTable;
  /** The table's primary key after `tenant_id`: the keyset paging order. */
  key: readonly string[];
  /** Columns left out of the export. */
  omit?: readonly string[];
  /** For an import of a row whose omitted columns are NOT NULL. */
  fillOnImport?: (row: ExportedRow) => ExportedRow;
  redact?: (row: ExportedRow) => ExportedRow;
  /**
   * Columns that archives of earlier manifest versions hold but the schema no longer has. Each was
   * derived from other columns, so an import drops it; what replaced it (a lookup hash, a sealed
   * value) is computed again as the row is inserted.
   */
  retiredColumns?: readonly RetiredColumn[];
}

export interface RetiredColumn {
  column: string;
  /** The last manifest version whose archives hold the column. */
  lastVersion: number;
}

/** Write-only secrets inside configuration profile settings (domain/profiles/profile-service.ts). */
const PROFILE_SECRETS = new Set(['passphrase', 'privateKey']);

function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([k]) => !PROFILE_SECRETS.has(k))
      .map(([k, v]) => [k, withoutSecrets(v)]),
  );
}

export const EXPORT_ENTITIES: readonly ExportEntity[] = [
  { file: 'tenant-settings.jsonl', table: 'tenant_settings', key: [] },
  {
    file: 'users.jsonl',
    table: 'users',
    key: ['id'],
    omit: ['password_hash'],
    // The lower-cased user name, replaced by a keyed hash of it in region migration 0016.
    retiredColumns: [{ column: 'user_name_key', lastVersion: 1 }],
  },
  { file: 'groups.jsonl', table: 'groups', key: ['id'] },
  { file: 'group-members.jsonl', table: 'group_members', key: ['group_id', 'user_id'] },
  { file: 'roles.jsonl', table: 'roles', key: ['id'] },
  { file: 'role-assignments.jsonl', table: 'role_assignments', key: ['id'] },
  {
    file: 'enrollment-tokens.jsonl',
    table: 'enrollment_tokens',
    key: ['id'],
    omit: ['secret_hash'],
    // The secret is not exported, so an imported token can never be presented: it is kept as a record only.
    fillOnImport: (row) => ({ ...row, secret_hash: 'imported:no-secret' }),
  },
  { file: 'devices.jsonl', table: 'devices', key: ['id'] },
  { file: 'device-check-in-states.jsonl', table: 'device_checkin_state', key: ['device_id'] },
  { file: 'apps.jsonl', table: 'device_apps', key: ['device_id', 'app_key'] },
  { file: 'commands.jsonl', table: 'device_commands', key: ['id'] },
  { file: 'compliance-policies.jsonl', table: 'compliance_policies', key: ['id'] },
  {
    file: 'compliance-policy-assignments.jsonl',
    table: 'compliance_policy_assignments',
    key: ['policy_id', 'target_kind', 'target_id'],
  },
  { file: 'compliance-results.jsonl', table: 'device_compliance_results', key: ['device_id', 'policy_id'] },
  {
    file: 'configuration-profiles.jsonl',
    table: 'configuration_profiles',
    key: ['id'],
    redact: (row) => ({
      ...row,
      settings: typeof row['settings'] === 'string' ? JSON.stringify(withoutSecrets(JSON.parse(row['settings']))) : row['settings'],
    }),
  },
  {
    file: 'configuration-profile-assignments.jsonl',
    table: 'configuration_profile_assignments',
    key: ['profile_id', 'target_kind', 'target_id'],
  },
  // Audit chains this tenant itself imported, then its own chain: an import keeps both as imported
  // chains of the new tenant (export-service.ts, domain/audit/imported-audit.ts).
  { file: 'imported-audit-events.jsonl', table: 'imported_audit_events', key: ['position'] },
  { file: 'audit-events.jsonl', table: 'audit_events', key: ['sequence'] },
];

/** An archived row of `entity` from an archive of manifest `version`, as this schema takes it. */
export function importableRow(entity: ExportEntity, version: number, row: ExportedRow): ExportedRow {
  const retired = (entity.retiredColumns ?? []).filter((r) => version <= r.lastVersion && r.column in row);
  let current = row;
  if (retired.length > 0) {
    current = { ...row };
    for (const r of retired) delete current[r.column];
  }
  return entity.fillOnImport ? entity.fillOnImport(current) : current;
}

/** One row as a JSON line: keys sorted, so the same row always gives the same bytes (and checksum). */
export function toJsonLine(row: ExportedRow): string {
  return `${JSON.stringify(row, Object.keys(row).sort())}\n`;
}
