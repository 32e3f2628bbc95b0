import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  appInventoryScope,
  AppListSchema,
  DeviceIdParams,
  DeviceListQuery,
  DeviceListSchema,
  DeviceSchema,
  ProblemSchema,
} from '@custos/shared';
import type { AppServices } from '../services.js';
import { actorTenant } from '../plugins/authenticate.js';
import { toAppDto, toDeviceDto } from './device-dto.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };

export const deviceRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/devices',
    {
      config: { permission: 'devices.read' },
      schema: {
        tags: ['devices'],
        summary: 'List devices (filter, search, sort, cursor paging)',
        querystring: DeviceListQuery,
        response: { 200: DeviceListSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      const page = await services.devices.list(request.actor, tenantId, request.query);
      return { items: page.items.map((d) => toDeviceDto(tenantId, d)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/api/v1/devices/:id',
    {
      config: { permission: 'devices.read' },
      schema: { tags: ['devices'], summary: 'One device', params: DeviceIdParams, response: { 200: DeviceSchema, ...errors } },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      return toDeviceDto(tenantId, await services.devices.get(request.actor, tenantId, request.params.id));
    },
  );

  app.get(
    '/api/v1/devices/:id/apps',
    {
      config: { permission: 'devices.read' },
      schema: {
        tags: ['devices'],
        summary: "A device's app inventory",
        params: DeviceIdParams,
        response: { 200: AppListSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      const { device, apps } = await services.devices.apps(request.actor, tenantId, request.params.id);
      return {
        items: apps.map(toAppDto),
        appInventoryScope: appInventoryScope(device.ownership, device.platform, device.appListPolicyApplies),
      };
    },
  );

  app.delete(
    '/api/v1/devices/:id',
    {
      config: { permission: 'devices.retire' },
      schema: {
        tags: ['devices'],
        summary: 'Retire the device record and revoke its credential',
        params: DeviceIdParams,
        response: { 200: DeviceSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      return toDeviceDto(tenantId, await services.devices.retire(request.actor, tenantId, request.params.id));
    },
  );
};
