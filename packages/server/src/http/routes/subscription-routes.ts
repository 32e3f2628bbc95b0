/** The tenant's subscription state for admins and portals (the lifecycle notice, SPEC §9). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ProblemSchema, TenantSubscriptionSchema, type TenantSubscription } from '@custos/shared';
import type { SubscriptionView } from '../../domain/lifecycle/lifecycle-service.js';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';

const errors = { 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function toSubscriptionDto(view: SubscriptionView): TenantSubscription {
  return {
    state: view.state,
    stateSince: new Date(view.stateSince).toISOString(),
    subscriptionEndsAt: iso(view.subscriptionEndsAt),
    deletionRequestedAt: iso(view.deletionRequestedAt),
    next: view.next && { state: view.next.state, at: new Date(view.next.at).toISOString() },
    notice: view.notice,
  };
}

export const subscriptionRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/tenant/subscription',
    {
      schema: {
        tags: ['tenant'],
        summary: 'The subscription state (active, warning, suspended, retention), when it changes next, and a notice for banners',
        response: { 200: TenantSubscriptionSchema, ...errors },
      },
      config: { permission: 'tenant.read' },
    },
    async (request) => toSubscriptionDto(await services.lifecycle.view(request.actor, actorTenant(request))),
  );
  app.post(
    '/api/v1/tenant/subscription/deletion-request',
    {
      schema: {
        tags: ['tenant'],
        summary:
          "Ask for every piece of the tenant's data to be purged; it happens after the confirmation window (default 7 days) unless withdrawn",
        response: { 202: TenantSubscriptionSchema, 409: ProblemSchema, ...errors },
      },
      // A tenant in retention may still ask to be purged sooner.
      config: { permission: 'lifecycle.manage', allowedInRetention: true },
    },
    async (request, reply) => {
      const tenantId = actorTenant(request);
      await services.lifecycle.requestDeletion(request.actor, tenantId);
      return reply.code(202).send(toSubscriptionDto(await services.lifecycle.view(request.actor, tenantId)));
    },
  );
  app.delete(
    '/api/v1/tenant/subscription/deletion-request',
    {
      schema: {
        tags: ['tenant'],
        summary: 'Withdraw a pending deletion request',
        response: { 200: TenantSubscriptionSchema, 409: ProblemSchema, ...errors },
      },
      config: { permission: 'lifecycle.manage', allowedInRetention: true },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      await services.lifecycle.withdrawDeletion(request.actor, tenantId);
      return toSubscriptionDto(await services.lifecycle.view(request.actor, tenantId));
    },
  );
  return Promise.resolve();
};
