/**
 * `custos keys rotate`: gives a tenant a new data key version and re-encrypts its sensitive values
 * (devices, users, enrollment tokens, Apple enrollments, audit events own and imported) under it,
 * without downtime. New writes use the new version at once; reads accept every version
 * still in the key store, so values not yet re-encrypted stay readable. Once every value is under
 * the new version the old versions are deleted — from then on, a copy of an old value (a backup
 * taken before the rotation) cannot be decrypted with the live keys.
 *
 * Other processes cache key versions for at most `KEY_CACHE_MS` and re-read them when they meet an
 * unknown version; the rotation waits that long (`settleMs`) after adding the version and before
 * re-encrypting, so by then every process writes the new version and searches under both, and a
 * final sweep re-encrypts anything written under the old one before the old key is deleted.
 */
import { authorize, type Actor } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { TenantKeys } from './tenant-keys.js';

export interface RotationReport {
  tenantId: string;
  keyVersion: number;
  retiredVersions: number;
  devicesScanned: number;
  usersScanned: number;
  enrollmentTokensScanned: number;
  appleEnrollmentsScanned: number;
  auditEventsScanned: number;
  importedAuditEventsScanned: number;
  /** Rows (of every table above) whose values were rewritten under the new version. */
  valuesReencrypted: number;
}

type Batch = { lastId: string | null; scanned: number; rewritten: number };
type BatchSource = (afterId: string | null, limit: number) => Promise<Batch>;

export class KeyRotationService {
  constructor(
    private readonly tenants: TenantService,
    private readonly keys: TenantKeys,
    private readonly clock: Clock,
  ) {}

  async rotate(actor: Actor, tenantId: string, options: { batchSize?: number; settleMs?: number } = {}): Promise<RotationReport> {
    authorize(actor, 'tenant.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const batchSize = options.batchSize ?? 500;
    const cipher = await this.keys.addVersion(tenantId);
    // Let every process learn the new version first: from then on all of them write it and look
    // values up under both versions, so the passes below race with nobody.
    if ((options.settleMs ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    const scanned = { devices: 0, users: 0, enrollmentTokens: 0, appleEnrollments: 0, auditEvents: 0, importedAuditEvents: 0 };
    const tables: Record<keyof typeof scanned, BatchSource> = {
      devices: (afterId, limit) => data.devices.reencryptBatch(afterId, limit),
      users: (afterId, limit) => data.users.reencryptBatch(afterId, limit),
      enrollmentTokens: (afterId, limit) => data.enrollmentTokens.reencryptBatch(afterId, limit),
      appleEnrollments: (afterId, limit) => data.appleMdm.reencryptEnrollmentBatch(afterId, limit),
      auditEvents: (afterSequence, limit) => data.audit.reencryptBatch(afterSequence, limit),
      importedAuditEvents: (afterPosition, limit) => data.importedAudit.reencryptBatch(afterPosition, limit),
    };
    const pass = async (next: BatchSource): Promise<{ scanned: number; rewritten: number }> => {
      let afterId: string | null = null;
      let scanned = 0;
      let rewritten = 0;
      for (;;) {
        const batch = await next(afterId, batchSize);
        scanned += batch.scanned;
        rewritten += batch.rewritten;
        if (batch.scanned < batchSize) return { scanned, rewritten };
        afterId = batch.lastId;
      }
    };
    let rewritten = 0;
    for (const [table, next] of Object.entries(tables) as [keyof typeof tables, BatchSource][]) {
      const first = await pass(next);
      // A sweep for values written under the old version while the first pass ran (a process whose
      // cache outlived the settle time); none is expected.
      const sweep = await pass(next);
      scanned[table] = first.scanned;
      rewritten += first.rewritten + sweep.rewritten;
    }
    const retiredVersions = await this.keys.retireVersionsBefore(tenantId, cipher.currentVersion);
    const report: RotationReport = {
      tenantId,
      keyVersion: cipher.currentVersion,
      retiredVersions,
      devicesScanned: scanned.devices,
      usersScanned: scanned.users,
      enrollmentTokensScanned: scanned.enrollmentTokens,
      appleEnrollmentsScanned: scanned.appleEnrollments,
      auditEventsScanned: scanned.auditEvents,
      importedAuditEventsScanned: scanned.importedAuditEvents,
      valuesReencrypted: rewritten,
    };
    await recordAudit(data, actor, this.clock, {
      activity: 'Rotate tenant data key',
      category: 'Tenant',
      operation: 'update',
      targets: [
        {
          type: 'Tenant',
          id: tenantId,
          modifiedProperties: [
            { name: 'keyVersion', oldValue: String(cipher.currentVersion - 1), newValue: String(cipher.currentVersion) },
          ],
        },
      ],
    });
    return report;
  }
}
