/**
 * The scheduled Apple MDM work (SPEC §7), each run over every tenant:
 *
 * - inventory: Apple devices report nothing on their own, so the devices whose last inventory
 *   request is older than the tenant's check-in interval get DeviceInformation, SecurityInfo and
 *   the app list queued, and a push;
 * - identity renewal: devices whose identity certificate ends soon get a renewal profile
 *   (AppleMdmService.renewIdentities).
 */
import type { Job, JobContext, JobSummary } from '../jobs/job.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { AppleMdmService } from './apple-mdm-service.js';

abstract class PerTenantAppleJob implements Job {
  abstract readonly name: string;
  abstract readonly intervalSeconds: number;

  constructor(
    private readonly tenants: TenantService,
    protected readonly appleMdm: AppleMdmService,
  ) {}

  protected abstract runFor(data: TenantData, now: number): Promise<number>;

  async run(context: JobContext): Promise<JobSummary> {
    let queued = 0;
    const tenants = await this.tenants.list();
    for (const tenant of tenants) queued += await this.runFor(this.tenants.dataOf(tenant), context.now);
    return { tenants: tenants.length, queued };
  }
}

export class AppleInventoryRefreshJob extends PerTenantAppleJob {
  readonly name = 'apple-mdm-inventory-refresh';
  readonly intervalSeconds = 15 * 60;

  protected runFor(data: TenantData, now: number): Promise<number> {
    return this.appleMdm.refreshInventories(data, now);
  }
}

export class AppleIdentityRenewalJob extends PerTenantAppleJob {
  readonly name = 'apple-mdm-identity-renewal';
  readonly intervalSeconds = 6 * 60 * 60;

  protected runFor(data: TenantData, now: number): Promise<number> {
    return this.appleMdm.renewIdentities(data, now);
  }
}
