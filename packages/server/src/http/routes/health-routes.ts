import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthSchema, ProblemSchema } from '@custos/shared';
import type { AppServices } from '../services.js';
import { sendProblem } from '../plugins/problem-details.js';

/** Liveness (`/healthz`: the process answers) and readiness (`/readyz`: every store answers). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get('/healthz', { schema: { tags: ['health'], response: { 200: HealthSchema } } }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['health'], response: { 200: HealthSchema, 503: ProblemSchema } } }, async (request, reply) => {
    try {
      await services.checkReady();
      return { status: 'ready' };
    } catch (error) {
      request.log.warn({ err: error }, 'not ready');
      return sendProblem(reply, request, 'service-unavailable', 'A store did not answer.', {}, 5);
    }
  });
};
