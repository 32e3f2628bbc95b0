/**
 * Non-compliance episodes and the retire list (migration 0005). An episode's `runs` is JSON text;
 * every write of an episode raises its `version`, and an update names the version it read, so two
 * processes cannot both claim the same action.
 */
import type { Kysely } from 'kysely';
import type { CipherSource } from '../../domain/encryption/tenant-cipher.js';
import { cipherFor, openDeviceValues } from './sensitive-device-columns.js';
import type { ActionRun, NoncomplianceActionType, Platform } from '@custos/shared';
import type {
  NoncomplianceEpisodeRecord,
  NoncomplianceEpisodeStore,
  RetireListRecord,
  RetireListStore,
} from '../../domain/compliance/noncompliance-store.js';
import type { ComplianceEpisodeTable, RegionDatabase } from '../database.js';

function toEpisode(row: ComplianceEpisodeTable): NoncomplianceEpisodeRecord {
  return {
    deviceId: row.device_id,
    policyId: row.policy_id,
    noncompliantSince: row.noncompliant_since,
    runs: JSON.parse(row.runs) as Partial<Record<NoncomplianceActionType, ActionRun>>,
    nextDueAt: row.next_due_at,
    evaluatedAt: row.evaluated_at,
    version: row.version,
  };
}

export class NoncomplianceEpisodeRepository implements NoncomplianceEpisodeStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async listForDevice(deviceId: string): Promise<NoncomplianceEpisodeRecord[]> {
    const rows = await this.db
      .selectFrom('compliance_episodes')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .orderBy('policy_id')
      .execute();
    return rows.map(toEpisode);
  }

  async insert(e: NoncomplianceEpisodeRecord): Promise<void> {
    await this.db
      .insertInto('compliance_episodes')
      .values({
        tenant_id: this.tenantId,
        device_id: e.deviceId,
        policy_id: e.policyId,
        noncompliant_since: e.noncompliantSince,
        runs: JSON.stringify(e.runs),
        next_due_at: e.nextDueAt,
        evaluated_at: e.evaluatedAt,
        version: e.version,
      })
      .execute();
  }

  async update(e: NoncomplianceEpisodeRecord): Promise<boolean> {
    const result = await this.db
      .updateTable('compliance_episodes')
      .set({ runs: JSON.stringify(e.runs), next_due_at: e.nextDueAt, evaluated_at: e.evaluatedAt, version: e.version })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', e.deviceId)
      .where('policy_id', '=', e.policyId)
      .where('version', '=', e.version - 1)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async endForDevice(deviceId: string, keepPolicyIds: readonly string[]): Promise<string[]> {
    let q = this.db.deleteFrom('compliance_episodes').where('tenant_id', '=', this.tenantId).where('device_id', '=', deviceId);
    if (keepPolicyIds.length > 0) q = q.where('policy_id', 'not in', keepPolicyIds);
    const rows = await q.returning('policy_id').execute();
    return rows.map((r) => r.policy_id);
  }

  async listDevicesToRevisit(now: number, afterDeviceId: string | null, limit: number): Promise<string[]> {
    let q = this.db
      .selectFrom('compliance_episodes as e')
      .innerJoin('device_checkin_state as s', (join) =>
        join.onRef('s.tenant_id', '=', 'e.tenant_id').onRef('s.device_id', '=', 'e.device_id'),
      )
      .select('e.device_id')
      .distinct()
      .where('e.tenant_id', '=', this.tenantId)
      .where((eb) => eb.or([eb('e.next_due_at', '<=', now), eb('s.last_check_in_at', '>', eb.ref('e.evaluated_at'))]));
    if (afterDeviceId !== null) q = q.where('e.device_id', '>', afterDeviceId);
    const rows = await q.orderBy('e.device_id').limit(limit).execute();
    return rows.map((r) => r.device_id);
  }

  async listDevicesCheckedInBetween(
    checkedInAfter: number | null,
    checkedInAtOrBefore: number,
    platform: Platform | null,
    afterDeviceId: string | null,
    limit: number,
  ): Promise<string[]> {
    let q = this.db
      .selectFrom('device_checkin_state')
      .select('device_id')
      .where('tenant_id', '=', this.tenantId)
      .where('active', '=', 1)
      .where('last_check_in_at', '<=', checkedInAtOrBefore);
    if (checkedInAfter !== null) q = q.where('last_check_in_at', '>', checkedInAfter);
    if (platform !== null) q = q.where('platform', '=', platform);
    if (afterDeviceId !== null) q = q.where('device_id', '>', afterDeviceId);
    const rows = await q.orderBy('device_id').limit(limit).execute();
    return rows.map((r) => r.device_id);
  }
}

export class RetireListRepository implements RetireListStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {}

  async add(deviceId: string, policyId: string, at: number): Promise<boolean> {
    const result = await this.db
      .insertInto('compliance_retire_list')
      .values({
        tenant_id: this.tenantId,
        device_id: deviceId,
        policy_id: policyId,
        added_at: at,
        status: 'pending',
        decided_at: null,
        decided_by: null,
      })
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'device_id'])
          .doUpdateSet({ policy_id: policyId, added_at: at, status: 'pending', decided_at: null, decided_by: null })
          .where('compliance_retire_list.status', '<>', 'pending'),
      )
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  private pending() {
    return this.db
      .selectFrom('compliance_retire_list as r')
      .innerJoin('devices as d', (join) => join.onRef('d.tenant_id', '=', 'r.tenant_id').onRef('d.id', '=', 'r.device_id'))
      .innerJoin('compliance_policies as p', (join) => join.onRef('p.tenant_id', '=', 'r.tenant_id').onRef('p.id', '=', 'r.policy_id'))
      .select(['r.device_id', 'd.device_name', 'd.user_email', 'r.policy_id', 'p.name', 'r.added_at'])
      .where('r.tenant_id', '=', this.tenantId)
      .where('r.status', '=', 'pending')
      .where('d.status', '=', 'active');
  }

  async listPending(): Promise<RetireListRecord[]> {
    const rows = await this.pending().orderBy('r.added_at').orderBy('r.device_id').execute();
    const cipher = await cipherFor(this.cipher, rows);
    return rows.map((row) => toRetireListRecord(openDeviceValues(cipher, row)));
  }

  async getPending(deviceId: string): Promise<RetireListRecord | undefined> {
    const row = await this.pending().where('r.device_id', '=', deviceId).executeTakeFirst();
    return row && toRetireListRecord(openDeviceValues(await cipherFor(this.cipher, [row]), row));
  }

  async decide(deviceId: string, decision: 'confirmed' | 'dismissed', by: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('compliance_retire_list')
      .set({ status: decision, decided_at: at, decided_by: by })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async removePending(deviceId: string, policyIds: readonly string[]): Promise<void> {
    if (policyIds.length === 0) return;
    await this.db
      .deleteFrom('compliance_retire_list')
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .where('policy_id', 'in', policyIds)
      .where('status', '=', 'pending')
      .execute();
  }
}

function toRetireListRecord(row: {
  device_id: string;
  device_name: string | null;
  user_email: string | null;
  policy_id: string;
  name: string;
  added_at: number;
}): RetireListRecord {
  return {
    deviceId: row.device_id,
    deviceName: row.device_name,
    userEmail: row.user_email,
    policyId: row.policy_id,
    policyName: row.name,
    addedAt: row.added_at,
  };
}
