/**
 * Dashboard aggregates: a handful of GROUP BY queries over active devices, each using the same scope
 * predicate as the device list, so a scoped admin's dashboard counts only what their list shows.
 */
import { sql, type Kysely } from 'kysely';
import type { CountBy, DeviceReportStore, DeviceSummary } from '../../domain/devices/device-reports.js';
import type { CipherSource } from '../../domain/encryption/tenant-cipher.js';
import type { RegionDatabase } from '../database.js';
import { withScopeTags } from './device-repository.js';
import { normalizeForLookup } from './sensitive-device-columns.js';

const DAY = 24 * 60 * 60 * 1000;

export class DeviceReportRepository implements DeviceReportStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {}

  private active(scopeTags: readonly string[] | null) {
    const q = this.db
      .selectFrom('devices')
      .innerJoin('device_checkin_state as s', (join) =>
        join.onRef('s.tenant_id', '=', 'devices.tenant_id').onRef('s.device_id', '=', 'devices.id'),
      )
      .where('devices.tenant_id', '=', this.tenantId)
      .where('devices.status', '=', 'active');
    return withScopeTags(q, scopeTags);
  }

  private async countBy(scopeTags: readonly string[] | null, column: 'compliance_state' | 'platform' | 'ownership'): Promise<CountBy[]> {
    const rows = await this.active(scopeTags)
      .select((eb) => [eb.ref(`devices.${column}`).as('key'), eb.fn.countAll<number | string>().as('n')])
      .groupBy(`devices.${column}`)
      .orderBy('n', 'desc')
      .execute();
    return rows.map((r) => ({ key: String(r.key), count: Number(r.n) }));
  }

  async summary(scopeTags: readonly string[] | null, now: number, days: number): Promise<DeviceSummary> {
    if (scopeTags?.length === 0) {
      return { total: 0, byComplianceState: [], byPlatform: [], byOwnership: [], byOsVersion: [], checkInsByDay: emptyDays(now, days) };
    }
    const byComplianceState = await this.countBy(scopeTags, 'compliance_state');
    const byPlatform = await this.countBy(scopeTags, 'platform');
    const byOwnership = await this.countBy(scopeTags, 'ownership');
    const os = await this.active(scopeTags)
      .select((eb) => ['devices.operating_system', 'devices.os_version', eb.fn.countAll<number | string>().as('n')])
      .groupBy(['devices.operating_system', 'devices.os_version'])
      .orderBy('n', 'desc')
      .limit(20)
      .execute();
    const since = startOfDay(now) - (days - 1) * DAY;
    // The day number since the epoch, computed the same way on both dialects (integer division).
    const dayExpr = sql<number>`(s.last_check_in_at / ${sql.lit(DAY)})`;
    const checkIns = await this.active(scopeTags)
      .select([dayExpr.as('day'), (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('s.last_check_in_at', '>=', since)
      .groupBy(dayExpr)
      .execute();
    const perDay = new Map(checkIns.map((r) => [Math.floor(Number(r.day)), Number(r.n)]));
    return {
      total: byComplianceState.reduce((sum, c) => sum + c.count, 0),
      byComplianceState,
      byPlatform,
      byOwnership,
      byOsVersion: os.map((r) => ({ operatingSystem: r.operating_system, osVersion: r.os_version, count: Number(r.n) })),
      checkInsByDay: emptyDays(now, days).map((d) => ({ day: d.day, count: perDay.get(Math.floor(Date.parse(d.day) / DAY)) ?? 0 })),
    };
  }

  async idsForUser(userEmail: string): Promise<string[]> {
    // Emails are stored encrypted; the lookup goes through the keyed hash of the lower-cased address.
    const hashes = (await this.cipher()).searchHashes('user_email', normalizeForLookup('user_email', userEmail));
    const rows = await this.db
      .selectFrom('devices')
      .select('id')
      .where('tenant_id', '=', this.tenantId)
      .where('status', '=', 'active')
      .where('user_email_hash', 'in', hashes)
      .orderBy('enrolled_at')
      .execute();
    return rows.map((r) => r.id);
  }
}

function startOfDay(at: number): number {
  return Math.floor(at / DAY) * DAY;
}

function emptyDays(now: number, days: number): { day: string; count: number }[] {
  const first = startOfDay(now) - (days - 1) * DAY;
  return Array.from({ length: days }, (_, i) => ({ day: new Date(first + i * DAY).toISOString().slice(0, 10), count: 0 }));
}
