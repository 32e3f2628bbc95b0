/**
 * Scope tags on a device (SPEC §3): an admin whose role is assigned over tags sees and acts on only
 * the devices carrying one of them (domain/devices/device-scope.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DeviceIdParams, DeviceSchema, DeviceScopeTagsSchema, ProblemSchema } from '@custos/shared';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';
import { toDeviceDto } from './device-dto.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };

export const deviceScopeRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.put(
    '/api/v1/devices/:id/scope-tags',
    {
      config: { permission: 'devices.write' },
      schema: {
        tags: ['devices'],
        summary: "Replace the device's scope tags",
        params: DeviceIdParams,
        body: DeviceScopeTagsSchema,
        response: { 200: DeviceSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      return toDeviceDto(tenantId, await services.devices.setScopeTags(request.actor, tenantId, request.params.id, request.body.scopeTags));
    },
  );
};
