/**
 * Reading and verifying a tenant's audit log. Listing needs `audit.read`; verification walks the
 * whole chain in batches (bounded memory) and names the first broken event — in the tenant's own
 * chain or in a chain an import brought along (imported-audit.ts).
 */
import { authorize, type Actor } from '../access/authorize.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { AuditChainVerifier, type ChainVerdict, type ChainedAuditEvent } from './audit-chain.js';
import type { AuditFilter } from './audit-log.js';
import { attestedChains, verifyImportedChains, type ImportedAuditEvent, type ImportedChainVerdict } from './imported-audit.js';
import { attestsCheckpoint, AUDIT_PRUNE_ACTIVITY, recordedImportedCheckpoints } from '../retention/audit-pruning.js';

export const MAX_AUDIT_PAGE = 500;

export interface AuditPage {
  /** Imported events (`source: 'imported'`) carry their position; their `tenantId` is the source tenant's. */
  items: (ChainedAuditEvent | ImportedAuditEvent)[];
  nextCursor: string | null;
}

/** The tenant's own chain (top level) and every chain an import brought along; intact only when all are. */
export type TenantAuditVerdict = ChainVerdict & { imported: ImportedChainVerdict[] };

export class AuditService {
  constructor(
    private readonly tenants: TenantService,
    readonly clock: Clock,
  ) {}

  /** `source`: the tenant's own chain (default) or the chains an import brought along. */
  async list(
    actor: Actor,
    tenantId: string,
    filter: AuditFilter,
    page: { limit?: number; cursor?: string; source?: 'tenant' | 'imported' },
  ): Promise<AuditPage> {
    authorize(actor, 'audit.read', { tenantId });
    const limit = Math.min(Math.max(page.limit ?? 100, 1), MAX_AUDIT_PAGE);
    let before: number | undefined;
    if (page.cursor !== undefined) {
      before = Number(page.cursor);
      if (!Number.isSafeInteger(before) || before < 1) {
        throw new DomainError('invalid-cursor', 'The cursor does not belong to this list; start again without a cursor.');
      }
    }
    const data = await this.tenants.data(tenantId);
    if (page.source === 'imported') {
      const rows = await data.importedAudit.list(filter, { limit: limit + 1, ...(before === undefined ? {} : { beforePosition: before }) });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? String(last.position) : null };
    }
    const rows = await data.audit.list(filter, { limit: limit + 1, ...(before === undefined ? {} : { beforeSequence: before }) });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? String(last.sequence) : null };
  }

  /** Verifies the tenant's own chain, then every imported chain against what its import attested. */
  async verify(actor: Actor, tenantId: string): Promise<TenantAuditVerdict> {
    const own = await this.verifyOwn(actor, tenantId);
    const data = await this.tenants.data(tenantId);
    const checkpoints = await data.retention.importedAuditCheckpoints();
    const recorded = checkpoints.length > 0 ? await recordedImportedCheckpoints(data.audit) : [];
    const imported = await verifyImportedChains(data.importedAudit, await attestedChains(data.audit), { checkpoints, recorded });
    const broken = imported.find((v) => !v.intact);
    if (!own.intact || !broken || broken.intact) return { ...own, imported };
    return {
      intact: false,
      events: own.events,
      problem: broken.problem,
      sequence: broken.sequence,
      eventId: broken.eventId,
      detail: `imported chain of tenant ${broken.sourceTenantId}: ${broken.detail}`,
      imported,
    };
  }

  private async verifyOwn(actor: Actor, tenantId: string): Promise<ChainVerdict> {
    authorize(actor, 'audit.read', { tenantId });
    const data = await this.tenants.data(tenantId);
    // After retention pruned the oldest events, the chain continues from the recorded checkpoint,
    // and the newest prune event in the chain must name that very checkpoint (domain/retention/).
    const checkpoint = await data.retention.auditCheckpoint();
    const verifier = new AuditChainVerifier(checkpoint);
    let attested = checkpoint === undefined;
    for await (const event of data.audit.all()) {
      if (verifier.push(event)) break;
      if (checkpoint && event.activity === AUDIT_PRUNE_ACTIVITY) attested = attestsCheckpoint(event, checkpoint);
    }
    const verdict = verifier.finish(await data.audit.head());
    if (verdict.intact && checkpoint && !attested) {
      return {
        intact: false,
        events: verdict.events,
        problem: 'missing',
        sequence: checkpoint.sequence,
        eventId: null,
        detail: `the log starts after sequence ${checkpoint.sequence}, but no prune event in the chain records that checkpoint`,
      };
    }
    return verdict;
  }
}
