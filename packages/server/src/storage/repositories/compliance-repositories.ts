/**
 * Compliance policies, assignments and per-device results (migration 0003; actions 0005). Settings,
 * actions and results are JSON text; assignment target ids are '' for the targets that name no group,
 * so the primary key needs no NULL.
 */
import { assignmentColumns, assignmentFromRow } from './assignment-columns.js';
import { scopeTagsFrom, scopeTagsJson } from './scope-tag-columns.js';
import type { Kysely } from 'kysely';
import {
  normalizeActions,
  type ComplianceSettings,
  type ComplianceState,
  type NoncomplianceAction,
  type Platform,
  type SettingResult,
} from '@custos/shared';
import type {
  CompliancePolicyRecord,
  CompliancePolicyStore,
  ComplianceResultStore,
  DeviceComplianceResultRecord,
  PolicyAssignmentRecord,
} from '../../domain/compliance/compliance-store.js';
import type { CompliancePolicyAssignmentTable, CompliancePolicyTable, RegionDatabase } from '../database.js';

/** Rows per INSERT: well under SQLite's bound-parameter limit. */
const INSERT_BATCH = 500;

function toPolicy(row: CompliancePolicyTable, assignments: readonly CompliancePolicyAssignmentTable[]): CompliancePolicyRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    platform: row.platform as Platform | null,
    settings: JSON.parse(row.settings) as ComplianceSettings,
    actions: normalizeActions(JSON.parse(row.actions) as NoncomplianceAction[]),
    version: row.version,
    scopeTags: scopeTagsFrom(row.scope_tags),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    assignments: assignments.map(assignmentFromRow),
  };
}

export class CompliancePolicyRepository implements CompliancePolicyStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(p: CompliancePolicyRecord): Promise<void> {
    await this.db
      .insertInto('compliance_policies')
      .values({
        tenant_id: this.tenantId,
        id: p.id,
        name: p.name,
        description: p.description,
        platform: p.platform,
        settings: JSON.stringify(p.settings),
        actions: JSON.stringify(p.actions),
        version: p.version,
        scope_tags: scopeTagsJson(p.scopeTags),
        created_at: p.createdAt,
        updated_at: p.updatedAt,
        deleted_at: p.deletedAt,
      })
      .execute();
    await this.replaceAssignments(p.id, p.assignments);
  }

  async get(id: string): Promise<CompliancePolicyRecord | undefined> {
    return (await this.select([id]))[0];
  }

  list(): Promise<CompliancePolicyRecord[]> {
    return this.select();
  }

  listForPlatform(platform: Platform): Promise<CompliancePolicyRecord[]> {
    return this.select(undefined, platform);
  }

  /** Live policies (optionally only `ids`, or those that can apply to `platform`) with their assignments: two queries. */
  private async select(ids?: readonly string[], platform?: Platform): Promise<CompliancePolicyRecord[]> {
    let q = this.db.selectFrom('compliance_policies').selectAll().where('tenant_id', '=', this.tenantId).where('deleted_at', 'is', null);
    if (ids) q = q.where('id', 'in', ids);
    if (platform) q = q.where((eb) => eb.or([eb('platform', 'is', null), eb('platform', '=', platform)]));
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    if (rows.length === 0) return [];
    const assignments = await this.db
      .selectFrom('compliance_policy_assignments as a')
      .innerJoin('compliance_policies as p', (join) => join.onRef('p.tenant_id', '=', 'a.tenant_id').onRef('p.id', '=', 'a.policy_id'))
      .selectAll('a')
      .where('a.tenant_id', '=', this.tenantId)
      .where('p.deleted_at', 'is', null)
      .$if(ids !== undefined, (qb) => qb.where('a.policy_id', 'in', ids ?? []))
      .$if(platform !== undefined, (qb) => qb.where((eb) => eb.or([eb('p.platform', 'is', null), eb('p.platform', '=', platform ?? '')])))
      .orderBy('a.target_kind')
      .orderBy('a.target_id')
      .execute();
    const byPolicy = new Map<string, CompliancePolicyAssignmentTable[]>();
    for (const a of assignments) byPolicy.set(a.policy_id, [...(byPolicy.get(a.policy_id) ?? []), a]);
    return rows.map((r) => toPolicy(r, byPolicy.get(r.id) ?? []));
  }

  async update(p: CompliancePolicyRecord): Promise<boolean> {
    const result = await this.db
      .updateTable('compliance_policies')
      .set({
        name: p.name,
        description: p.description,
        platform: p.platform,
        settings: JSON.stringify(p.settings),
        actions: JSON.stringify(p.actions),
        version: p.version,
        scope_tags: scopeTagsJson(p.scopeTags),
        updated_at: p.updatedAt,
      })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', p.id)
      .where('deleted_at', 'is', null)
      .where('version', '=', p.version - 1)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async softDelete(id: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('compliance_policies')
      .set({ deleted_at: at, updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async replaceAssignments(id: string, assignments: readonly PolicyAssignmentRecord[]): Promise<void> {
    await this.db.deleteFrom('compliance_policy_assignments').where('tenant_id', '=', this.tenantId).where('policy_id', '=', id).execute();
    const rows = assignments.map((a) => ({
      tenant_id: this.tenantId,
      policy_id: id,
      ...assignmentColumns(a),
    }));
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      await this.db
        .insertInto('compliance_policy_assignments')
        .values(rows.slice(i, i + INSERT_BATCH))
        .execute();
    }
  }
}

export class ComplianceResultRepository implements ComplianceResultStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async replaceForDevice(deviceId: string, results: readonly Omit<DeviceComplianceResultRecord, 'policyName'>[]): Promise<void> {
    await this.db
      .deleteFrom('device_compliance_results')
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .execute();
    if (results.length === 0) return;
    await this.db
      .insertInto('device_compliance_results')
      .values(
        results.map((r) => ({
          tenant_id: this.tenantId,
          device_id: deviceId,
          policy_id: r.policyId,
          policy_version: r.policyVersion,
          state: r.state,
          results: JSON.stringify(r.results),
          evaluated_at: r.evaluatedAt,
        })),
      )
      .execute();
  }

  async listForDevice(deviceId: string): Promise<DeviceComplianceResultRecord[]> {
    const rows = await this.db
      .selectFrom('device_compliance_results as r')
      .innerJoin('compliance_policies as p', (join) => join.onRef('p.tenant_id', '=', 'r.tenant_id').onRef('p.id', '=', 'r.policy_id'))
      .select(['r.policy_id', 'p.name', 'r.policy_version', 'r.state', 'r.results', 'r.evaluated_at'])
      .where('r.tenant_id', '=', this.tenantId)
      .where('r.device_id', '=', deviceId)
      .orderBy('p.name')
      .orderBy('r.policy_id')
      .execute();
    return rows.map((r) => ({
      policyId: r.policy_id,
      policyName: r.name,
      policyVersion: r.policy_version,
      state: r.state as ComplianceState,
      results: JSON.parse(r.results) as SettingResult[],
      evaluatedAt: r.evaluated_at,
    }));
  }
}
