/**
 * Leases that make a job run in exactly one process per period when several processes share the
 * directory database (PostgreSQL). One row per job; implemented in storage/ with a conditional upsert.
 */

export interface JobLease {
  name: string;
  holder: string;
  periodStart: number;
  expiresAt: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
}

export interface JobLeaseStore {
  /**
   * Takes the lease of job `name` for the period starting at `periodStart`, until `expiresAt`: only
   * when no process has taken it for this period (or a later one) and the last holder's lease has
   * expired or was released (`expires_at <= now`). One statement, so of several processes asking at
   * once exactly one gets it. Returns the last successful run's time, or undefined when not taken.
   */
  acquire(
    name: string,
    holder: string,
    periodStart: number,
    now: number,
    expiresAt: number,
  ): Promise<{ previousSuccessAt: number | null } | undefined>;
  /** Ends the holder's lease at `finishedAt` and records the outcome (`ranAt`: the run's `now`). */
  release(
    name: string,
    holder: string,
    periodStart: number,
    finishedAt: number,
    outcome: { succeeded: boolean; ranAt: number },
  ): Promise<void>;
  list(): Promise<JobLease[]>;
}
