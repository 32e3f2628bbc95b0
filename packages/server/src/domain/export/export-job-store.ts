/**
 * Export jobs of `POST /api/v1/exports` (export-service.ts): one row per job with its progress. A
 * running job's process records a heartbeat as it goes, so a job whose process died is told apart
 * (`failed`, error code `interrupted`); a completed archive lives until `expiresAt` (then `expired`).
 */
import { DEFAULT_EXPORT_ARCHIVE_DAYS } from '@custos/shared';

/** Options of background exports (README "Configuration"). */
export interface ExportJobOptions {
  /** Days a completed archive is kept before it is deleted (CUSTOS_EXPORT_ARCHIVE_DAYS). */
  archiveLifetimeDays: number;
  /** A running job without a heartbeat for this long is declared interrupted (CUSTOS_EXPORT_STALE_SECONDS). */
  staleAfterSeconds: number;
}

export const DEFAULT_EXPORT_JOB_OPTIONS: ExportJobOptions = { archiveLifetimeDays: DEFAULT_EXPORT_ARCHIVE_DAYS, staleAfterSeconds: 120 };

export type ExportStatus = 'running' | 'completed' | 'failed' | 'expired';

/** Why a job failed, for clients: `interrupted` (its process stopped) or `export-failed` (an error while writing). */
export type ExportErrorCode = 'interrupted' | 'export-failed';

export interface ExportJobRecord {
  id: string;
  status: ExportStatus;
  requestedBy: string;
  createdAt: number;
  finishedAt: number | null;
  entitiesDone: number;
  entitiesTotal: number;
  rowsWritten: number;
  bytes: number | null;
  manifestSha256: string | null;
  error: string | null;
  errorCode: ExportErrorCode | null;
  /** Last sign of life while running (null for jobs recorded before heartbeats existed). */
  heartbeatAt: number | null;
  /** When the completed archive is deleted. */
  expiresAt: number | null;
}

export type ExportJobChanges = Partial<Omit<ExportJobRecord, 'id' | 'requestedBy' | 'createdAt'>>;

export interface ExportJobStore {
  insert(job: ExportJobRecord): Promise<void>;
  get(id: string): Promise<ExportJobRecord | undefined>;
  /** Changes a job that is still `running`; false when it no longer is (finished, or declared interrupted). */
  updateRunning(id: string, changes: ExportJobChanges): Promise<boolean>;
  /** Running jobs whose heartbeat (or, without one, creation) is older than `before`. */
  listStale(before: number): Promise<ExportJobRecord[]>;
  /** Completed jobs whose archive's lifetime ended at or before `now`. */
  listExpired(now: number): Promise<ExportJobRecord[]>;
  /** Marks a completed job `expired`; false when it was not `completed` any more. */
  markExpired(id: string): Promise<boolean>;
}
