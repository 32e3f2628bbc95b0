/** The tenant's retention rules and its stale-device setting (shared/src/retention.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ProblemSchema, TenantRetentionSchema, TenantRetentionUpdateSchema, type TenantRetention } from '@custos/shared';
import type { RetentionSettings } from '../../domain/retention/retention-service.js';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 423: ProblemSchema };

function toDto(s: RetentionSettings): TenantRetention {
  return { staleDeviceDays: s.staleDeviceDays, rules: s.rules.map((r) => ({ rule: r.rule, description: r.description, days: r.days })) };
}

export const retentionRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/tenant/retention',
    {
      schema: {
        tags: ['tenant'],
        summary: 'How long data is kept: the retention rules and the stale-device setting',
        response: { 200: TenantRetentionSchema, ...errors },
      },
      config: { permission: 'tenant.read' },
    },
    async (request) => toDto(await services.retention.settings(request.actor, actorTenant(request))),
  );
  app.put(
    '/api/v1/tenant/retention',
    {
      schema: {
        tags: ['tenant'],
        summary: 'Turn stale-device cleanup on (30–270 days without a check-in retires the device) or off (null)',
        body: TenantRetentionUpdateSchema,
        response: { 200: TenantRetentionSchema, ...errors },
      },
      config: { permission: 'tenant.write' },
    },
    async (request) =>
      toDto(await services.retention.setStaleDeviceDays(request.actor, actorTenant(request), request.body.staleDeviceDays)),
  );
  return Promise.resolve();
};
