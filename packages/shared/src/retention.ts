/**
 * The retention rules (SPEC §9): how long Custos keeps what it keeps once it is no longer current.
 * One declaration, read by the retention job (server domain/retention/), the privacy catalog
 * (`GET /api/v1/privacy/catalog`, `retentionRules`) and the transparency texts, so what is published
 * is what runs.
 */
import { Type, type Static } from 'typebox';

export const AUDIT_RETENTION_DAYS = 365;
export const COMMAND_RESULT_RETENTION_DAYS = 90;
/** The tenant setting's bounds: a device silent this long is retired (`null`: the rule is off, the default). */
export const STALE_DEVICE_DAYS_MIN = 30;
export const STALE_DEVICE_DAYS_MAX = 270;
/** Days a tenant export archive is kept by default (the server's CUSTOS_EXPORT_ARCHIVE_DAYS). */
export const DEFAULT_EXPORT_ARCHIVE_DAYS = 7;

export interface RetentionRuleDeclaration {
  readonly rule: 'stale-devices' | 'audit-events' | 'command-results' | 'inventory' | 'export-archives';
  readonly description: string;
  /** Fixed period in days, or null where a tenant setting decides (or nothing expires). */
  readonly days: number | null;
}

/** The export archive rule for a deployment whose archives live `days` days. */
export function exportArchiveRule(days: number): RetentionRuleDeclaration {
  return {
    rule: 'export-archives',
    description: `Archives of "export all data" are deleted ${days} days after they were written; the export then shows as expired.`,
    days,
  };
}

export const RETENTION_RULES: readonly RetentionRuleDeclaration[] = [
  {
    rule: 'stale-devices',
    description: `Off unless your organization turns it on: a device that has not checked in for the set number of days (${STALE_DEVICE_DAYS_MIN} to ${STALE_DEVICE_DAYS_MAX}) is retired, its credential revoked, and the retirement recorded in the audit log.`,
    days: null,
  },
  {
    rule: 'audit-events',
    description: `Audit events are kept for ${AUDIT_RETENTION_DAYS} days, then deleted; the log's hash chain continues from a recorded checkpoint so it can still be verified.`,
    days: AUDIT_RETENTION_DAYS,
  },
  {
    rule: 'command-results',
    description: `Finished device commands (sync, lock, retire, wipe, …) and their results are deleted ${COMMAND_RESULT_RETENTION_DAYS} days after they finished.`,
    days: COMMAND_RESULT_RETENTION_DAYS,
  },
  {
    rule: 'inventory',
    description:
      'Inventory is kept as the latest report only: each check-in replaces the previous one, so no inventory history accumulates.',
    days: null,
  },
  exportArchiveRule(DEFAULT_EXPORT_ARCHIVE_DAYS),
];

/** The rules as a deployment runs them: the export archive lifetime is configurable. */
export function retentionRules(exportArchiveDays: number): readonly RetentionRuleDeclaration[] {
  return RETENTION_RULES.map((r) => (r.rule === 'export-archives' ? exportArchiveRule(exportArchiveDays) : r));
}

export const RetentionRuleSchema = Type.Object({
  rule: Type.String(),
  description: Type.String(),
  days: Type.Union([Type.Integer(), Type.Null()]),
});

/** `GET/PUT /api/v1/tenant/retention`: the rules and the tenant's own setting. */
export const TenantRetentionSchema = Type.Object({
  staleDeviceDays: Type.Union([Type.Integer({ minimum: STALE_DEVICE_DAYS_MIN, maximum: STALE_DEVICE_DAYS_MAX }), Type.Null()]),
  rules: Type.Array(RetentionRuleSchema),
});
export type TenantRetention = Static<typeof TenantRetentionSchema>;

export const TenantRetentionUpdateSchema = Type.Object(
  { staleDeviceDays: Type.Union([Type.Integer({ minimum: STALE_DEVICE_DAYS_MIN, maximum: STALE_DEVICE_DAYS_MAX }), Type.Null()]) },
  { additionalProperties: false },
);
export type TenantRetentionUpdate = Static<typeof TenantRetentionUpdateSchema>;
