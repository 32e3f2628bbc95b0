/**
 * Configuration profiles, their assignments and per-device states (migration 0006). Settings and
 * conflicts are JSON text; assignment target ids are '' for targets that name no group, as for
 * compliance policies.
 */
import { sql, type Kysely } from 'kysely';
import { assignmentColumns, assignmentFromRow } from './assignment-columns.js';
import { scopeTagsFrom, scopeTagsJson } from './scope-tag-columns.js';
import type { Platform, ProfileKind, ProfileSettings, ProfileStatus, RestrictionConflict } from '@custos/shared';
import type { PolicyAssignmentRecord } from '../../domain/assignments/assignment-targets.js';
import type {
  ConfigurationProfileRecord,
  ConfigurationProfileStore,
  DeviceProfileReport,
  DeviceProfileStateRecord,
  DeviceProfileStateStore,
  DeviceProfileStateView,
} from '../../domain/profiles/profile-store.js';
import type { ConfigurationProfileAssignmentTable, ConfigurationProfileTable, RegionDatabase } from '../database.js';

/** Rows per INSERT: well under SQLite's bound-parameter limit. */
const INSERT_BATCH = 200;

function toProfile(
  row: ConfigurationProfileTable,
  assignments: readonly ConfigurationProfileAssignmentTable[],
): ConfigurationProfileRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    platform: row.platform as Platform | null,
    settings: { kind: row.kind, ...(JSON.parse(row.settings) as object) } as ProfileSettings,
    version: row.version,
    scopeTags: scopeTagsFrom(row.scope_tags),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    assignments: assignments.map(assignmentFromRow),
  };
}

/** The kind's settings without the `kind` tag, which has its own column. */
function settingsJson(settings: ProfileSettings): string {
  return JSON.stringify({ ...settings, kind: undefined });
}

export class ConfigurationProfileRepository implements ConfigurationProfileStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(p: ConfigurationProfileRecord): Promise<void> {
    await this.db
      .insertInto('configuration_profiles')
      .values({
        tenant_id: this.tenantId,
        id: p.id,
        name: p.name,
        description: p.description,
        platform: p.platform,
        kind: p.settings.kind,
        settings: settingsJson(p.settings),
        version: p.version,
        scope_tags: scopeTagsJson(p.scopeTags),
        created_at: p.createdAt,
        updated_at: p.updatedAt,
        deleted_at: p.deletedAt,
      })
      .execute();
    await this.replaceAssignments(p.id, p.assignments);
  }

  async get(id: string): Promise<ConfigurationProfileRecord | undefined> {
    return (await this.select([id]))[0];
  }

  list(): Promise<ConfigurationProfileRecord[]> {
    return this.select();
  }

  listForPlatform(platform: Platform): Promise<ConfigurationProfileRecord[]> {
    return this.select(undefined, platform);
  }

  private async select(ids?: readonly string[], platform?: Platform): Promise<ConfigurationProfileRecord[]> {
    let q = this.db.selectFrom('configuration_profiles').selectAll().where('tenant_id', '=', this.tenantId).where('deleted_at', 'is', null);
    if (ids) q = q.where('id', 'in', ids);
    if (platform) q = q.where((eb) => eb.or([eb('platform', 'is', null), eb('platform', '=', platform)]));
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    if (rows.length === 0) return [];
    const assignments = await this.db
      .selectFrom('configuration_profile_assignments')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where(
        'profile_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('target_kind')
      .orderBy('target_id')
      .execute();
    const byProfile = new Map<string, ConfigurationProfileAssignmentTable[]>();
    for (const a of assignments) byProfile.set(a.profile_id, [...(byProfile.get(a.profile_id) ?? []), a]);
    return rows.map((r) => toProfile(r, byProfile.get(r.id) ?? []));
  }

  async update(p: ConfigurationProfileRecord): Promise<boolean> {
    const result = await this.db
      .updateTable('configuration_profiles')
      .set({
        name: p.name,
        description: p.description,
        platform: p.platform,
        kind: p.settings.kind,
        settings: settingsJson(p.settings),
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
      .updateTable('configuration_profiles')
      .set({ deleted_at: at, updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async replaceAssignments(id: string, assignments: readonly PolicyAssignmentRecord[]): Promise<void> {
    await this.db
      .deleteFrom('configuration_profile_assignments')
      .where('tenant_id', '=', this.tenantId)
      .where('profile_id', '=', id)
      .execute();
    const rows = assignments.map((a) => ({
      tenant_id: this.tenantId,
      profile_id: id,
      ...assignmentColumns(a),
    }));
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      await this.db
        .insertInto('configuration_profile_assignments')
        .values(rows.slice(i, i + INSERT_BATCH))
        .execute();
    }
  }
}

export class DeviceProfileStateRepository implements DeviceProfileStateStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async listForDevice(deviceId: string): Promise<DeviceProfileStateView[]> {
    const rows = await this.db
      .selectFrom('device_profile_states as s')
      .innerJoin('configuration_profiles as p', (join) => join.onRef('p.tenant_id', '=', 's.tenant_id').onRef('p.id', '=', 's.profile_id'))
      .selectAll('s')
      .select(['p.name', 'p.kind'])
      .where('s.tenant_id', '=', this.tenantId)
      .where('s.device_id', '=', deviceId)
      .orderBy('p.name')
      .orderBy('s.profile_id')
      .execute();
    return rows.map((r) => ({
      profileId: r.profile_id,
      profileName: r.name,
      kind: r.kind as ProfileKind,
      profileVersion: r.profile_version,
      status: r.status as ProfileStatus,
      reason: r.reason,
      removing: r.removing === 1,
      conflicts: JSON.parse(r.conflicts) as RestrictionConflict[],
      publicKey: r.public_key,
      updatedAt: Number(r.updated_at),
      reportedAt: r.reported_at === null ? null : Number(r.reported_at),
    }));
  }

  async put(deviceId: string, rows: readonly DeviceProfileStateRecord[]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      await this.db
        .insertInto('device_profile_states')
        .values(
          rows.slice(i, i + INSERT_BATCH).map((r) => ({
            tenant_id: this.tenantId,
            device_id: deviceId,
            profile_id: r.profileId,
            profile_version: r.profileVersion,
            status: r.status,
            reason: r.reason,
            removing: r.removing ? 1 : 0,
            conflicts: JSON.stringify(r.conflicts),
            public_key: r.publicKey,
            updated_at: r.updatedAt,
            reported_at: r.reportedAt,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'device_id', 'profile_id']).doUpdateSet((eb) => ({
            profile_version: eb.ref('excluded.profile_version'),
            status: eb.ref('excluded.status'),
            reason: eb.ref('excluded.reason'),
            removing: eb.ref('excluded.removing'),
            conflicts: eb.ref('excluded.conflicts'),
            public_key: eb.ref('excluded.public_key'),
            updated_at: eb.ref('excluded.updated_at'),
            reported_at: eb.ref('excluded.reported_at'),
          })),
        )
        .execute();
    }
  }

  async delete(deviceId: string, profileIds: readonly string[]): Promise<void> {
    if (profileIds.length === 0) return;
    await this.db
      .deleteFrom('device_profile_states')
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .where('profile_id', 'in', profileIds)
      .execute();
  }

  async recordReport(deviceId: string, report: DeviceProfileReport, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('device_profile_states')
      .set({
        status: report.status,
        reason: report.reason,
        public_key: report.publicKey,
        updated_at: at,
        reported_at: at,
      })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .where('profile_id', '=', report.profileId)
      .where('profile_version', '=', report.version)
      .where('removing', '=', 0)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteRemoved(deviceId: string, profileIds: readonly string[]): Promise<void> {
    if (profileIds.length === 0) return;
    await this.db
      .deleteFrom('device_profile_states')
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .where('profile_id', 'in', profileIds)
      .where('removing', '=', 1)
      .execute();
  }

  async countByStatus(profileId: string): Promise<Partial<Record<ProfileStatus, number>>> {
    // Retired devices keep their last rows (history) but count no more.
    const rows = await this.db
      .selectFrom('device_profile_states as s')
      .innerJoin('devices as d', (join) => join.onRef('d.tenant_id', '=', 's.tenant_id').onRef('d.id', '=', 's.device_id'))
      .select(['s.status', sql<number>`count(*)`.as('n')])
      .where('s.tenant_id', '=', this.tenantId)
      .where('s.profile_id', '=', profileId)
      .where('s.removing', '=', 0)
      .where('d.status', '=', 'active')
      .groupBy('s.status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async getDigest(deviceId: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('device_checkin_state')
      .select('profiles_digest')
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row?.profiles_digest ?? null;
  }

  async setDigest(deviceId: string, digest: string | null): Promise<void> {
    await this.db
      .updateTable('device_checkin_state')
      .set({ profiles_digest: digest })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .execute();
  }
}
