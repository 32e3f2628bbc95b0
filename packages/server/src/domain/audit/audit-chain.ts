/**
 * The audit log's hash chain (SPEC §1.3, §9; identity issue groundwork). Each tenant's events carry a
 * gap-free sequence number and `hash = SHA-256(previous hash ‖ canonical JSON of the event)`, so
 * changing, deleting or re-ordering any stored event breaks the chain at a place `verifyAuditChain`
 * names. The canonical JSON (sorted keys, no whitespace) makes the hash independent of how a database
 * returns a JSON column.
 */
import { createHash } from 'node:crypto';

export interface AuditActor {
  type: 'user' | 'apiToken' | 'device' | 'operator' | 'system' | 'scim';
  id: string;
  name: string;
  ip: string | null;
}

export interface AuditTarget {
  type: string;
  id: string;
  name?: string;
  modifiedProperties?: { name: string; oldValue: unknown; newValue: unknown }[];
}

/** One event as it is hashed: everything but the chain fields themselves. */
export interface AuditEventBody {
  id: string;
  tenantId: string;
  sequence: number;
  occurredAt: number;
  actor: AuditActor;
  activity: string;
  category: string;
  operation: 'create' | 'read' | 'update' | 'delete' | 'action' | 'signIn' | 'export';
  result: 'success' | 'failure';
  targets: AuditTarget[];
  correlationId: string | null;
}

export interface ChainedAuditEvent extends AuditEventBody {
  previousHash: string;
  hash: string;
}

/** The hash that precedes a tenant's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level; `undefined` members are dropped, as JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function hashAuditEvent(previousHash: string, event: AuditEventBody): string {
  return createHash('sha256').update(previousHash).update('\n').update(canonicalJson(event)).digest('hex');
}

/** Links `event` after `previous` (undefined for a tenant's first event). */
export function chainAuditEvent(
  previous: Pick<ChainedAuditEvent, 'sequence' | 'hash'> | undefined,
  event: Omit<AuditEventBody, 'sequence'>,
): ChainedAuditEvent {
  // Named fields only: whatever else the caller's object carries is not part of the hashed event.
  const body: AuditEventBody = {
    id: event.id,
    tenantId: event.tenantId,
    sequence: (previous?.sequence ?? 0) + 1,
    occurredAt: event.occurredAt,
    actor: event.actor,
    activity: event.activity,
    category: event.category,
    operation: event.operation,
    result: event.result,
    targets: event.targets,
    correlationId: event.correlationId,
  };
  const previousHash = previous?.hash ?? GENESIS_HASH;
  return { ...body, previousHash, hash: hashAuditEvent(previousHash, body) };
}

export type ChainVerdict =
  | { intact: true; events: number; lastHash: string }
  | {
      intact: false;
      events: number;
      problem: 'altered' | 'missing' | 'reordered';
      sequence: number;
      eventId: string | null;
      detail: string;
    };

/**
 * Verifies a tenant's events in stored order (by sequence, as the store returns them). Names the
 * first event where the chain breaks: an event whose content no longer matches its hash (altered),
 * a gap in the sequence (missing: an event was deleted), or a sequence out of order (reordered).
 */
export function verifyAuditChain(events: Iterable<ChainedAuditEvent>): ChainVerdict {
  let expectedSequence = 1;
  let previousHash = GENESIS_HASH;
  let count = 0;
  for (const { previousHash: storedPrevious, hash, ...body } of events) {
    count++;
    if (body.sequence < expectedSequence) {
      return {
        intact: false,
        events: count,
        problem: 'reordered',
        sequence: body.sequence,
        eventId: body.id,
        detail: `event ${body.id} (sequence ${body.sequence}) appears after sequence ${expectedSequence - 1}`,
      };
    }
    if (body.sequence > expectedSequence) {
      return {
        intact: false,
        events: count,
        problem: 'missing',
        sequence: expectedSequence,
        eventId: null,
        detail: `sequence ${expectedSequence}${body.sequence - expectedSequence > 1 ? ` to ${body.sequence - 1}` : ''} is missing before event ${body.id}`,
      };
    }
    if (storedPrevious !== previousHash || hashAuditEvent(previousHash, body) !== hash) {
      return {
        intact: false,
        events: count,
        problem: 'altered',
        sequence: body.sequence,
        eventId: body.id,
        detail: `event ${body.id} (sequence ${body.sequence}) does not match its hash`,
      };
    }
    previousHash = hash;
    expectedSequence++;
  }
  return { intact: true, events: count, lastHash: previousHash };
}
