/**
 * The agent's endpoints after enrollment. Requests are authenticated by the device's key (session
 * start) or session MAC (everything else) over the raw body bytes, so this scope keeps the body as
 * received next to its parsed JSON.
 */
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { CheckInRequestSchema, CheckInResponseSchema, CommandResultSchema, DeviceSessionSchema, ProblemSchema, Uuid } from '@custos/shared';
import { DomainError } from '../../domain/domain-error.js';
import type { DeviceRequest } from '../../domain/device-auth/device-authenticator.js';
import type { AppServices } from '../services.js';
import { agentProfileRoutes } from './agent-profile-routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
  }
}

const errors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  413: ProblemSchema,
  422: ProblemSchema,
};
const security = [{ deviceSession: [] }];

export function deviceRequest(request: FastifyRequest): DeviceRequest {
  return {
    method: request.method,
    path: request.url,
    authorization: request.headers.authorization,
    rawBody: request.rawBody ?? Buffer.alloc(0),
  };
}

export const agentRoutes: FastifyPluginAsyncTypebox<{ services: AppServices; bodyLimit: number }> = async (
  app,
  { services, bodyLimit },
) => {
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    try {
      done(null, raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8')));
    } catch (error) {
      done(new DomainError('malformed-json', error instanceof Error ? error.message : 'The body is not JSON.'), undefined);
    }
  });

  app.post(
    '/api/v1/agent/session',
    {
      schema: {
        tags: ['device protocol'],
        summary: 'Start a device session with a request signed by the device key',
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 200: DeviceSessionSchema, ...errors },
      },
    },
    (request) => services.deviceAuth.startSession(deviceRequest(request)),
  );

  app.post(
    '/api/v1/agent/checkin',
    {
      schema: {
        tags: ['device protocol'],
        summary: 'Check in, with the inventory when it changed',
        security,
        body: CheckInRequestSchema,
        response: { 200: CheckInResponseSchema, ...errors },
      },
    },
    async (request) => services.checkIn.checkIn(await services.deviceAuth.authenticate(deviceRequest(request)), request.body),
  );

  app.post(
    '/api/v1/agent/commands/:id/result',
    {
      schema: {
        tags: ['device protocol'],
        summary: 'Report the result of a command the device received with a check-in',
        security,
        params: Type.Object({ id: Uuid }),
        body: CommandResultSchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const device = await services.deviceAuth.authenticate(deviceRequest(request));
      await services.commands.recordResult(device, request.params.id, request.body);
      return reply.code(204).send(null);
    },
  );

  // Inside this scope, so the profile endpoints get the raw body their authentication covers.
  await app.register(agentProfileRoutes, { services });

  app.post(
    '/api/v1/agent/unenroll',
    {
      schema: {
        tags: ['device protocol'],
        summary: 'The device leaves management; its credential is revoked',
        security,
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.checkIn.unenroll(await services.deviceAuth.authenticate(deviceRequest(request)));
      return reply.code(204).send(null);
    },
  );
};
