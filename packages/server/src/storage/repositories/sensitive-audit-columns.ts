/**
 * The audit columns stored encrypted with the tenant's data key (region migration 0019): the actor's
 * name (a user's user name, usually an email address, also the one typed at a failed sign-in) and
 * the targets (names and changed values), in the tenant's own log and in the chains an import
 * brought along. Hashes are computed over the clear event (domain/audit/audit-chain.ts), so
 * verification reads decrypted events. The target ids, which are no personal data, stay in clear in
 * `target_ids` (`|id1|id2|`) for the `targetId` filter.
 */
import type { AuditTarget } from '../../domain/audit/audit-chain.js';
import { escapeLike } from './like.js';
import type { DerivedColumn, SealedColumns } from './sealed-columns.js';

export type SensitiveAuditColumn = 'actor_name' | 'targets';

/** `|id1|id2|` for targets stored as JSON text: every id between bars, so a filter matches whole ids. */
export function targetIdsOf(targets: string | null): string | null {
  if (targets === null) return null;
  const ids = (JSON.parse(targets) as AuditTarget[]).map((t) => t.id);
  return `|${ids.join('|')}|`;
}

/** The `like` pattern (with `escape '\'`) of the rows that name `targetId` among their targets. */
export function targetIdPattern(targetId: string): string {
  return `%${escapeLike(`|${targetId}|`)}%`;
}

const TARGET_IDS: DerivedColumn<SensitiveAuditColumn> = { column: 'target_ids', from: 'targets', value: targetIdsOf };

/** Paged by `sequence` (the primary key): event ids are unique but not indexed. */
export const AUDIT_EVENT_COLUMNS: SealedColumns<SensitiveAuditColumn> = {
  table: 'audit_events',
  key: 'sequence',
  columns: ['actor_name', 'targets'],
  hashes: {},
  caseInsensitive: [],
  context: (column) => `audit_events.${column}`,
  derived: [TARGET_IDS],
};

/**
 * Imported events page by `position` (the primary key): their ids come from an archive, which could
 * repeat one.
 */
export const IMPORTED_AUDIT_EVENT_COLUMNS: SealedColumns<SensitiveAuditColumn> = {
  table: 'imported_audit_events',
  key: 'position',
  columns: ['actor_name', 'targets'],
  hashes: {},
  caseInsensitive: [],
  context: (column) => `imported_audit_events.${column}`,
  derived: [TARGET_IDS],
};

/** Every table encrypted by migration 0019, for its one-time step. */
export const AUDIT_SEALED_TABLES = [AUDIT_EVENT_COLUMNS, IMPORTED_AUDIT_EVENT_COLUMNS] as const;
