/**
 * The scheduled job that keeps time-dependent compliance current (SPEC §6). Evaluation otherwise
 * runs only when a device checks in with inventory or a policy changes, so this job visits, per
 * tenant and in pages of BATCH device ids (keyset paging, each device in its own short transaction):
 *
 * 1. devices that went silent: for each `maxDaysSinceCheckIn` limit of an assigned policy, the active
 *    devices whose last check-in crossed the limit since the last successful run (all such devices on
 *    the first run), so a device that stops checking in turns non-compliant without checking in;
 * 2. devices with a non-compliance episode whose next action (the end of the grace period included)
 *    is due, or that checked in since their episode was evaluated (a silent device that is back).
 *
 * Each visited device is evaluated and then its due actions run (noncompliance-actions.ts). A device
 * that fails does not stop the others; the run then throws at the end so the scheduler logs it and
 * the next period starts again from the last successful run.
 */
import { DAY_MS, type Platform } from '@custos/shared';
import type { Job, JobContext, JobSummary } from '../jobs/job.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { ComplianceService } from './compliance-service.js';
import type { NoncomplianceActions } from './noncompliance-actions.js';

export const COMPLIANCE_JOB_NAME = 'compliance.reevaluate';
const BATCH = 200;
/** Re-reads a little before the last run's window, so a device on the boundary is not missed. */
const WINDOW_OVERLAP_MS = 60 * 60 * 1000;

interface Counts {
  evaluated: number;
  actions: number;
  failed: number;
  /** The first failure's message, for the scheduler's log line. */
  firstError?: string;
}

export class ComplianceReevaluationJob implements Job {
  readonly name = COMPLIANCE_JOB_NAME;

  constructor(
    private readonly tenants: TenantService,
    private readonly compliance: ComplianceService,
    private readonly actions: NoncomplianceActions,
  ) {}

  async run({ now, previousSuccessAt }: JobContext): Promise<JobSummary> {
    const counts: Counts = { evaluated: 0, actions: 0, failed: 0 };
    const tenants = await this.tenants.list();
    for (const tenant of tenants) {
      // A tenant in retention is read-only until its purge (domain/lifecycle/): nothing to evaluate.
      if (tenant.subscriptionState === 'retention') continue;
      const data = this.tenants.dataOf(tenant);
      for (const [maxDays, platform] of await silenceLimits(data)) {
        const crossedAt = now - (maxDays + 1) * DAY_MS;
        const from = previousSuccessAt === null ? null : previousSuccessAt - (maxDays + 1) * DAY_MS - WINDOW_OVERLAP_MS;
        await this.visitPages(data, counts, (after) =>
          data.complianceEpisodes.listDevicesCheckedInBetween(from, crossedAt, platform, after, BATCH),
        );
      }
      await this.visitPages(data, counts, (after) => data.complianceEpisodes.listDevicesToRevisit(now, after, BATCH));
    }
    if (counts.failed > 0) {
      throw new Error(
        `${counts.failed} device(s) could not be evaluated or acted on (${counts.evaluated} were; first: ${counts.firstError ?? '?'}).`,
      );
    }
    return { tenants: tenants.length, evaluated: counts.evaluated, actions: counts.actions };
  }

  private async visitPages(data: TenantData, counts: Counts, page: (after: string | null) => Promise<string[]>): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const ids = await page(after);
      for (const id of ids) {
        try {
          await this.compliance.evaluateDevice(data, id);
          counts.evaluated++;
          counts.actions += await this.actions.runDue(data, id);
        } catch (error) {
          counts.failed++;
          counts.firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        }
      }
      if (ids.length < BATCH) return;
      after = ids[ids.length - 1] ?? null;
    }
  }
}

/**
 * The distinct `maxDaysSinceCheckIn` limits of the tenant's assigned policies, each with the platform
 * it concerns (null: every platform), so a device is visited once per limit at most.
 */
async function silenceLimits(data: TenantData): Promise<[number, Platform | null][]> {
  const limits = new Map<number, Set<Platform | null>>();
  for (const policy of await data.compliancePolicies.list()) {
    const maxDays = policy.settings.maxDaysSinceCheckIn;
    if (maxDays === undefined || !policy.assignments.some((a) => a.mode === 'include')) continue;
    limits.set(maxDays, (limits.get(maxDays) ?? new Set()).add(policy.platform));
  }
  const pairs: [number, Platform | null][] = [];
  for (const [maxDays, platforms] of limits) {
    if (platforms.has(null)) pairs.push([maxDays, null]);
    else for (const platform of platforms) pairs.push([maxDays, platform]);
  }
  return pairs;
}
