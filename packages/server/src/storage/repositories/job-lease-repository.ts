/**
 * Job leases in the global directory (global migration 0002). `acquire` is one
 * `INSERT … ON CONFLICT (name) DO UPDATE … WHERE` statement: on PostgreSQL a concurrent second
 * statement waits for the first's row lock and then finds the condition false; SQLite runs one writer
 * at a time. Either way exactly one caller gets a row back.
 */
import type { Kysely } from 'kysely';
import type { JobLease, JobLeaseStore } from '../../domain/jobs/job-lease-store.js';
import type { GlobalDatabase } from '../database.js';

export class JobLeaseRepository implements JobLeaseStore {
  constructor(private readonly db: Kysely<GlobalDatabase>) {}

  async acquire(
    name: string,
    holder: string,
    periodStart: number,
    now: number,
    expiresAt: number,
  ): Promise<{ previousSuccessAt: number | null } | undefined> {
    const row = await this.db
      .insertInto('job_leases')
      .values({ name, holder, period_start: periodStart, expires_at: expiresAt, last_success_at: null, last_failure_at: null })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder, period_start: periodStart, expires_at: expiresAt })
          .where('job_leases.period_start', '<', periodStart)
          .where('job_leases.expires_at', '<=', now),
      )
      .returning('last_success_at')
      .executeTakeFirst();
    return row && { previousSuccessAt: row.last_success_at };
  }

  async release(
    name: string,
    holder: string,
    periodStart: number,
    finishedAt: number,
    outcome: { succeeded: boolean; ranAt: number },
  ): Promise<void> {
    await this.db
      .updateTable('job_leases')
      .set(
        outcome.succeeded
          ? { expires_at: finishedAt, last_success_at: outcome.ranAt }
          : { expires_at: finishedAt, last_failure_at: outcome.ranAt },
      )
      .where('name', '=', name)
      .where('holder', '=', holder)
      .where('period_start', '=', periodStart)
      .execute();
  }

  async list(): Promise<JobLease[]> {
    const rows = await this.db.selectFrom('job_leases').selectAll().orderBy('name').execute();
    return rows.map((r) => ({
      name: r.name,
      holder: r.holder,
      periodStart: r.period_start,
      expiresAt: r.expires_at,
      lastSuccessAt: r.last_success_at,
      lastFailureAt: r.last_failure_at,
    }));
  }
}
