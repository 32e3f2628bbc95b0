/**
 * The edge where every error becomes RFC 9457 problem+json with a stable code (the catalogue in
 * @custos/shared). Domain errors carry their code; Fastify's own errors are mapped by their codes;
 * anything else is a 500 whose details stay in the log.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, problemType, type ErrorCode, type Problem } from '@custos/shared';
import { DomainError } from '../../domain/domain-error.js';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed-json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed-json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation-failed',
  FST_ERR_VALIDATION: 'validation-failed',
};

const TRANSIENT_DATABASE_CODES = new Set(['40P01', '40001', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT']);

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  code: ErrorCode,
  detail?: string,
  extensions: Record<string, unknown> = {},
  retryAfterSeconds?: number,
): FastifyReply {
  const { status, title } = ERROR_CATALOGUE[code];
  const body: Problem = {
    type: problemType(code),
    code,
    title,
    status,
    ...(detail ? { detail } : {}),
    instance: request.url.split('?')[0],
    ...extensions,
  };
  if (retryAfterSeconds !== undefined || status === 429 || status === 503) reply.header('retry-after', String(retryAfterSeconds ?? 5));
  return reply.code(status).type('application/problem+json').send(body);
}

function validationErrors(error: FastifyError): { field: string; message: string }[] {
  return (error.validation ?? []).map((v) => ({
    field: `${error.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}${
      v.keyword === 'required' ? `.${String((v.params as { missingProperty?: string }).missingProperty)}` : ''
    }${v.keyword === 'additionalProperties' ? `.${String((v.params as { additionalProperty?: string }).additionalProperty)}` : ''}`,
    message: v.message ?? 'is not valid',
  }));
}

export const problemDetails = fp(
  (app, _options, done) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof DomainError) {
        return sendProblem(reply, request, error.code, error.message, error.extensions, error.retryAfterSeconds);
      }
      if (error.validation) {
        return sendProblem(reply, request, 'validation-failed', error.message, { errors: validationErrors(error) });
      }
      // A transaction the database chose to abort (PostgreSQL deadlock or serialization failure,
      // SQLite busy) changed nothing and will likely succeed again: a 503 the client retries.
      if (error.code && TRANSIENT_DATABASE_CODES.has(error.code)) {
        request.log.warn({ err: error }, 'transient database conflict');
        return sendProblem(reply, request, 'service-unavailable', 'A concurrent change got in the way; nothing was stored. Retry.', {}, 1);
      }
      const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
      if (mapped) return sendProblem(reply, request, mapped, error.message);
      if (error instanceof SyntaxError) return sendProblem(reply, request, 'malformed-json', error.message);
      if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
        const code: ErrorCode =
          error.statusCode === 413
            ? 'payload-too-large'
            : error.statusCode === 415
              ? 'unsupported-media-type'
              : error.statusCode === 405
                ? 'method-not-allowed'
                : 'validation-failed';
        return sendProblem(reply, request, code, error.message);
      }
      request.log.error({ err: error }, 'unhandled error');
      return sendProblem(reply, request, 'internal-error', 'The error was logged with this request id.', { requestId: request.id });
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, request, 'route-not-found', `${request.method} ${request.url.split('?')[0]} does not exist.`),
    );
    done();
  },
  { name: 'problem-details' },
);
