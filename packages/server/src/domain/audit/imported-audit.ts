/**
 * Audit chains an import brought along (SPEC §9 "Export"; domain/export/). A tenant imported from an
 * archive gets a new id, and every event's hash covers its tenant id, so the source tenant's chain
 * cannot continue in the new tenant's own chain. It is kept instead as a read-only archive beside it:
 * each event exactly as its source tenant hashed it (source tenant id, sequence, previous hash and
 * hash), ordered by `position` across chains (an archive of a tenant that was itself imported holds
 * that tenant's imported chains too, and they travel on).
 *
 * The import checks every chain's links before storing it (a broken chain refuses the archive), and
 * its `Import tenant data` event in the new tenant's own chain attests each chain's extent: event
 * count, first sequence and the hash it follows, last sequence and hash. Verification walks each
 * stored chain from the attested start to the attested end, so an event altered, deleted (also at
 * either end) or re-ordered after the import is named. Without an attesting event (pruned by
 * retention) only the links between the stored events can be checked. Retention prunes imported
 * events like the tenant's own (domain/retention/audit-pruning.ts): a pruned chain is verified from
 * its checkpoint, which the newest imported prune event of the tenant's log must record.
 */
import { AuditChainVerifier, type ChainVerdict, type ChainedAuditEvent } from './audit-chain.js';
import type { AuditFilter, AuditStore } from './audit-log.js';

export const IMPORT_ACTIVITY = 'Import tenant data';
/** The `modifiedProperties` name under which the import event attests the imported chains. */
export const IMPORTED_CHAINS_PROPERTY = 'importedAuditChains';

/** An imported event: `tenantId` is the source tenant's id (the one its hash covers). */
export interface ImportedAuditEvent extends ChainedAuditEvent {
  position: number;
}

/** The extent of one imported chain, as the import event attests it. */
export interface ImportedChainSummary {
  sourceTenantId: string;
  events: number;
  firstSequence: number;
  /** The hash the first imported event follows (the genesis hash, or a pruned checkpoint's). */
  firstPreviousHash: string;
  lastSequence: number;
  lastHash: string;
}

export type ImportedChainVerdict = ChainVerdict & { sourceTenantId: string; attested: boolean };

/** The last pruned event of an imported chain, from which the remaining events continue. */
export interface ImportedChainCheckpoint {
  sourceTenantId: string;
  sequence: number;
  hash: string;
}

/** The stored checkpoints of pruned imported chains, and those the tenant's log records. */
export interface ImportedPruning {
  checkpoints: readonly ImportedChainCheckpoint[];
  recorded: readonly ImportedChainCheckpoint[];
}

export interface ImportedAuditStore {
  /** Newest position first; `beforePosition` pages backwards. */
  list(filter: AuditFilter, page: { limit: number; beforePosition?: number }): Promise<ImportedAuditEvent[]>;
  /** Every event, chain by chain (source tenant id, then sequence), read in batches. */
  all(batchSize?: number): AsyncIterable<ImportedAuditEvent>;
  /** Re-encrypts one batch (after a position) under the current key version (`custos keys rotate`). */
  reencryptBatch(afterPosition: string | null, limit: number): Promise<{ lastId: string | null; scanned: number; rewritten: number }>;
}

/** Builds chain summaries from events streamed in chain order, checking each chain's links as they come. */
export class ImportedChainCollector {
  private readonly summaries = new Map<string, ImportedChainSummary>();
  private readonly verifiers = new Map<string, AuditChainVerifier>();

  /** Adds the next event of its chain; returns the verdict when the chain is broken there. */
  push(event: ChainedAuditEvent): ChainVerdict | null {
    const current = this.summaries.get(event.tenantId);
    let verifier = this.verifiers.get(event.tenantId);
    if (!current || !verifier) {
      verifier = new AuditChainVerifier({ sequence: event.sequence - 1, hash: event.previousHash });
      this.verifiers.set(event.tenantId, verifier);
      this.summaries.set(event.tenantId, {
        sourceTenantId: event.tenantId,
        events: 1,
        firstSequence: event.sequence,
        firstPreviousHash: event.previousHash,
        lastSequence: event.sequence,
        lastHash: event.hash,
      });
    } else {
      current.events++;
      current.lastSequence = event.sequence;
      current.lastHash = event.hash;
    }
    return verifier.push(event);
  }

  chains(): ImportedChainSummary[] {
    return [...this.summaries.values()];
  }
}

/** The attested chains in the newest import event of a tenant's own log (undefined: none, or pruned). */
export async function attestedChains(audit: AuditStore): Promise<ImportedChainSummary[] | undefined> {
  const [event] = await audit.list({ activity: IMPORT_ACTIVITY }, { limit: 1 });
  const value = event?.targets[0]?.modifiedProperties?.find((p) => p.name === IMPORTED_CHAINS_PROPERTY)?.newValue;
  return Array.isArray(value) ? (value as ImportedChainSummary[]) : undefined;
}

/** The event as its source hashed it: the verifier hashes every field but the chain's own, so `position` must go. */
function asChained(event: ImportedAuditEvent): ChainedAuditEvent {
  const chained: ChainedAuditEvent & { position?: number } = { ...event };
  delete chained.position;
  return chained;
}

/** Verifies every imported chain against what the import attested (when it did), from its checkpoint once pruned. */
export async function verifyImportedChains(
  store: ImportedAuditStore,
  attested: readonly ImportedChainSummary[] | undefined,
  pruning: ImportedPruning = { checkpoints: [], recorded: [] },
): Promise<ImportedChainVerdict[]> {
  const verdicts: ImportedChainVerdict[] = [];
  const expected = new Map((attested ?? []).map((c) => [c.sourceTenantId, c]));
  const pruned = new Map(pruning.checkpoints.map((c) => [c.sourceTenantId, c]));
  const isRecorded = (c: ImportedChainCheckpoint) =>
    pruning.recorded.some((r) => r.sourceTenantId === c.sourceTenantId && r.sequence === c.sequence && r.hash === c.hash);
  const unrecorded = (c: ImportedChainCheckpoint, events: number, attestedChain: boolean): ImportedChainVerdict => ({
    intact: false,
    events,
    problem: 'missing',
    sequence: c.sequence,
    eventId: null,
    detail: `the chain starts after sequence ${c.sequence}, but no prune event in the log records that checkpoint`,
    sourceTenantId: c.sourceTenantId,
    attested: attestedChain,
  });
  let source: string | undefined;
  let verifier: AuditChainVerifier | undefined;
  const close = () => {
    if (source === undefined || !verifier) return;
    const claim = expected.get(source);
    const checkpoint = pruned.get(source);
    const verdict = verifier.finish(claim && { sequence: claim.lastSequence, hash: claim.lastHash });
    verdicts.push(
      verdict.intact && checkpoint && !isRecorded(checkpoint)
        ? unrecorded(checkpoint, verdict.events, !!claim)
        : { ...verdict, sourceTenantId: source, attested: !!claim },
    );
    expected.delete(source);
    pruned.delete(source);
  };
  for await (const event of store.all()) {
    if (event.tenantId !== source) {
      close();
      source = event.tenantId;
      const claim = expected.get(source);
      const checkpoint = pruned.get(source);
      verifier = new AuditChainVerifier(
        checkpoint ??
          (claim
            ? { sequence: claim.firstSequence - 1, hash: claim.firstPreviousHash }
            : { sequence: event.sequence - 1, hash: event.previousHash }),
      );
    }
    verifier?.push(asChained(event));
  }
  close();
  // A chain the import attested of which no event is left: pruned to its end, or missing.
  for (const claim of expected.values()) {
    const checkpoint = pruned.get(claim.sourceTenantId);
    pruned.delete(claim.sourceTenantId);
    if (checkpoint && checkpoint.sequence === claim.lastSequence && checkpoint.hash === claim.lastHash) {
      verdicts.push(
        isRecorded(checkpoint)
          ? { intact: true, events: 0, lastHash: checkpoint.hash, sourceTenantId: claim.sourceTenantId, attested: true }
          : unrecorded(checkpoint, 0, true),
      );
      continue;
    }
    verdicts.push({
      intact: false,
      events: 0,
      problem: 'missing',
      sequence: claim.firstSequence,
      eventId: null,
      detail: `every event (sequence ${claim.firstSequence} to ${claim.lastSequence}) is missing`,
      sourceTenantId: claim.sourceTenantId,
      attested: true,
    });
  }
  // A chain pruned to its end whose import event has aged out too: its checkpoint must still be recorded.
  for (const checkpoint of pruned.values()) {
    verdicts.push(
      isRecorded(checkpoint)
        ? { intact: true, events: 0, lastHash: checkpoint.hash, sourceTenantId: checkpoint.sourceTenantId, attested: false }
        : unrecorded(checkpoint, 0, false),
    );
  }
  return verdicts;
}
