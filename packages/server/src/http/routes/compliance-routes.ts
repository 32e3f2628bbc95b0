/**
 * Compliance policies for admins (SPEC §6): CRUD with versions, assignments, a device's results,
 * the tenant's no-policy state and a whole-tenant re-evaluation. Reading needs `policies.read`,
 * changing `policies.write`; a device's results need `devices.read`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ComplianceEvaluationSchema,
  CompliancePolicyInputSchema,
  CompliancePolicyListSchema,
  CompliancePolicySchema,
  CompliancePolicyUpdateSchema,
  ComplianceTenantSettingsSchema,
  DeviceComplianceSchema,
  DeviceIdParams,
  PolicyAssignmentsSchema,
  PolicyIdParams,
  ProblemSchema,
} from '@custos/shared';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';
import { toCompliancePolicyDto, toDeviceComplianceDto } from './compliance-dto.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };
const tags = ['compliance'];

export const complianceRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.post(
    '/api/v1/compliance-policies',
    {
      config: { permission: 'policies.write' },
      schema: {
        tags,
        summary: 'Create a compliance policy (version 1, assigned to nobody)',
        body: CompliancePolicyInputSchema,
        response: { 201: CompliancePolicySchema, ...errors },
      },
    },
    async (request, reply) => {
      const policy = await services.compliance.create(request.actor, actorTenant(request), request.body);
      return reply.code(201).send(toCompliancePolicyDto(policy));
    },
  );

  app.get(
    '/api/v1/compliance-policies',
    {
      config: { permission: 'policies.read' },
      schema: { tags, summary: 'The compliance policies, oldest first', response: { 200: CompliancePolicyListSchema, ...errors } },
    },
    async (request) => ({ items: (await services.compliance.list(request.actor, actorTenant(request))).map(toCompliancePolicyDto) }),
  );

  app.get(
    '/api/v1/compliance-policies/:id',
    {
      config: { permission: 'policies.read' },
      schema: { tags, summary: 'One compliance policy', params: PolicyIdParams, response: { 200: CompliancePolicySchema, ...errors } },
    },
    async (request) => toCompliancePolicyDto(await services.compliance.get(request.actor, actorTenant(request), request.params.id)),
  );

  app.put(
    '/api/v1/compliance-policies/:id',
    {
      config: { permission: 'policies.write' },
      schema: {
        tags,
        summary: 'Replace a policy: its version goes up by one and its devices are re-evaluated; a stale "version" is a 409',
        params: PolicyIdParams,
        body: CompliancePolicyUpdateSchema,
        response: { 200: CompliancePolicySchema, ...errors },
      },
    },
    async (request) =>
      toCompliancePolicyDto(await services.compliance.update(request.actor, actorTenant(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/compliance-policies/:id',
    {
      config: { permission: 'policies.write' },
      schema: {
        tags,
        summary: 'Delete a policy (soft): it stops applying and its devices are re-evaluated',
        params: PolicyIdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.compliance.delete(request.actor, actorTenant(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/api/v1/compliance-policies/:id/assignments',
    {
      config: { permission: 'policies.write' },
      schema: {
        tags,
        summary: 'Replace who the policy applies to; the devices it can apply to are re-evaluated',
        params: PolicyIdParams,
        body: PolicyAssignmentsSchema,
        response: { 200: CompliancePolicySchema, ...errors },
      },
    },
    async (request) =>
      toCompliancePolicyDto(
        await services.compliance.setAssignments(request.actor, actorTenant(request), request.params.id, request.body.assignments),
      ),
  );

  app.get(
    '/api/v1/devices/:id/compliance',
    {
      config: { permission: 'devices.read' },
      schema: {
        tags,
        summary: "A device's compliance: the overall state and each applicable policy's result per setting",
        params: DeviceIdParams,
        response: { 200: DeviceComplianceSchema, ...errors },
      },
    },
    async (request) =>
      toDeviceComplianceDto(await services.compliance.deviceCompliance(request.actor, actorTenant(request), request.params.id)),
  );

  app.get(
    '/api/v1/compliance/settings',
    {
      config: { permission: 'policies.read' },
      schema: { tags, summary: "The tenant's compliance settings", response: { 200: ComplianceTenantSettingsSchema, ...errors } },
    },
    async (request) => services.compliance.tenantSettings(request.actor, actorTenant(request)),
  );

  app.put(
    '/api/v1/compliance/settings',
    {
      config: { permission: 'policies.write' },
      schema: {
        tags,
        summary: 'Set the state of devices no policy applies to; every device is re-evaluated',
        body: ComplianceTenantSettingsSchema,
        response: { 200: ComplianceTenantSettingsSchema, ...errors },
      },
    },
    async (request) => services.compliance.setTenantSettings(request.actor, actorTenant(request), request.body),
  );

  app.post(
    '/api/v1/compliance/evaluate',
    {
      config: { permission: 'policies.write' },
      schema: {
        tags,
        summary: 'Re-evaluate every active device of the tenant now',
        response: { 200: ComplianceEvaluationSchema, ...errors },
      },
    },
    async (request) => ({ evaluated: await services.compliance.evaluateAll(request.actor, actorTenant(request)) }),
  );
};
