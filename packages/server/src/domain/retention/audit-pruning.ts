/**
 * Pruning the audit log without breaking `custos audit verify` (SPEC §9: kept one year by default).
 * The oldest events are deleted as a prefix of the chain; the last deleted event's sequence and hash
 * become the tenant's checkpoint, from which verification continues; and the prune itself is an
 * event in the chain naming that checkpoint (target `auditCheckpoint`, id = sequence, name = hash).
 * Moving the checkpoint to hide further deletions therefore means altering a chained event, which
 * verification detects.
 */
import type { ChainedAuditEvent } from '../audit/audit-chain.js';
import type { AuditCheckpoint } from './retention-store.js';

export const AUDIT_PRUNE_ACTIVITY = 'Prune audit events';

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
