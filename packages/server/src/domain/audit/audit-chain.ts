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
 * Verifies a tenant's events in stored order (by sequence, as the store returns them), one event at
 * a time so a long log needs no memory. Names the first event where the chain breaks: an event whose
 * content no longer matches its hash (altered), a gap in the sequence (missing: an event was
 * deleted), or a sequence out of order (reordered).
 */
export class AuditChainVerifier {
  private expectedSequence = 1;
  private previousHash = GENESIS_HASH;
  private count = 0;
  private broken: ChainVerdict | null = null;

  /**
   * `start`: the checkpoint of a log whose oldest events were pruned (domain/retention/) — the last
   * pruned event's sequence and hash, from which the remaining chain continues.
   */
  constructor(start?: { sequence: number; hash: string }) {
    if (start) {
      this.expectedSequence = start.sequence + 1;
      this.previousHash = start.hash;
    }
  }

  /** Checks the next event; returns the verdict once the chain is broken (later events are ignored). */
  push(event: ChainedAuditEvent): ChainVerdict | null {
    if (this.broken) return this.broken;
    const { previousHash: storedPrevious, hash, ...body } = event;
    this.count++;
    const events = this.count;
    if (body.sequence < this.expectedSequence) {
      this.broken = {
        intact: false,
        events,
        problem: 'reordered',
        sequence: body.sequence,
        eventId: body.id,
        detail: `event ${body.id} (sequence ${body.sequence}) appears after sequence ${this.expectedSequence - 1}`,
      };
    } else if (body.sequence > this.expectedSequence) {
      const gap = body.sequence - this.expectedSequence > 1 ? ` to ${body.sequence - 1}` : '';
      this.broken = {
        intact: false,
        events,
        problem: 'missing',
        sequence: this.expectedSequence,
        eventId: null,
        detail: `sequence ${this.expectedSequence}${gap} is missing before event ${body.id}`,
      };
    } else if (storedPrevious !== this.previousHash || hashAuditEvent(this.previousHash, body) !== hash) {
      this.broken = {
        intact: false,
        events,
        problem: 'altered',
        sequence: body.sequence,
        eventId: body.id,
        detail: `event ${body.id} (sequence ${body.sequence}) does not match its hash`,
      };
    } else {
      this.previousHash = hash;
      this.expectedSequence++;
    }
    return this.broken;
  }

  /**
   * The verdict over everything pushed. `head` is the chain end the store recorded: when events were
   * deleted from the END of the log, only the head still knows they existed.
   */
  finish(head?: { sequence: number; hash: string }): ChainVerdict {
    if (this.broken) return this.broken;
    const last = this.expectedSequence - 1;
    if (head && head.sequence > last) {
      return {
        intact: false,
        events: this.count,
        problem: 'missing',
        sequence: last + 1,
        eventId: null,
        detail: `sequence ${last + 1}${head.sequence > last + 1 ? ` to ${head.sequence}` : ''} is missing at the end of the log`,
      };
    }
    if (head && head.sequence === last && last > 0 && head.hash !== this.previousHash) {
      return {
        intact: false,
        events: this.count,
        problem: 'altered',
        sequence: last,
        eventId: null,
        detail: `the last event does not match the recorded chain end`,
      };
    }
    return { intact: true, events: this.count, lastHash: this.previousHash };
  }
}

export function verifyAuditChain(events: Iterable<ChainedAuditEvent>): ChainVerdict {
  const verifier = new AuditChainVerifier();
  for (const event of events) if (verifier.push(event)) break;
  return verifier.finish();
}
