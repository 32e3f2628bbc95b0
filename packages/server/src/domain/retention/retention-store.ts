/** What the retention rules (shared/src/retention.ts) read and delete in a tenant's region store. */
import type { ImportedChainCheckpoint } from '../audit/imported-audit.js';

export interface AuditCheckpoint {
  /** The last pruned event: verification of the remaining chain starts after it. */
  sequence: number;
  hash: string;
  prunedEvents: number;
  prunedAt: number;
}

/** Where a pruned imported chain (domain/audit/imported-audit.ts) resumes. */
export interface ImportedAuditCheckpoint extends ImportedChainCheckpoint {
  prunedEvents: number;
  prunedAt: number;
}

export interface RetentionStore {
  staleDeviceDays(): Promise<number | null>;
  setStaleDeviceDays(days: number | null, at: number): Promise<void>;
  /** Active devices whose last check-in (or enrollment, if they never checked in) is before `before`. */
  staleDeviceIds(before: number, limit: number): Promise<string[]>;
  /** Deletes finished commands (acknowledged, error, expired) last changed before `before`; returns how many. */
  pruneFinishedCommands(before: number): Promise<number>;
  auditCheckpoint(): Promise<AuditCheckpoint | undefined>;
  /** The newest event that occurred before `before` (the end of the prunable prefix), if any. */
  lastAuditEventBefore(before: number): Promise<{ sequence: number; hash: string } | undefined>;
  /** Deletes events up to and including `checkpoint.sequence` and records the checkpoint; returns how many. */
  pruneAuditThrough(checkpoint: Omit<AuditCheckpoint, 'prunedEvents'>): Promise<number>;
  importedAuditCheckpoints(): Promise<ImportedAuditCheckpoint[]>;
  /** Per imported chain, its newest event that occurred before `before` (the end of its prunable prefix). */
  lastImportedAuditEventsBefore(before: number): Promise<ImportedChainCheckpoint[]>;
  /** Deletes the chain's events up to and including `checkpoint.sequence` and records the checkpoint; returns how many. */
  pruneImportedAuditThrough(checkpoint: Omit<ImportedAuditCheckpoint, 'prunedEvents'>): Promise<number>;
}
