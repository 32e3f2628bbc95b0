/**
 * The tenant's append-only audit log (migration 0004). Appends lock the tenant's chain-head row
 * (`SELECT … FOR UPDATE` on PostgreSQL; SQLite runs one writer at a time anyway), so concurrent
 * writers from several processes still produce a gap-free, correctly linked chain. Nothing in the
 * application updates or deletes an event. A chain begins only for a tenant that still exists, which
 * keeps a purged tenant's audited writes out of the store (`refuseUnlessLive`). The actor name and
 * the targets are stored encrypted (sensitive-audit-columns.ts); `custos keys rotate` re-encrypts
 * them, which rewrites those two values but never what an event says.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { AuditFilter, AuditStore } from '../../domain/audit/audit-log.js';
import { noteAuditAppended } from '../../domain/audit/audit-scope.js';
import {
  chainAuditEvent,
  type AuditActor,
  type AuditEventBody,
  type AuditTarget,
  type ChainedAuditEvent,
} from '../../domain/audit/audit-chain.js';
import type { AuditEventTable, RegionDatabase } from '../database.js';
import { isPostgres } from '../dialects/postgres.js';
import { DomainError } from '../../domain/domain-error.js';
import type { CipherSource } from '../../domain/encryption/tenant-cipher.js';
import { openRows, reencryptBatch, sealValues, type ReencryptedBatch } from './sealed-columns.js';
import { AUDIT_EVENT_COLUMNS, targetIdPattern } from './sensitive-audit-columns.js';

/**
 * The conditions of an audit filter, over the columns the tenant's own log and imported chains
 * share (so one list of conditions serves both tables).
 */
export function auditFilterConditions(filter: AuditFilter): RawBuilder<boolean>[] {
  const conditions: RawBuilder<boolean>[] = [];
  if (filter.from !== undefined) conditions.push(sql<boolean>`occurred_at >= ${filter.from}`);
  if (filter.to !== undefined) conditions.push(sql<boolean>`occurred_at < ${filter.to}`);
  if (filter.category !== undefined) conditions.push(sql<boolean>`category = ${filter.category}`);
  if (filter.activity !== undefined) conditions.push(sql<boolean>`activity = ${filter.activity}`);
  if (filter.actorId !== undefined) conditions.push(sql<boolean>`actor_id = ${filter.actorId}`);
  if (filter.result !== undefined) conditions.push(sql<boolean>`result = ${filter.result}`);
  if (filter.targetId !== undefined) conditions.push(sql<boolean>`target_ids like ${targetIdPattern(filter.targetId)} escape '\\'`);
  return conditions;
}

/** A stored row as the event it records (sealed columns already opened). */
export function toAuditEvent(r: AuditEventTable): ChainedAuditEvent {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    sequence: r.sequence,
    occurredAt: r.occurred_at,
    actor: { type: r.actor_type as AuditActor['type'], id: r.actor_id, name: r.actor_name, ip: r.actor_ip },
    activity: r.activity,
    category: r.category,
    operation: r.operation as AuditEventBody['operation'],
    result: r.result === 'failure' ? 'failure' : 'success',
    targets: JSON.parse(r.targets) as AuditTarget[],
    correlationId: r.correlation_id,
    previousHash: r.previous_hash,
    hash: r.hash,
  };
}

export class AuditRepository implements AuditStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {}

  append(event: Omit<AuditEventBody, 'sequence' | 'tenantId'>): Promise<ChainedAuditEvent> {
    const work = async (trx: Kysely<RegionDatabase>): Promise<ChainedAuditEvent> => {
      // Before the chain head is locked, so the lock is not held while a key is loaded.
      const cipher = await this.cipher();
      await trx
        .insertInto('audit_chain_heads')
        .values({ tenant_id: this.tenantId, sequence: 0, hash: '' })
        .onConflict((oc) => oc.column('tenant_id').doNothing())
        .execute();
      let headQuery = trx.selectFrom('audit_chain_heads').select(['sequence', 'hash']).where('tenant_id', '=', this.tenantId);
      if (isPostgres(trx as Kysely<unknown>)) headQuery = headQuery.forUpdate();
      // No head although one was just ensured: a purge deleted it while this append waited for its lock.
      const head = await headQuery.executeTakeFirst();
      if (!head) throw new DomainError('tenant-not-found', `Tenant ${this.tenantId} no longer exists (it was purged).`);
      if (head.sequence === 0) await this.refuseUnlessLive(trx);
      const chained = chainAuditEvent(head.sequence === 0 ? undefined : head, { ...event, tenantId: this.tenantId });
      await trx
        .insertInto('audit_events')
        .values(
          sealValues(cipher, AUDIT_EVENT_COLUMNS, {
            tenant_id: this.tenantId,
            sequence: chained.sequence,
            id: chained.id,
            occurred_at: chained.occurredAt,
            actor_type: chained.actor.type,
            actor_id: chained.actor.id,
            actor_name: chained.actor.name,
            actor_ip: chained.actor.ip,
            activity: chained.activity,
            category: chained.category,
            operation: chained.operation,
            result: chained.result,
            targets: JSON.stringify(chained.targets),
            correlation_id: chained.correlationId,
            previous_hash: chained.previousHash,
            hash: chained.hash,
            // Filled from the targets by sealValues.
            target_ids: null,
          }),
        )
        .execute();
      await trx
        .updateTable('audit_chain_heads')
        .set({ sequence: chained.sequence, hash: chained.hash })
        .where('tenant_id', '=', this.tenantId)
        .execute();
      noteAuditAppended();
      return chained;
    };
    return this.db.isTransaction ? work(this.db) : this.db.transaction().execute(work);
  }

  /**
   * A chain may only begin for a tenant whose settings row exists — written with the first event by
   * `tenant create`, deleted only by the purge. A process that still caches a purged tenant (the
   * purge ran in another process) fails here instead of starting a new chain, and with it the whole
   * transaction of the write it records: the purge is never undone by a late write. The purge locks
   * the chain head first (storage/tenant-purge.ts), so a write and a purge never interleave.
   */
  private async refuseUnlessLive(trx: Kysely<RegionDatabase>): Promise<void> {
    const settings = await trx.selectFrom('tenant_settings').select('tenant_id').where('tenant_id', '=', this.tenantId).executeTakeFirst();
    if (!settings) throw new DomainError('tenant-not-found', `Tenant ${this.tenantId} no longer exists (it was purged).`);
  }

  async list(filter: AuditFilter, page: { limit: number; beforeSequence?: number }): Promise<ChainedAuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', this.tenantId);
    if (page.beforeSequence !== undefined) q = q.where('sequence', '<', page.beforeSequence);
    for (const condition of auditFilterConditions(filter)) q = q.where(condition);
    const rows = await q.orderBy('sequence', 'desc').limit(page.limit).execute();
    return (await openRows(this.cipher, AUDIT_EVENT_COLUMNS, rows)).map(toAuditEvent);
  }

  async head(): Promise<{ sequence: number; hash: string } | undefined> {
    const row = await this.db
      .selectFrom('audit_chain_heads')
      .select(['sequence', 'hash'])
      .where('tenant_id', '=', this.tenantId)
      .executeTakeFirst();
    return row && row.sequence > 0 ? row : undefined;
  }

  async *all(batchSize = 1000): AsyncIterable<ChainedAuditEvent> {
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('audit_events')
        .selectAll()
        .where('tenant_id', '=', this.tenantId)
        .where('sequence', '>', after)
        .orderBy('sequence')
        .limit(batchSize)
        .execute();
      for (const row of await openRows(this.cipher, AUDIT_EVENT_COLUMNS, rows)) yield toAuditEvent(row);
      const last = rows.at(-1);
      if (!last || rows.length < batchSize) return;
      after = last.sequence;
    }
  }

  /** Re-encrypts one batch (after a sequence) under the current key version (`custos keys rotate`). */
  async reencryptBatch(afterSequence: string | null, limit: number): Promise<ReencryptedBatch> {
    return reencryptBatch(this.db, AUDIT_EVENT_COLUMNS, this.tenantId, await this.cipher({ refresh: true }), afterSequence, limit);
  }
}
