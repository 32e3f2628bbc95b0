/**
 * The scheduler's side of background exports (export-service.ts): over every tenant, a running export
 * whose process stopped sending heartbeats is declared interrupted (its partial archive removed), and
 * a completed archive past its published lifetime is deleted (the job row says `expired`).
 */
import type { Job, JobContext, JobSummary } from '../jobs/job.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { ExportService } from './export-service.js';

export class ExportMaintenanceJob implements Job {
  readonly name = 'export.maintain';

  constructor(
    private readonly tenants: TenantService,
    private readonly exports: ExportService,
  ) {}

  async run(context: JobContext): Promise<JobSummary> {
    const summary = { tenants: 0, interrupted: 0, expired: 0 };
    // Every tenant the directory lists (purged ones are not): also those in retention, whose export jobs stay writable.
    for (const tenant of await this.tenants.list()) {
      const sweep = await this.exports.sweep(tenant.id, context.now);
      summary.tenants++;
      summary.interrupted += sweep.interrupted;
      summary.expired += sweep.expired;
    }
    return summary;
  }
}
