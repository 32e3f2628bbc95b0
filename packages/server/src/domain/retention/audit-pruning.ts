/**
 * Pruning the audit log without breaking `custos audit verify` (SPEC §9: kept one year by default).
 * The oldest events are deleted as a prefix of the chain; the last deleted event's sequence and hash
 * become the tenant's checkpoint, from which verification continues; and the prune itself is an
 * event in the chain naming that checkpoint (target `auditCheckpoint`, id = sequence, name = hash).
 * Moving the checkpoint to hide further deletions therefore means altering a chained event, which
 * verification detects.
 *
 * Imported chains (domain/audit/imported-audit.ts) are pruned by the same rule, each behind its own
 * checkpoint. Every imported prune event names all the tenant's imported checkpoints, so the newest
 * one is the record verification checks them against; when that event itself is about to age out of
 * the log, the run records them again.
 */
import type { ChainedAuditEvent } from '../audit/audit-chain.js';
import type { AuditStore } from '../audit/audit-log.js';
import type { ImportedChainCheckpoint } from '../audit/imported-audit.js';
import type { AuditCheckpoint, ImportedAuditCheckpoint } from './retention-store.js';

export const AUDIT_PRUNE_ACTIVITY = 'Prune audit events';
export const IMPORTED_AUDIT_PRUNE_ACTIVITY = 'Prune imported audit events';
const IMPORTED_CHECKPOINT = 'importedAuditCheckpoint';

export function checkpointTarget(checkpoint: Pick<AuditCheckpoint, 'sequence' | 'hash'>, prunedEvents: number) {
  return {
    type: 'auditCheckpoint',
    id: String(checkpoint.sequence),
    name: checkpoint.hash,
    modifiedProperties: [{ name: 'prunedEvents', oldValue: null, newValue: prunedEvents }],
  };
}

export function attestsCheckpoint(event: ChainedAuditEvent, checkpoint: Pick<AuditCheckpoint, 'sequence' | 'hash'>): boolean {
  return event.targets.some((t) => t.type === 'auditCheckpoint' && t.id === String(checkpoint.sequence) && t.name === checkpoint.hash);
}

/** A target naming one imported chain's checkpoint: id = source tenant id, name = hash. */
export function importedCheckpointTarget(checkpoint: ImportedAuditCheckpoint) {
  return {
    type: IMPORTED_CHECKPOINT,
    id: checkpoint.sourceTenantId,
    name: checkpoint.hash,
    modifiedProperties: [
      { name: 'sequence', oldValue: null, newValue: checkpoint.sequence },
      { name: 'prunedEvents', oldValue: null, newValue: checkpoint.prunedEvents },
    ],
  };
}

/** The imported checkpoints the newest imported prune event of the tenant's log records. */
export async function recordedImportedCheckpoints(audit: AuditStore): Promise<ImportedChainCheckpoint[]> {
  const [event] = await audit.list({ activity: IMPORTED_AUDIT_PRUNE_ACTIVITY }, { limit: 1 });
  return (event?.targets ?? [])
    .filter((t) => t.type === IMPORTED_CHECKPOINT)
    .map((t) => ({
      sourceTenantId: t.id,
      sequence: Number(t.modifiedProperties?.find((p) => p.name === 'sequence')?.newValue),
      hash: t.name ?? '',
    }));
}
