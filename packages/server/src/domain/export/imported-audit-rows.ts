/**
 * How an import turns the archive's audit files into imported chains of the new tenant
 * (domain/audit/imported-audit.ts): the source's own events (`audit-events.jsonl`) gain the source
 * tenant id and the next positions; chains the source had itself imported keep theirs. Each row is
 * checked against its chain as it passes, so an archive with a broken chain is refused.
 */
import type { AuditActor, AuditEventBody, AuditTarget, ChainedAuditEvent } from '../audit/audit-chain.js';
import { ImportedChainCollector, type ImportedChainSummary } from '../audit/imported-audit.js';
import { DomainError } from '../domain-error.js';
import type { ExportedRow } from './tenant-row-store.js';

function text(row: ExportedRow, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(column);
  return value;
}

function whole(row: ExportedRow, column: string): number {
  const value = Number(row[column]);
  if (!Number.isSafeInteger(value)) throw new TypeError(column);
  return value;
}

function orNull(row: ExportedRow, column: string): string | null {
  const value = row[column];
  return typeof value === 'string' ? value : null;
}

/** An audit row of an archive as the event its source tenant hashed. */
function toEvent(row: ExportedRow, sourceTenantId: string): ChainedAuditEvent {
  return {
    id: text(row, 'id'),
    tenantId: sourceTenantId,
    sequence: whole(row, 'sequence'),
    occurredAt: whole(row, 'occurred_at'),
    actor: {
      type: text(row, 'actor_type') as AuditActor['type'],
      id: text(row, 'actor_id'),
      name: text(row, 'actor_name'),
      ip: orNull(row, 'actor_ip'),
    },
    activity: text(row, 'activity'),
    category: text(row, 'category'),
    operation: text(row, 'operation') as AuditEventBody['operation'],
    result: row['result'] === 'failure' ? 'failure' : 'success',
    targets: JSON.parse(text(row, 'targets')) as AuditTarget[],
    correlationId: orNull(row, 'correlation_id'),
    previousHash: text(row, 'previous_hash'),
    hash: text(row, 'hash'),
  };
}

export class ImportedAuditRows {
  private readonly collector = new ImportedChainCollector();
  private lastPosition = 0;

  constructor(private readonly sourceTenantId: string) {}

  /** Rows of `imported-audit-events.jsonl`: chains the source tenant had imported, kept as they are. */
  carried(file: string, rows: readonly ExportedRow[]): ExportedRow[] {
    for (const row of rows) {
      this.check(file, () => toEvent(row, text(row, 'source_tenant_id')));
      this.lastPosition = Math.max(this.lastPosition, whole(row, 'position'));
    }
    return [...rows];
  }

  /** Rows of `audit-events.jsonl`: the source tenant's own chain, placed after what it carried. */
  own(file: string, rows: readonly ExportedRow[]): ExportedRow[] {
    return rows.map((row) => {
      this.check(file, () => toEvent(row, this.sourceTenantId));
      return { ...row, source_tenant_id: this.sourceTenantId, position: ++this.lastPosition };
    });
  }

  /** The extent of every chain seen, for the import event to attest. */
  chains(): ImportedChainSummary[] {
    return this.collector.chains();
  }

  private check(file: string, event: () => ChainedAuditEvent): void {
    let parsed: ChainedAuditEvent;
    try {
      parsed = event();
    } catch {
      throw new DomainError('import-archive-invalid', `${file} holds an audit event that is not well formed.`);
    }
    const broken = this.collector.push(parsed);
    if (broken && !broken.intact) {
      throw new DomainError(
        'import-archive-invalid',
        `${file}: the audit chain of tenant ${parsed.tenantId} is broken (${broken.problem}): ${broken.detail}.`,
      );
    }
  }
}
