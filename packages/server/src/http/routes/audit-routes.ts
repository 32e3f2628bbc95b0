import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditEventListSchema, AuditEventQuery, AuditVerifySchema, ProblemSchema } from '@custos/shared';
import type { ChainedAuditEvent } from '../../domain/audit/audit-chain.js';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema };

export function toAuditEventDto(e: ChainedAuditEvent, imported = false) {
  return {
    ...(imported ? { sourceTenantId: e.tenantId } : {}),
    id: e.id,
    sequence: e.sequence,
    occurredAt: new Date(e.occurredAt).toISOString(),
    actor: e.actor,
    activity: e.activity,
    category: e.category,
    operation: e.operation,
    result: e.result,
    targets: e.targets,
    correlationId: e.correlationId,
    previousHash: e.previousHash,
    hash: e.hash,
  };
}

export const auditRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/audit-events',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags: ['audit'],
        summary: "The tenant's audit log, newest first (filters, cursor paging); source=imported: the chains an import brought along",
        querystring: AuditEventQuery,
        response: { 200: AuditEventListSchema, ...errors },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await services.audit.list(
        request.actor,
        actorTenant(request),
        {
          ...(q.from === undefined ? {} : { from: Date.parse(q.from) }),
          ...(q.to === undefined ? {} : { to: Date.parse(q.to) }),
          ...(q.category === undefined ? {} : { category: q.category }),
          ...(q.activity === undefined ? {} : { activity: q.activity }),
          ...(q.actorId === undefined ? {} : { actorId: q.actorId }),
          ...(q.targetId === undefined ? {} : { targetId: q.targetId }),
          ...(q.result === undefined ? {} : { result: q.result }),
        },
        {
          ...(q.limit === undefined ? {} : { limit: q.limit }),
          ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
          ...(q.source === undefined ? {} : { source: q.source }),
        },
      );
      return { items: page.items.map((e) => toAuditEventDto(e, q.source === 'imported')), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/audit-events/verify',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags: ['audit'],
        summary: "Verifies the tenant's audit hash chain, and every chain an import brought along, and names the first broken event",
        response: { 200: AuditVerifySchema, ...errors },
      },
    },
    async (request) => services.audit.verify(request.actor, actorTenant(request)),
  );
};
