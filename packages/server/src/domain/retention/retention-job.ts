/** The daily retention run over every tenant that may still change (not in read-only retention). */
import type { Actor } from '../access/authorize.js';
import type { Job, JobContext, JobSummary } from '../jobs/job.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { RetentionService } from './retention-service.js';

const SCHEDULER: Actor = { type: 'system', id: 'scheduler', name: 'retention' };

export class RetentionJob implements Job {
  readonly name = 'retention.apply';
  readonly intervalSeconds = 24 * 60 * 60;

  constructor(
    private readonly tenants: TenantService,
    private readonly retention: RetentionService,
  ) {}

  async run(context: JobContext): Promise<JobSummary> {
    const summary = { tenants: 0, devicesRetired: 0, commandsPruned: 0, auditEventsPruned: 0, importedAuditEventsPruned: 0 };
    for (const tenant of await this.tenants.list()) {
      // A tenant in retention is read-only until its purge; its rows go then, all at once.
      if (tenant.subscriptionState === 'retention' || tenant.subscriptionState === 'purged') continue;
      const run = await this.retention.apply(SCHEDULER, tenant.id, context.now);
      summary.tenants++;
      summary.devicesRetired += run.devicesRetired;
      summary.commandsPruned += run.commandsPruned;
      summary.auditEventsPruned += run.auditEventsPruned;
      summary.importedAuditEventsPruned += run.importedAuditEventsPruned;
    }
    return summary;
  }
}
