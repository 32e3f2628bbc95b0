/**
 * Apple MDM endpoints (SPEC §7, §11): the enrollment profile, SCEP, check-in and commands. Device
 * bodies are property lists (or a PKI message for SCEP), read raw: the `Mdm-Signature` covers the
 * exact bytes. No route here ever answers 401 (an MDM client may unenroll on one); refusals are
 * problem documents with the codes of domain/apple-mdm/apple-mdm-service.ts.
 */
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApplePushCertificateSchema, ApplePushCertificateUploadSchema, ProblemSchema } from '@custos/shared';
import type { AppleMdmReply } from '../../domain/apple-mdm/apple-mdm-service.js';
import { DomainError } from '../../domain/domain-error.js';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema };
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Admin side: the tenant's APNs push certificate. */
export const appleMdmAdminRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.put(
    '/api/v1/apple-mdm/push-certificate',
    {
      config: { permission: 'enrollment.write' },
      schema: {
        tags: ['apple-mdm'],
        summary: 'Upload the APNs push certificate (topic taken from its subject UID)',
        body: ApplePushCertificateUploadSchema,
        response: { 200: ApplePushCertificateSchema, ...errors },
      },
    },
    async (request) => services.appleMdm.uploadPushCertificate(request.actor, actorTenant(request), request.body),
  );
  app.get(
    '/api/v1/apple-mdm/push-certificate',
    {
      config: { permission: 'enrollment.read' },
      schema: {
        tags: ['apple-mdm'],
        summary: 'The APNs push certificate’s topic and expiry',
        response: { 200: ApplePushCertificateSchema, ...errors },
      },
    },
    async (request) => services.appleMdm.pushCertificate(request.actor, actorTenant(request)),
  );
};

/** Device side: enrollment profile, SCEP, check-in and command endpoints. */
export const appleMdmDeviceRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  // Every body here is read as bytes, whatever it claims to be.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_MESSAGE_BYTES }, (_request, body, done) => done(null, body));

  const send = (reply: FastifyReply, result: AppleMdmReply) => {
    reply.code(result.status);
    if (result.contentType) reply.type(result.contentType);
    return reply.send(result.body);
  };
  const bodyOf = (body: unknown): Buffer => (Buffer.isBuffer(body) ? body : Buffer.alloc(0));

  app.get(
    '/mdm/apple/enroll',
    {
      schema: {
        tags: ['apple-mdm'],
        summary: 'The signed enrollment profile (.mobileconfig) for an enrollment token',
        querystring: Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) }),
      },
    },
    async (request, reply) => {
      const profile = await services.appleMdm.enrollmentProfile(request.query.token);
      return reply
        .type('application/x-apple-aspen-config')
        .header('content-disposition', 'attachment; filename="custos-enrollment.mobileconfig"')
        .send(profile);
    },
  );

  const scep = async (operation: string, message: string | undefined, body: Buffer, reply: FastifyReply) => {
    switch (operation) {
      case 'GetCACaps':
        return reply.type('text/plain').send(services.scep.capabilities());
      case 'GetCACert':
        return reply.type('application/x-x509-ca-cert').send(await services.scep.caCertificate(message));
      case 'PKIOperation': {
        const pkiMessage = body.length > 0 ? body : Buffer.from(decodeURIComponent(message ?? ''), 'base64');
        return reply.type('application/x-pki-message').send(await services.scep.pkiOperation(pkiMessage));
      }
      default:
        throw new DomainError('scep-request-invalid', `Unknown SCEP operation "${operation.slice(0, 64)}".`);
    }
  };
  const scepQuery = Type.Object({ operation: Type.String({ maxLength: 64 }), message: Type.Optional(Type.String({ maxLength: 65536 })) });
  app.get('/mdm/apple/scep', { schema: { hide: true, querystring: scepQuery } }, async (request, reply) =>
    scep(request.query.operation, request.query.message, Buffer.alloc(0), reply),
  );
  app.post('/mdm/apple/scep', { schema: { hide: true, querystring: scepQuery } }, async (request, reply) =>
    scep(request.query.operation, request.query.message, bodyOf(request.body), reply),
  );

  const identify = (request: FastifyRequest) =>
    services.appleIdentity.identify({
      mdmSignature: header(request.headers['mdm-signature']),
      clientCert: header(request.headers['client-cert']),
      body: bodyOf(request.body),
    });
  app.put('/mdm/apple/checkin', { schema: { hide: true } }, async (request, reply) =>
    send(reply, await services.appleMdm.checkIn(await identify(request), bodyOf(request.body))),
  );
  app.put('/mdm/apple/mdm', { schema: { hide: true } }, async (request, reply) =>
    send(reply, await services.appleMdm.connect(await identify(request), bodyOf(request.body))),
  );
};
