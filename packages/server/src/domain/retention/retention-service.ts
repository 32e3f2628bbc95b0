/**
 * The retention rules (shared/src/retention.ts) applied to one tenant, and the tenant's one setting:
 * stale-device cleanup (off by default; 30–270 days without a check-in retires the device), audit
 * events (the tenant's own and the imported chains) pruned after a year behind checkpoints
 * (audit-pruning.ts), finished device commands deleted 90 days after they finished. Every deletion
 * is itself in the audit log.
 */
import {
  AUDIT_RETENTION_DAYS,
  COMMAND_RESULT_RETENTION_DAYS,
  RETENTION_RULES,
  STALE_DEVICE_DAYS_MAX,
  STALE_DEVICE_DAYS_MIN,
  type RetentionRuleDeclaration,
} from '@custos/shared';
import { authorize, type Actor } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { DeviceService } from '../devices/device-service.js';
import { DAY_MS } from '../lifecycle/lifecycle.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { AUDIT_PRUNE_ACTIVITY, checkpointTarget, IMPORTED_AUDIT_PRUNE_ACTIVITY, importedCheckpointTarget } from './audit-pruning.js';

export interface RetentionSettings {
  staleDeviceDays: number | null;
  rules: readonly RetentionRuleDeclaration[];
}

export interface RetentionRun {
  devicesRetired: number;
  commandsPruned: number;
  auditEventsPruned: number;
  importedAuditEventsPruned: number;
}

/** Devices retired per tenant per run: a large backlog is worked off over several runs. */
const STALE_BATCH = 500;

export class RetentionService {
  constructor(
    private readonly tenants: TenantService,
    private readonly devices: DeviceService,
    private readonly clock: Clock,
    /** The rules as this deployment runs them (the export archive lifetime is configurable). */
    private readonly rules: readonly RetentionRuleDeclaration[] = RETENTION_RULES,
  ) {}

  async settings(actor: Actor, tenantId: string): Promise<RetentionSettings> {
    authorize(actor, 'tenant.read', { tenantId });
    const data = await this.tenants.data(tenantId);
    return { staleDeviceDays: await data.retention.staleDeviceDays(), rules: this.rules };
  }

  async setStaleDeviceDays(actor: Actor, tenantId: string, days: number | null): Promise<RetentionSettings> {
    authorize(actor, 'tenant.write', { tenantId });
    if (days !== null && !(Number.isInteger(days) && days >= STALE_DEVICE_DAYS_MIN && days <= STALE_DEVICE_DAYS_MAX)) {
      throw new DomainError(
        'validation-failed',
        `staleDeviceDays must be a whole number from ${STALE_DEVICE_DAYS_MIN} to ${STALE_DEVICE_DAYS_MAX}, or null (off).`,
      );
    }
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      const before = await trx.retention.staleDeviceDays();
      await trx.retention.setStaleDeviceDays(days, this.clock.now());
      await recordAudit(trx, actor, this.clock, {
        activity: 'Update retention settings',
        category: 'Tenant',
        operation: 'update',
        targets: [{ type: 'tenant', id: tenantId, modifiedProperties: [{ name: 'staleDeviceDays', oldValue: before, newValue: days }] }],
      });
    });
    return { staleDeviceDays: days, rules: this.rules };
  }

  /** Applies every rule to one tenant at `now`. */
  async apply(actor: Actor, tenantId: string, now = this.clock.now()): Promise<RetentionRun> {
    const data = await this.tenants.data(tenantId);
    const run: RetentionRun = { devicesRetired: 0, commandsPruned: 0, auditEventsPruned: 0, importedAuditEventsPruned: 0 };

    const staleDays = await data.retention.staleDeviceDays();
    if (staleDays !== null) {
      // Each retirement is audited by the device service, like an admin's.
      for (const id of await data.retention.staleDeviceIds(now - staleDays * DAY_MS, STALE_BATCH)) {
        await this.devices.retire(actor, tenantId, id);
        run.devicesRetired++;
      }
    }

    await data.transaction(async (trx) => {
      run.commandsPruned = await trx.retention.pruneFinishedCommands(now - COMMAND_RESULT_RETENTION_DAYS * DAY_MS);
      if (run.commandsPruned === 0) return;
      await recordAudit(trx, actor, this.clock, {
        activity: 'Prune command results',
        category: 'Retention',
        operation: 'delete',
        targets: [
          { type: 'deviceCommands', id: tenantId, modifiedProperties: [{ name: 'deleted', oldValue: null, newValue: run.commandsPruned }] },
        ],
      });
    });

    const auditCutoff = now - AUDIT_RETENTION_DAYS * DAY_MS;
    await data.transaction(async (trx) => {
      let pruned = 0;
      for (const last of await trx.retention.lastImportedAuditEventsBefore(auditCutoff)) {
        pruned += await trx.retention.pruneImportedAuditThrough({ ...last, prunedAt: now });
      }
      const checkpoints = await trx.retention.importedAuditCheckpoints();
      if (checkpoints.length === 0) return;
      // Nothing pruned: record the checkpoints again only if their record is about to be pruned below.
      const [recorded] = await trx.audit.list({ activity: IMPORTED_AUDIT_PRUNE_ACTIVITY }, { limit: 1 });
      if (pruned === 0 && recorded && recorded.occurredAt >= auditCutoff) return;
      run.importedAuditEventsPruned = pruned;
      await recordAudit(trx, actor, this.clock, {
        activity: IMPORTED_AUDIT_PRUNE_ACTIVITY,
        category: 'Retention',
        operation: 'delete',
        targets: checkpoints.map(importedCheckpointTarget),
      });
    });

    await data.transaction(async (trx) => {
      const last = await trx.retention.lastAuditEventBefore(auditCutoff);
      if (!last) return;
      run.auditEventsPruned = await trx.retention.pruneAuditThrough({ sequence: last.sequence, hash: last.hash, prunedAt: now });
      await recordAudit(trx, actor, this.clock, {
        activity: AUDIT_PRUNE_ACTIVITY,
        category: 'Retention',
        operation: 'delete',
        targets: [checkpointTarget(last, run.auditEventsPruned)],
      });
    });
    return run;
  }
}
