import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  EnrollmentInfoSchema,
  EnrollmentTokenCreatedSchema,
  EnrollmentTokenCreateSchema,
  EnrollmentTokenSchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  PlatformSchema,
  ProblemSchema,
  Uuid,
} from '@custos/shared';
import type { AppServices } from '../services.js';
import { actorTenant } from '../plugins/authenticate.js';
import { toEnrollmentTokenDto } from './device-dto.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema };

/** Admin side: enrollment tokens. */
export const enrollmentAdminRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.post(
    '/api/v1/enrollment-tokens',
    {
      config: { permission: 'enrollment.write' },
      schema: {
        tags: ['enrollment'],
        summary: 'Create an enrollment token (shown once)',
        body: EnrollmentTokenCreateSchema,
        response: { 201: EnrollmentTokenCreatedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { token, record } = await services.enrollment.createToken(request.actor, actorTenant(request), request.body);
      return reply.code(201).send({ ...toEnrollmentTokenDto(record), token });
    },
  );
  app.get(
    '/api/v1/enrollment-tokens',
    {
      config: { permission: 'enrollment.read' },
      schema: {
        tags: ['enrollment'],
        summary: 'List enrollment tokens',
        response: { 200: Type.Object({ items: Type.Array(EnrollmentTokenSchema) }), ...errors },
      },
    },
    async (request) => ({ items: (await services.enrollment.listTokens(request.actor, actorTenant(request))).map(toEnrollmentTokenDto) }),
  );
  app.delete(
    '/api/v1/enrollment-tokens/:id',
    {
      config: { permission: 'enrollment.write' },
      schema: {
        tags: ['enrollment'],
        summary: 'Revoke an enrollment token',
        params: Type.Object({ id: Uuid }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.enrollment.revokeToken(request.actor, actorTenant(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};

/** Device side, before the device has a credential: the token is the authentication. */
export const enrollmentDeviceRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/enroll/info',
    {
      schema: {
        tags: ['device protocol'],
        summary: 'What the device shows its user before consent (from the privacy catalog)',
        querystring: Type.Object(
          { token: Type.String({ minLength: 1, maxLength: 512 }), platform: Type.Optional(PlatformSchema) },
          { additionalProperties: false },
        ),
        response: { 200: EnrollmentInfoSchema, ...errors },
      },
    },
    (request) => services.enrollment.info(request.query.token, request.query.platform),
  );
  app.post(
    '/api/v1/enroll',
    {
      schema: {
        tags: ['device protocol'],
        summary: 'Enroll a device: consent, CSR in, certificate out',
        body: EnrollRequestSchema,
        response: { 201: EnrollResponseSchema, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(await services.enrollment.enroll(request.body)),
  );
};
