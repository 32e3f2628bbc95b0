/**
 * The scheduled inventory of Apple MDM devices (SPEC §7): Apple devices report nothing on their
 * own, so every tenant's devices whose last inventory request is older than the tenant's check-in
 * interval get DeviceInformation, SecurityInfo and the app list queued, and a push.
 */
import type { Job, JobContext, JobSummary } from '../jobs/job.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { AppleMdmService } from './apple-mdm-service.js';

export class AppleInventoryRefreshJob implements Job {
  readonly name = 'apple-mdm-inventory-refresh';
  readonly intervalSeconds = 15 * 60;

  constructor(
    private readonly tenants: TenantService,
    private readonly appleMdm: AppleMdmService,
  ) {}

  async run(context: JobContext): Promise<JobSummary> {
    let queued = 0;
    const tenants = await this.tenants.list();
    for (const tenant of tenants) queued += await this.appleMdm.refreshInventories(this.tenants.dataOf(tenant), context.now);
    return { tenants: tenants.length, queued };
  }
}
