/**
 * The device side of configuration profiles: fetch the desired set when the check-in's digest
 * differs from what the agent applied, report a status per profile, and have the tenant CA sign a
 * client certificate for a key the device made. Registered inside `agentRoutes`, which keeps the raw
 * body the device authentication covers.
 */
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AgentProfileSetSchema,
  ProblemSchema,
  ProfileCertificateRequestSchema,
  ProfileCertificateSchema,
  ProfileStatusReportSchema,
  Uuid,
} from '@custos/shared';
import type { AppServices } from '../services.js';
import { deviceRequest } from './agent-routes.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema };
const security = [{ deviceSession: [] }];
const tags = ['device protocol'];

export const agentProfileRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/agent/profiles',
    {
      schema: {
        tags,
        summary: "The device's desired configuration profiles (secrets included) and the ones to remove",
        security,
        response: { 200: AgentProfileSetSchema, ...errors },
      },
    },
    async (request) => services.profiles.agentProfiles(await services.deviceAuth.authenticate(deviceRequest(request))),
  );

  app.post(
    '/api/v1/agent/profiles/status',
    {
      schema: {
        tags,
        summary: 'Report the status of each profile (for the version applied) and the profiles removed',
        security,
        body: ProfileStatusReportSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.profiles.recordStatus(await services.deviceAuth.authenticate(deviceRequest(request)), request.body);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/agent/profiles/:id/certificate',
    {
      schema: {
        tags,
        summary: "Have the tenant CA sign a client-certificate profile's certificate for a key the device generated",
        security,
        params: Type.Object({ id: Uuid }),
        body: ProfileCertificateRequestSchema,
        response: { 200: ProfileCertificateSchema, ...errors },
      },
    },
    async (request) =>
      services.profiles.issueCertificate(
        await services.deviceAuth.authenticate(deviceRequest(request)),
        request.params.id,
        request.body.csr,
      ),
  );
};
