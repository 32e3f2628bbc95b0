/**
 * Runs the registered jobs periodically inside `custos serve`, and once on demand (`custos jobs run`).
 *
 * Time is divided into periods of each job's interval, counted on the injected `Clock` (so tests and
 * `--now` move it). A job is due when no process has run it in the current period; before running it
 * the scheduler takes the job's lease (`JobLeaseStore.acquire`), so of several processes sharing one
 * PostgreSQL directory exactly one runs it per period, and a run still going when the next period
 * starts is not doubled. A run that throws is logged (job name and error, never data) and the lease
 * released, so the job is retried in the next period. On SQLite the same code serves one process.
 */
import type { Clock } from '../clock.js';
import type { Job, JobLogger, JobSummary } from './job.js';
import type { JobLeaseStore } from './job-lease-store.js';
import type { JobRegistry } from './job-registry.js';

export const DEFAULT_JOB_INTERVAL_SECONDS = 60;
/** How long a lease protects a run from a second process; a process that dies holds its job this long at most. */
const MIN_LEASE_MS = 10 * 60 * 1000;

export interface JobRunReport {
  job: string;
  /** `notDue`: already run in this period (by this or another process), or running elsewhere. */
  status: 'succeeded' | 'failed' | 'notDue';
  startedAt: number;
  finishedAt: number;
  summary?: JobSummary;
  /** For `failed`: the error's name and message. */
  error?: string;
}

export interface JobSchedulerOptions {
  intervalSeconds: number;
  /** Names this process in the lease rows (host, pid and a random part). */
  holder: string;
}

/** The error as a log line may carry it: its kind, code and message; no stack, no properties. */
function describeError(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: 'NonError', message: String(error).slice(0, 500) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message.slice(0, 500) };
}

export class JobScheduler {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly registry: JobRegistry,
    private readonly leases: JobLeaseStore,
    private readonly clock: Clock,
    private readonly log: JobLogger,
    private readonly options: JobSchedulerOptions,
  ) {
    if (!(Number.isInteger(options.intervalSeconds) && options.intervalSeconds >= 1)) {
      throw new Error('The job interval must be a whole number of seconds, at least 1.');
    }
  }

  /** Runs every job that is due now, one after another; returns what each did. */
  async runDue(): Promise<JobRunReport[]> {
    const reports: JobRunReport[] = [];
    for (const job of this.registry.list()) reports.push(await this.runIfDue(job));
    return reports;
  }

  /** Ticks at once and then every interval until `stop`; a tick still running is not overlapped. */
  start(): void {
    if (this.timer || this.stopped) return;
    const tick = () => {
      if (this.stopped || this.inFlight) return;
      this.inFlight = this.runDue()
        .catch((error: unknown) => this.log.error({ error: describeError(error) }, 'job scheduler tick failed'))
        .finally(() => {
          this.inFlight = undefined;
        });
    };
    this.timer = setInterval(tick, this.options.intervalSeconds * 1000);
    this.timer.unref();
    setImmediate(tick);
  }

  /** Stops ticking and waits for a run in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private async runIfDue(job: Job): Promise<JobRunReport> {
    const intervalMs = (job.intervalSeconds ?? this.options.intervalSeconds) * 1000;
    const startedAt = this.clock.now();
    const periodStart = Math.floor(startedAt / intervalMs) * intervalMs;
    const lease = await this.leases.acquire(
      job.name,
      this.options.holder,
      periodStart,
      startedAt,
      startedAt + Math.max(intervalMs, MIN_LEASE_MS),
    );
    if (!lease) return { job: job.name, status: 'notDue', startedAt, finishedAt: startedAt };
    let report: JobRunReport;
    try {
      const summary = await job.run({ now: startedAt, previousSuccessAt: lease.previousSuccessAt });
      report = { job: job.name, status: 'succeeded', startedAt, finishedAt: this.clock.now(), ...(summary ? { summary } : {}) };
      this.log.debug({ job: job.name, durationMs: report.finishedAt - startedAt, ...(summary ? { summary } : {}) }, 'job finished');
    } catch (error) {
      const described = describeError(error);
      report = {
        job: job.name,
        status: 'failed',
        startedAt,
        finishedAt: this.clock.now(),
        error: `${described.name}: ${described.message}`,
      };
      this.log.error({ job: job.name, error: described }, 'job failed; it runs again next period');
    }
    await this.leases.release(job.name, this.options.holder, periodStart, report.finishedAt, {
      succeeded: report.status === 'succeeded',
      ranAt: startedAt,
    });
    return report;
  }
}
