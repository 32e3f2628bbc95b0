/**
 * The tenant's audit log (SPEC §3 AuditEvent, §5): every admin write, sign-in, export and permission
 * change appends one event, hash-chained per tenant (see audit-chain.ts). Services record the event
 * in the same transaction as the change it describes, as the LAST statement of that transaction —
 * the append locks the tenant's chain head, and taking that lock last keeps lock order the same
 * everywhere (no deadlocks) and holds it for the shortest time.
 */
import { randomUUID } from 'node:crypto';
import type { Actor } from '../access/authorize.js';
import type { Clock } from '../clock.js';
import type { TenantData } from '../tenant-data.js';
import type { AuditActor, AuditEventBody, AuditTarget, ChainedAuditEvent } from './audit-chain.js';

export type { AuditTarget, ChainedAuditEvent } from './audit-chain.js';

export type AuditOperation = AuditEventBody['operation'];

export interface AuditFilter {
  from?: number;
  to?: number;
  category?: string;
  activity?: string;
  actorId?: string;
  result?: 'success' | 'failure';
  targetId?: string;
}

export interface AuditStore {
  /** Links the event to the end of the tenant's chain and stores it; runs in (or opens) a transaction. */
  append(event: Omit<AuditEventBody, 'sequence' | 'tenantId'>): Promise<ChainedAuditEvent>;
  /** Newest first; `beforeSequence` pages backwards. */
  list(filter: AuditFilter, page: { limit: number; beforeSequence?: number }): Promise<ChainedAuditEvent[]>;
  /** Every event in sequence order, read in batches (for verification and export). */
  all(batchSize?: number): AsyncIterable<ChainedAuditEvent>;
  /** The chain end as the store last recorded it (undefined before the first event). */
  head(): Promise<{ sequence: number; hash: string } | undefined>;
  /** Re-encrypts one batch (after a sequence) of the stored values under the current key version (`custos keys rotate`). */
  reencryptBatch(afterSequence: string | null, limit: number): Promise<{ lastId: string | null; scanned: number; rewritten: number }>;
}

export interface AuditInput {
  activity: string;
  category: string;
  operation: AuditOperation;
  result?: 'success' | 'failure';
  targets?: AuditTarget[];
}

export function auditActorOf(actor: Actor): AuditActor {
  const ip = actor.context?.ip ?? null;
  return { type: actor.type, id: actor.id, name: actor.name, ip };
}

/** Appends one event for `actor` to `data`'s tenant log (inside `data`'s transaction, if any). */
export function recordAudit(data: TenantData, actor: Actor, clock: Clock, input: AuditInput): Promise<ChainedAuditEvent> {
  return append(data, auditActorOf(actor), clock.now(), actor.context?.correlationId ?? null, input);
}

/**
 * Appends one event a device caused by its own request (enrolling, answering, checking out), with the
 * device (or its enrollment, before the device exists) as the actor, at `occurredAt`: the time of the
 * write it records.
 */
export function recordDeviceAudit(
  data: TenantData,
  device: { id: string; name: string },
  occurredAt: number,
  input: AuditInput,
): Promise<ChainedAuditEvent> {
  return append(data, { type: 'device', id: device.id, name: device.name, ip: null }, occurredAt, null, input);
}

function append(
  data: TenantData,
  actor: AuditActor,
  occurredAt: number,
  correlationId: string | null,
  input: AuditInput,
): Promise<ChainedAuditEvent> {
  return data.audit.append({
    id: randomUUID(),
    occurredAt,
    actor,
    activity: input.activity,
    category: input.category,
    operation: input.operation,
    result: input.result ?? 'success',
    targets: input.targets ?? [],
    correlationId,
  });
}

/**
 * The properties that differ between `before` and `after`, as audit `modifiedProperties`. Secrets
 * never reach the log: name them in `redact` and only the fact that they changed is kept.
 */
export function changedProperties(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
  redact: readonly string[] = [],
): NonNullable<AuditTarget['modifiedProperties']> {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const changes: NonNullable<AuditTarget['modifiedProperties']> = [];
  for (const name of [...keys].sort()) {
    const oldValue = before?.[name];
    const newValue = after?.[name];
    if (JSON.stringify(oldValue) === JSON.stringify(newValue)) continue;
    if (redact.includes(name)) changes.push({ name, oldValue: oldValue === undefined ? null : '[redacted]', newValue: '[redacted]' });
    else changes.push({ name, oldValue: oldValue ?? null, newValue: newValue ?? null });
  }
  return changes;
}
