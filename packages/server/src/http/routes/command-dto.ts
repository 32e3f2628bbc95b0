/** Command records → API shapes (ISO timestamps; the device's last answer as `result`). */
import type { Command } from '@custos/shared';
import type { CommandRecord } from '../../domain/commands/command-store.js';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function toCommandDto(c: CommandRecord): Command {
  return {
    id: c.id,
    deviceId: c.deviceId,
    action: c.action,
    payload: c.payload,
    state: c.state,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    sentAt: isoOrNull(c.sentAt),
    completedAt: isoOrNull(c.completedAt),
    expiresAt: iso(c.expiresAt),
    createdBy: c.createdBy,
    attempts: c.attempts,
    result: c.resultStatus === null || c.resultAt === null ? null : { status: c.resultStatus, detail: c.resultDetail, at: iso(c.resultAt) },
  };
}
