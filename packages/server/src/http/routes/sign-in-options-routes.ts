import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ProblemSchema, Uuid } from '@custos/shared';
import type { AppServices } from '../services.js';

/** Public: what the portals' sign-in page offers for a tenant (today: whether single sign-on is set up). */
export const signInOptionsRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/auth/options',
    {
      schema: {
        tags: ['sign-in'],
        summary: 'Sign-in options of a tenant (public): whether single sign-on is configured',
        security: [],
        querystring: Type.Object({ tenant: Uuid }, { additionalProperties: false }),
        response: { 200: Type.Object({ sso: Type.Boolean() }), 400: ProblemSchema },
      },
    },
    async (request) => services.identityProviders.signInOptions(request.query.tenant),
  );
};
