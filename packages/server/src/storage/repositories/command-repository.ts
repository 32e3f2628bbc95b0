import { sql, type Kysely } from 'kysely';
import type { CommandPayload, CommandResultStatus, CommandState, DeviceAction } from '@custos/shared';
import type { CommandRecord, CommandStore } from '../../domain/commands/command-store.js';
import type { DeviceCommandTable, RegionDatabase } from '../database.js';

/** Rows per INSERT of a bulk action: 16 columns × 500 stays under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_BATCH = 500;
/** Devices per `IN (...)` list. */
const ID_BATCH = 1000;

function toRecord(row: DeviceCommandTable): CommandRecord {
  return {
    id: row.id,
    deviceId: row.device_id,
    action: row.action as DeviceAction,
    payload: row.payload === null ? null : (JSON.parse(row.payload) as CommandPayload),
    state: row.state as CommandState,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    sentAt: row.sent_at,
    completedAt: row.completed_at,
    expiresAt: row.expires_at,
    createdBy: row.created_by,
    resultStatus: row.result_status as CommandResultStatus | null,
    resultDetail: row.result_detail,
    resultAt: row.result_at,
    attempts: row.attempts,
  };
}

function toRow(tenantId: string, c: CommandRecord): DeviceCommandTable {
  return {
    tenant_id: tenantId,
    id: c.id,
    device_id: c.deviceId,
    action: c.action,
    payload: c.payload === null ? null : JSON.stringify(c.payload),
    state: c.state,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    sent_at: c.sentAt,
    completed_at: c.completedAt,
    expires_at: c.expiresAt,
    created_by: c.createdBy,
    result_status: c.resultStatus,
    result_detail: c.resultDetail,
    result_at: c.resultAt,
    attempts: c.attempts,
  };
}

export class CommandRepository implements CommandStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(commands: readonly CommandRecord[]): Promise<void> {
    const rows = commands.map((c) => toRow(this.tenantId, c));
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      await this.db
        .insertInto('device_commands')
        .values(rows.slice(i, i + INSERT_BATCH))
        .execute();
    }
    await this.refreshPendingCount([...new Set(commands.map((c) => c.deviceId))]);
  }

  async get(id: string): Promise<CommandRecord | undefined> {
    const row = await this.db
      .selectFrom('device_commands')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async listForDevice(deviceId: string, limit: number): Promise<CommandRecord[]> {
    const rows = await this.db
      .selectFrom('device_commands')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  async findPending(deviceIds: readonly string[], action: DeviceAction, now: number): Promise<Map<string, CommandRecord>> {
    const found = new Map<string, CommandRecord>();
    for (let i = 0; i < deviceIds.length; i += ID_BATCH) {
      const rows = await this.db
        .selectFrom('device_commands')
        .selectAll()
        .where('tenant_id', '=', this.tenantId)
        .where('device_id', 'in', deviceIds.slice(i, i + ID_BATCH))
        .where('state', '=', 'pending')
        .where('action', '=', action)
        .where('expires_at', '>', now)
        .orderBy('created_at')
        .execute();
      for (const row of rows) if (!found.has(row.device_id)) found.set(row.device_id, toRecord(row));
    }
    return found;
  }

  async expireDue(deviceId: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('device_commands')
      .set({ state: 'expired', updated_at: now, completed_at: now })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .where('state', 'in', ['pending', 'sent'])
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    const expired = Number(result.numUpdatedRows);
    if (expired > 0) await this.refreshPendingCount([deviceId]);
    return expired;
  }

  async deliverPending(deviceId: string, now: number): Promise<CommandRecord[]> {
    await this.expireDue(deviceId, now);
    // One statement picks and marks, so two overlapping check-ins can never both receive a command.
    const rows = await this.db
      .updateTable('device_commands')
      .set((eb) => ({ state: 'sent', sent_at: now, updated_at: now, attempts: eb('attempts', '+', 1) }))
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .where('state', '=', 'pending')
      .returningAll()
      .execute();
    await this.refreshPendingCount([deviceId]);
    return rows.map(toRecord).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async recordResult(id: string, status: CommandResultStatus, detail: string | null, now: number): Promise<boolean> {
    const state: CommandState = status === 'notNow' ? 'pending' : status;
    const row = await this.db
      .updateTable('device_commands')
      .set({
        state,
        updated_at: now,
        completed_at: state === 'pending' ? null : now,
        result_status: status,
        result_detail: detail,
        result_at: now,
      })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('state', '=', 'sent')
      .returning('device_id')
      .executeTakeFirst();
    if (row && state === 'pending') await this.refreshPendingCount([row.device_id]);
    return row !== undefined;
  }

  /**
   * Recounts from the queue itself rather than adding and subtracting, so the count cannot drift
   * whatever path changed a command. The count reads the (tenant, device, state) index.
   */
  private async refreshPendingCount(deviceIds: readonly string[]): Promise<void> {
    for (let i = 0; i < deviceIds.length; i += ID_BATCH) {
      await this.db
        .updateTable('device_checkin_state as s')
        .set({
          pending_commands: sql<number>`(select count(*) from device_commands c where c.tenant_id = s.tenant_id and c.device_id = s.device_id and c.state = 'pending')`,
        })
        .where('s.tenant_id', '=', this.tenantId)
        .where('s.device_id', 'in', deviceIds.slice(i, i + ID_BATCH))
        .execute();
    }
  }
}
