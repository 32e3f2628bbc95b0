/** The scheduler's lifecycle tick: the same due transitions as `custos lifecycle tick`, every period. */
import type { Actor } from '../access/authorize.js';
import type { Job, JobContext, JobSummary } from '../jobs/job.js';
import type { LifecycleService } from './lifecycle-service.js';

const SCHEDULER: Actor = { type: 'system', id: 'scheduler', name: 'lifecycle tick' };

export class LifecycleTickJob implements Job {
  readonly name = 'lifecycle.tick';
  /** Transitions are due by the day; hourly is prompt enough and cheap (one directory scan). */
  readonly intervalSeconds = 3600;

  constructor(private readonly lifecycle: LifecycleService) {}

  async run(context: JobContext): Promise<JobSummary> {
    const applied = await this.lifecycle.tick(SCHEDULER, context.now);
    return {
      transitions: applied.length,
      purged: applied.filter((t) => t.to === 'purged').length,
      mailFailures: applied.filter((t) => t.mail.startsWith('failed')).length,
    };
  }
}
