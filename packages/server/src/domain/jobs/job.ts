/**
 * A named periodic job run by `JobScheduler` inside `custos serve` (and by `custos jobs run`). A job
 * must be safe to run again: a run that throws is retried in the next period, and a process that dies
 * mid-run leaves the job to the next holder of its lease.
 */

export interface JobContext {
  /** The scheduler's clock at the start of this run. */
  now: number;
  /** `now` of the last run that finished without throwing, in any process; null before the first. */
  previousSuccessAt: number | null;
}

/** Counts a run reports (devices evaluated, actions taken, …), printed by `custos jobs run --json`. */
export type JobSummary = Record<string, number>;

export interface Job {
  /** Stable and unique: it names the job's lease row, its log lines and its CLI output. */
  readonly name: string;
  /** The job's period; the scheduler's configured interval when absent. */
  readonly intervalSeconds?: number;
  run(context: JobContext): Promise<JobSummary | void>;
}

/** The part of a pino logger the scheduler uses; the domain names no logging library. */
export interface JobLogger {
  /** A run that finished: routine, so below `info` (every job, every period). */
  debug(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}
