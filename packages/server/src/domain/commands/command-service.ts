/**
 * Device actions (SPEC §6): an admin queues a command; the device receives it with its next
 * check-in (at once when it holds a push channel), carries it out and reports the result.
 *
 * States (SPEC §3): `pending → sent → acknowledged | error | expired`. A device may answer
 * `notNow` (busy, user present, ...): the command returns to `pending` for a later check-in. A
 * pending or sent command past its expiry becomes `expired` the next time it is read or would be
 * delivered; no background job is needed for that.
 */
import { randomUUID } from 'node:crypto';
import {
  BULK_ACTION_MAX_DEVICES,
  DEVICE_NAME_PATTERN,
  type ActionRequest,
  type BulkActionRequest,
  type CommandPayload,
  type CommandResult,
  type DeliveredCommand,
  type DeviceAction,
  type Permission,
} from '@custos/shared';
import { authorize, scopeFilter, type Actor } from '../access/authorize.js';
import { requireDeviceInScope } from '../devices/device-scope.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { AuthenticatedDevice, DeviceAuthenticator } from '../device-auth/device-authenticator.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { CommandRecord } from './command-store.js';
import type { DeviceWakeups } from './device-wakeups.js';

export const DEFAULT_COMMAND_EXPIRY_HOURS = 24 * 7;
const HISTORY_LIMIT = 100;

/** What each action needs (shared `roles.ts`): the destructive ones have permissions of their own. */
export const ACTION_PERMISSIONS: Record<DeviceAction, Permission> = {
  sync: 'devices.write',
  rename: 'devices.write',
  restart: 'devices.write',
  'collect-inventory': 'devices.write',
  lock: 'devices.lock',
  wipe: 'devices.wipe',
  retire: 'devices.retire',
};

/** A second identical request while one is still pending adds nothing: the device acts once. */
const COALESCED: ReadonlySet<DeviceAction> = new Set(['sync', 'lock', 'collect-inventory']);
/** Bulk forms of these destroy data on many devices; the request must say so explicitly. */
const NEEDS_CONFIRMATION: ReadonlySet<DeviceAction> = new Set(['wipe', 'retire']);
const deviceNamePattern = new RegExp(DEVICE_NAME_PATTERN);

function actorLabel(actor: Actor): string {
  return `${actor.type}:${actor.id}:${actor.name}`;
}

function payloadFor(action: DeviceAction, request: ActionRequest): CommandPayload | null {
  if (action !== 'rename') {
    if (request.deviceName !== undefined)
      throw new DomainError('validation-failed', `"deviceName" applies to rename only, not to ${action}.`);
    return null;
  }
  const name = request.deviceName;
  if (name === undefined) throw new DomainError('validation-failed', 'rename needs "deviceName": the new host name.');
  if (!deviceNamePattern.test(name)) {
    throw new DomainError(
      'validation-failed',
      '"deviceName" must be 1–63 letters, digits and hyphens, not starting or ending with a hyphen (a host name every platform accepts).',
    );
  }
  return { deviceName: name };
}

export class CommandService {
  constructor(
    private readonly tenants: TenantService,
    private readonly authenticator: DeviceAuthenticator,
    private readonly wakeups: DeviceWakeups,
    private readonly clock: Clock,
  ) {}

  /** Queues `action` for one device; returns the command (an identical pending one, when coalesced). */
  async enqueue(
    actor: Actor,
    tenantId: string,
    deviceId: string,
    action: DeviceAction,
    request: ActionRequest = {},
  ): Promise<CommandRecord> {
    authorize(actor, ACTION_PERMISSIONS[action], { tenantId });
    const payload = payloadFor(action, request);
    const data = await this.tenants.data(tenantId);
    const command = await data.transaction(async (trx) => {
      const device = await trx.devices.get(deviceId);
      if (!device) throw new DomainError('not-found', `No device has the id ${deviceId}.`);
      requireDeviceInScope(actor, ACTION_PERMISSIONS[action], tenantId, device);
      if (device.status !== 'active') {
        throw new DomainError('conflict', `Device ${deviceId} is retired; it receives no more commands.`, { deviceStatus: device.status });
      }
      const now = this.clock.now();
      if (COALESCED.has(action)) {
        const existing = (await trx.commands.findPending([deviceId], action, now)).get(deviceId);
        if (existing) {
          // Nothing new is queued, but the admin asked: the request is on record too.
          await recordAudit(trx, actor, this.clock, {
            activity: `Device action: ${action}`,
            category: 'Device',
            operation: 'action',
            targets: [
              { type: 'device', id: deviceId },
              { type: 'command', id: existing.id, modifiedProperties: [{ name: 'coalesced', oldValue: null, newValue: true }] },
            ],
          });
          return existing;
        }
      }
      const record = this.newCommand(actor, deviceId, action, payload, now, request.expiresInHours);
      await trx.commands.insert([record]);
      await recordAudit(trx, actor, this.clock, {
        activity: `Device action: ${action}`,
        category: 'Device',
        operation: 'action',
        targets: [
          { type: 'device', id: deviceId, ...(device.hardware.deviceName ? { name: String(device.hardware.deviceName) } : {}) },
          {
            type: 'command',
            id: record.id,
            ...(payload ? { modifiedProperties: [{ name: 'payload', oldValue: null, newValue: payload }] } : {}),
          },
        ],
      });
      return record;
    });
    await this.wake(tenantId, [deviceId]);
    return command;
  }

  /**
   * Queues `action` for every active device matching the filter (and, when given, in `deviceIds`),
   * at most BULK_ACTION_MAX_DEVICES. Returns the commands now pending, new or coalesced.
   */
  async enqueueBulk(actor: Actor, tenantId: string, action: DeviceAction, request: BulkActionRequest): Promise<CommandRecord[]> {
    authorize(actor, ACTION_PERMISSIONS[action], { tenantId });
    if (action === 'rename') throw new DomainError('validation-failed', 'rename names one device; use the per-device action.');
    if (NEEDS_CONFIRMATION.has(action) && request.confirm !== true) {
      throw new DomainError('validation-failed', `A bulk ${action} needs "confirm": true; it acts on every matching device.`);
    }
    if (request.filter === undefined && request.deviceIds === undefined) {
      throw new DomainError(
        'validation-failed',
        'Name the devices: a "filter" (an empty one means every active device) and/or "deviceIds".',
      );
    }
    const filter = { ...request.filter, status: 'active' as const };
    const data = await this.tenants.data(tenantId);
    const commands = await data.transaction(async (trx) => {
      const ids = await trx.devices.listIds(
        filter,
        BULK_ACTION_MAX_DEVICES + 1,
        request.deviceIds,
        scopeFilter(actor, ACTION_PERMISSIONS[action]),
      );
      if (ids.length > BULK_ACTION_MAX_DEVICES) {
        throw new DomainError('validation-failed', `The filter matches more than ${BULK_ACTION_MAX_DEVICES} devices; narrow it.`, {
          limit: BULK_ACTION_MAX_DEVICES,
        });
      }
      const now = this.clock.now();
      const existing = COALESCED.has(action) ? await trx.commands.findPending(ids, action, now) : new Map<string, CommandRecord>();
      const created = ids
        .filter((id) => !existing.has(id))
        .map((id) => this.newCommand(actor, id, action, null, now, request.expiresInHours));
      await trx.commands.insert(created);
      await recordAudit(trx, actor, this.clock, {
        activity: `Bulk device action: ${action}`,
        category: 'Device',
        operation: 'action',
        targets: [
          {
            type: 'deviceSelection',
            id: 'bulk',
            modifiedProperties: [
              { name: 'filter', oldValue: null, newValue: request.filter ?? null },
              { name: 'deviceIds', oldValue: null, newValue: ids },
              { name: 'queuedCommands', oldValue: null, newValue: created.length },
            ],
          },
        ],
      });
      return [...existing.values(), ...created];
    });
    await this.wake(
      tenantId,
      commands.map((c) => c.deviceId),
    );
    return commands;
  }

  async list(actor: Actor, tenantId: string, deviceId: string, limit = HISTORY_LIMIT): Promise<CommandRecord[]> {
    authorize(actor, 'devices.read', { tenantId });
    const data = await this.existingDevice(actor, tenantId, deviceId);
    await data.transaction((trx) => trx.commands.expireDue(deviceId, this.clock.now()));
    return data.commands.listForDevice(deviceId, limit);
  }

  async get(actor: Actor, tenantId: string, deviceId: string, commandId: string): Promise<CommandRecord> {
    authorize(actor, 'devices.read', { tenantId });
    const data = await this.existingDevice(actor, tenantId, deviceId);
    await data.transaction((trx) => trx.commands.expireDue(deviceId, this.clock.now()));
    const command = await data.commands.get(commandId);
    if (!command || command.deviceId !== deviceId) throw new DomainError('not-found', `Device ${deviceId} has no command ${commandId}.`);
    return command;
  }

  /**
   * The check-in's part: the device's pending commands, marked `sent` in one transaction. Called
   * only when the check-in statement reported pending commands, so a device with an empty queue
   * costs nothing here.
   */
  async deliver(data: TenantData, deviceId: string): Promise<DeliveredCommand[]> {
    const commands = await data.transaction((trx) => trx.commands.deliverPending(deviceId, this.clock.now()));
    return commands.map((c) => ({ id: c.id, action: c.action, payload: c.payload }));
  }

  /**
   * The device's answer to a command it was sent. Another device's command does not exist for it
   * (404); a command no longer `sent` (answered, expired) is a 409. An acknowledged `retire`
   * retires the device record in the same transaction: credential revoked, app inventory deleted.
   */
  async recordResult(device: AuthenticatedDevice, commandId: string, result: CommandResult): Promise<CommandRecord> {
    return device.data.transaction(async (data) => {
      await this.authenticator.record({ ...device, data }, false);
      const now = this.clock.now();
      await data.commands.expireDue(device.deviceId, now);
      const command = await data.commands.get(commandId);
      if (!command || command.deviceId !== device.deviceId) throw new DomainError('not-found', `This device has no command ${commandId}.`);
      if (!(await data.commands.recordResult(commandId, result.status, result.detail ?? null, now))) {
        throw new DomainError('conflict', `Command ${commandId} is ${command.state}, not awaiting a result.`, { state: command.state });
      }
      if (command.action === 'retire' && result.status === 'acknowledged') await data.devices.retire(device.deviceId, now);
      return (await data.commands.get(commandId)) ?? command;
    });
  }

  private newCommand(
    actor: Actor,
    deviceId: string,
    action: DeviceAction,
    payload: CommandPayload | null,
    now: number,
    expiresInHours = DEFAULT_COMMAND_EXPIRY_HOURS,
  ): CommandRecord {
    return {
      id: randomUUID(),
      deviceId,
      action,
      payload,
      state: 'pending',
      createdAt: now,
      updatedAt: now,
      sentAt: null,
      completedAt: null,
      expiresAt: now + expiresInHours * 3_600_000,
      createdBy: actorLabel(actor),
      resultStatus: null,
      resultDetail: null,
      resultAt: null,
      attempts: 0,
    };
  }

  private async existingDevice(actor: Actor, tenantId: string, deviceId: string): Promise<TenantData> {
    const data = await this.tenants.data(tenantId);
    const device = await data.devices.get(deviceId);
    if (!device) throw new DomainError('not-found', `No device has the id ${deviceId}.`);
    requireDeviceInScope(actor, 'devices.read', tenantId, device);
    return data;
  }

  /** After the commit, so a woken device finds its command. A failed wake-up only costs latency. */
  private async wake(tenantId: string, deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length > 0) await this.wakeups.publish(tenantId, [...new Set(deviceIds)]).catch(() => undefined);
  }
}
