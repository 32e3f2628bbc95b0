import type { CommandPayload, CommandResultStatus, CommandState, DeviceAction } from '@custos/shared';

/** A command queued for one device (SPEC §3). Times are epoch milliseconds. */
export interface CommandRecord {
  id: string;
  deviceId: string;
  action: DeviceAction;
  payload: CommandPayload | null;
  state: CommandState;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
  completedAt: number | null;
  expiresAt: number;
  /** `type:id:name` of the actor that queued it. */
  createdBy: string;
  /** The device's last answer; `notNow` leaves the command `pending` with this set. */
  resultStatus: CommandResultStatus | null;
  resultDetail: string | null;
  resultAt: number | null;
  attempts: number;
}

/**
 * The per-device command queue. Every method that moves a command into or out of `pending` keeps
 * the device's `pending_commands` count in step, in the same statement sequence, so run it inside
 * `TenantData.transaction` when several steps must commit together.
 */
export interface CommandStore {
  insert(commands: readonly CommandRecord[]): Promise<void>;
  get(id: string): Promise<CommandRecord | undefined>;
  /** The device's commands, newest first. */
  listForDevice(deviceId: string, limit: number): Promise<CommandRecord[]>;
  /** Unexpired pending commands with this action, by device (for coalescing). */
  findPending(deviceIds: readonly string[], action: DeviceAction, now: number): Promise<Map<string, CommandRecord>>;
  /** Marks the device's pending and sent commands whose time is up `expired`; returns how many. */
  expireDue(deviceId: string, now: number): Promise<number>;
  /** Marks the device's pending commands `sent` and returns them, oldest first. */
  deliverPending(deviceId: string, now: number): Promise<CommandRecord[]>;
  /**
   * Records the device's answer to a `sent` command: `acknowledged` and `error` complete it,
   * `notNow` puts it back to `pending`. False when the command is no longer `sent`.
   */
  recordResult(id: string, status: CommandResultStatus, detail: string | null, now: number): Promise<boolean>;
}
