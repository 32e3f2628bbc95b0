/**
 * Configuration profiles for admins (SPEC §6): CRUD with versions, assignments, a profile's status
 * counts and a device's status per profile. Reading needs `policies.read`, changing
 * `policies.write`; a device's profiles need `devices.read`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ConfigurationProfileInputSchema,
  ConfigurationProfileListSchema,
  ConfigurationProfileSchema,
  ConfigurationProfileUpdateSchema,
  DeviceIdParams,
  DeviceProfilesSchema,
  PolicyAssignmentsSchema,
  PolicyIdParams,
  ProblemSchema,
  ProfileStatusSummarySchema,
} from '@custos/shared';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';
import { toConfigurationProfileDto, toDeviceProfileStatusDto } from './profile-dto.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };
const tags = ['configuration profiles'];
const BASE = '/api/v1/configuration-profiles';

export const profileRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.post(
    BASE,
    {
      config: { permission: 'policies.write' },
      schema: {
        tags,
        summary: 'Create a configuration profile (version 1, assigned to nobody); "kind" names the member holding its settings',
        body: ConfigurationProfileInputSchema,
        response: { 201: ConfigurationProfileSchema, ...errors },
      },
    },
    async (request, reply) => {
      const profile = await services.profiles.create(request.actor, actorTenant(request), request.body);
      return reply.code(201).send(toConfigurationProfileDto(profile));
    },
  );

  app.get(
    BASE,
    {
      config: { permission: 'policies.read' },
      schema: { tags, summary: 'The configuration profiles, oldest first', response: { 200: ConfigurationProfileListSchema, ...errors } },
    },
    async (request) => ({ items: (await services.profiles.list(request.actor, actorTenant(request))).map(toConfigurationProfileDto) }),
  );

  app.get(
    `${BASE}/:id`,
    {
      config: { permission: 'policies.read' },
      schema: {
        tags,
        summary: 'One configuration profile (secrets shown only as "…Set")',
        params: PolicyIdParams,
        response: { 200: ConfigurationProfileSchema, ...errors },
      },
    },
    async (request) => toConfigurationProfileDto(await services.profiles.get(request.actor, actorTenant(request), request.params.id)),
  );

  app.put(
    `${BASE}/:id`,
    {
      config: { permission: 'policies.write' },
      schema: {
        tags,
        summary:
          'Replace a profile: its version goes up by one and its devices apply it again; a stale "version" is a 409; omitted secrets are kept',
        params: PolicyIdParams,
        body: ConfigurationProfileUpdateSchema,
        response: { 200: ConfigurationProfileSchema, ...errors },
      },
    },
    async (request) =>
      toConfigurationProfileDto(await services.profiles.update(request.actor, actorTenant(request), request.params.id, request.body)),
  );

  app.delete(
    `${BASE}/:id`,
    {
      config: { permission: 'policies.write' },
      schema: {
        tags,
        summary: 'Delete a profile (soft): devices remove it',
        params: PolicyIdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.profiles.delete(request.actor, actorTenant(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.put(
    `${BASE}/:id/assignments`,
    {
      config: { permission: 'policies.write' },
      schema: {
        tags,
        summary: 'Replace who the profile applies to (groups must be groups of this tenant); affected online devices are woken',
        params: PolicyIdParams,
        body: PolicyAssignmentsSchema,
        response: { 200: ConfigurationProfileSchema, ...errors },
      },
    },
    async (request) =>
      toConfigurationProfileDto(
        await services.profiles.setAssignments(request.actor, actorTenant(request), request.params.id, request.body.assignments),
      ),
  );

  app.get(
    `${BASE}/:id/status`,
    {
      config: { permission: 'policies.read' },
      schema: {
        tags,
        summary: 'How many devices are pending, succeeded, failed or not applicable for the profile',
        params: PolicyIdParams,
        response: { 200: ProfileStatusSummarySchema, ...errors },
      },
    },
    async (request) => services.profiles.statusSummary(request.actor, actorTenant(request), request.params.id),
  );

  app.get(
    '/api/v1/devices/:id/profiles',
    {
      config: { permission: 'devices.read' },
      schema: {
        tags,
        summary: "A device's configuration profiles: status, reason, version and restriction conflicts of each",
        params: DeviceIdParams,
        response: { 200: DeviceProfilesSchema, ...errors },
      },
    },
    async (request) => ({
      deviceId: request.params.id,
      items: (await services.profiles.deviceProfiles(request.actor, actorTenant(request), request.params.id)).map(toDeviceProfileStatusDto),
    }),
  );
};
