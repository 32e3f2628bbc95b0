/**
 * The retire list (SPEC §6): devices a `retireList` action for non-compliance put forward. Reading it
 * needs `devices.read`; confirming (which queues a retire command) or dismissing needs `devices.retire`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DeviceIdParams, ProblemSchema, RetireListDecisionSchema, RetireListSchema } from '@custos/shared';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };
const tags = ['compliance'];
const iso = (ms: number) => new Date(ms).toISOString();

export const retireListRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/compliance/retire-list',
    {
      config: { permission: 'devices.read' },
      schema: {
        tags,
        summary: 'Devices a non-compliance action put on the retire list, awaiting an admin’s decision, oldest first',
        response: { 200: RetireListSchema, ...errors },
      },
    },
    async (request) => ({
      items: (await services.noncompliance.listRetireList(request.actor, actorTenant(request))).map((e) => ({
        deviceId: e.deviceId,
        deviceName: e.deviceName,
        userEmail: e.userEmail,
        policyId: e.policyId,
        policyName: e.policyName,
        addedAt: iso(e.addedAt),
      })),
    }),
  );

  app.post(
    '/api/v1/compliance/retire-list/:id/confirm',
    {
      config: { permission: 'devices.retire' },
      schema: {
        tags,
        summary: 'Confirm: queue a retire command for the device and take it off the list',
        params: DeviceIdParams,
        response: { 200: RetireListDecisionSchema, ...errors },
      },
    },
    async (request) => {
      const { commandId } = await services.noncompliance.confirmRetire(request.actor, actorTenant(request), request.params.id);
      return { deviceId: request.params.id, decision: 'confirmed' as const, commandId };
    },
  );

  app.post(
    '/api/v1/compliance/retire-list/:id/dismiss',
    {
      config: { permission: 'devices.retire' },
      schema: {
        tags,
        summary: 'Dismiss: take the device off the list without retiring it',
        params: DeviceIdParams,
        response: { 200: RetireListDecisionSchema, ...errors },
      },
    },
    async (request) => {
      await services.noncompliance.dismissRetire(request.actor, actorTenant(request), request.params.id);
      return { deviceId: request.params.id, decision: 'dismissed' as const, commandId: null };
    },
  );
};
