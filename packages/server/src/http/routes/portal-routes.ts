/**
 * The Company Portal's endpoints (`/api/v1/portal/*`, `/api/v1/me/*`) and the admin dashboard's
 * summary. Portal routes need a signed-in user and no admin permission: they act on the user's own
 * devices only (domain/portal/self-service.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  DEVICE_NAME_PATTERN,
  DeviceIdParams,
  ProblemSchema,
  TenantSettingsSchema,
  TenantSettingsUpdateSchema,
  BrandingSchema,
} from '@custos/shared';
import type { Tenant, TenantSettings } from '../../domain/tenants/tenant.js';
import { authorize, scopeFilter } from '../../domain/access/authorize.js';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';
import { toDeviceDto } from './device-dto.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };
const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);
const CountBy = Type.Array(Type.Object({ key: Type.String(), count: Type.Integer() }));

const DeviceSummarySchema = Type.Object({
  total: Type.Integer(),
  byComplianceState: CountBy,
  byPlatform: CountBy,
  byOwnership: CountBy,
  byOsVersion: Type.Array(
    Type.Object({ operatingSystem: Nullable(Type.String()), osVersion: Nullable(Type.String()), count: Type.Integer() }),
  ),
  checkInsByDay: Type.Array(Type.Object({ day: Type.String(), count: Type.Integer() })),
});

const MyDeviceSchema = Type.Object({
  id: Type.String(),
  deviceName: Nullable(Type.String()),
  platform: Type.String(),
  operatingSystem: Nullable(Type.String()),
  osVersion: Nullable(Type.String()),
  ownership: Type.String(),
  status: Type.String(),
  complianceState: Type.String(),
  canAccessCompanyResources: Type.Boolean(),
  reasons: Type.Array(Type.String()),
  lastCheckInAt: Nullable(Type.String()),
});

const VisibilitySchema = Type.Object({
  collected: Type.Array(Type.Object({ name: Type.String(), label: Type.String(), purpose: Type.String() })),
  apps: Type.String(),
  neverCollected: Type.Array(Type.String()),
  retention: Type.Optional(Type.Array(Type.String())),
  appPolicies: Type.Array(Type.String()),
});

export const SUMMARY_DAYS = 14;

function toTenantSettingsDto({ tenant, settings }: { tenant: Tenant; settings: TenantSettings }) {
  return {
    tenantId: tenant.id,
    name: settings.name,
    country: settings.country,
    region: tenant.region,
    privacyStatement: settings.privacyStatement,
    supportContact: settings.supportContact,
    branding: settings.branding,
  };
}

export const portalRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/devices/summary',
    {
      schema: {
        tags: ['devices'],
        summary: 'Dashboard: active devices by compliance state, platform, ownership and OS version; last check-ins per day',
        response: { 200: DeviceSummarySchema, ...errors },
      },
      config: { permission: 'devices.read' },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      authorize(request.actor, 'devices.read', { tenantId });
      const data = await services.tenants.data(tenantId);
      return data.deviceReports.summary(scopeFilter(request.actor, 'devices.read'), services.audit.clock.now(), SUMMARY_DAYS);
    },
  );

  app.get(
    '/api/v1/tenant/settings',
    {
      schema: {
        tags: ['tenant'],
        summary: "The organization's settings: privacy statement, support contact, branding",
        response: { 200: TenantSettingsSchema, ...errors },
      },
      config: { permission: 'tenant.read' },
    },
    async (request) => toTenantSettingsDto(await services.portalSettings.get(request.actor, actorTenant(request))),
  );

  app.put(
    '/api/v1/tenant/settings',
    {
      schema: {
        tags: ['tenant'],
        summary: 'Change the privacy statement (its version goes up), the support contact or the branding; absent fields stay',
        body: TenantSettingsUpdateSchema,
        response: { 200: TenantSettingsSchema, ...errors },
      },
      config: { permission: 'tenant.write' },
    },
    async (request) => toTenantSettingsDto(await services.portalSettings.update(request.actor, actorTenant(request), request.body)),
  );

  app.get(
    '/api/v1/portal/info',
    {
      schema: {
        tags: ['portal'],
        summary: "Company Portal: the organization's name, support contact and privacy statement",
        response: {
          200: Type.Object({
            tenantName: Type.String(),
            supportContact: Nullable(Type.String()),
            privacyStatement: Type.Object({ version: Type.String(), text: Nullable(Type.String()), url: Nullable(Type.String()) }),
            branding: BrandingSchema,
          }),
          ...errors,
        },
      },
      config: { permission: 'self' },
    },
    async (request) => services.selfService.info(request.actor),
  );

  app.get(
    '/api/v1/me/devices',
    {
      schema: {
        tags: ['portal'],
        summary: "Company Portal: the signed-in user's devices, whether each can access company resources, and why not",
        response: { 200: Type.Object({ items: Type.Array(MyDeviceSchema) }), ...errors },
      },
      config: { permission: 'self' },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      const items = await services.selfService.myDevices(request.actor);
      return {
        items: items.map(({ device, canAccessCompanyResources, reasons }) => {
          const dto = toDeviceDto(tenantId, device);
          return {
            id: dto.id,
            deviceName: dto.deviceName,
            platform: dto.platform,
            operatingSystem: dto.operatingSystem,
            osVersion: dto.osVersion,
            ownership: dto.ownership,
            status: dto.status,
            complianceState: dto.complianceState,
            canAccessCompanyResources,
            reasons,
            lastCheckInAt: dto.lastCheckInAt,
          };
        }),
      };
    },
  );

  app.post(
    '/api/v1/me/devices/:id/sync',
    {
      schema: {
        tags: ['portal'],
        summary: 'Company Portal: ask my device to check in now',
        params: DeviceIdParams,
        response: { 204: Type.Null(), ...errors },
      },
      config: { permission: 'self' },
    },
    async (request, reply) => {
      await services.selfService.sync(request.actor, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/me/devices/:id/rename',
    {
      schema: {
        tags: ['portal'],
        summary: 'Company Portal: rename my device',
        params: DeviceIdParams,
        body: Type.Object({ deviceName: Type.String({ pattern: DEVICE_NAME_PATTERN }) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errors },
      },
      config: { permission: 'self' },
    },
    async (request, reply) => {
      await services.selfService.rename(request.actor, request.params.id, request.body.deviceName);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/api/v1/me/devices/:id',
    {
      schema: {
        tags: ['portal'],
        summary: 'Company Portal: remove my personal device from management (personal data stays)',
        params: DeviceIdParams,
        response: { 204: Type.Null(), ...errors },
      },
      config: { permission: 'self' },
    },
    async (request, reply) => {
      await services.selfService.remove(request.actor, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/me/devices/:id/visibility',
    {
      schema: {
        tags: ['portal'],
        summary: 'Company Portal: what my organization can and cannot see on this device, from the privacy catalog and its policies',
        params: DeviceIdParams,
        response: { 200: VisibilitySchema, ...errors },
      },
      config: { permission: 'self' },
    },
    async (request) => services.selfService.visibility(request.actor, request.params.id),
  );

  app.post(
    '/api/v1/me/enrollment-tokens',
    {
      schema: {
        tags: ['portal'],
        summary: 'Company Portal: a one-time, 24-hour enrollment code for one of my personal devices',
        response: { 201: Type.Object({ token: Type.String(), expiresAt: Type.String() }), ...errors },
      },
      config: { permission: 'self' },
    },
    async (request, reply) => {
      const created = await services.selfService.enrollmentToken(request.actor);
      return reply.code(201).send({ token: created.token, expiresAt: new Date(created.expiresAt).toISOString() });
    },
  );
};
