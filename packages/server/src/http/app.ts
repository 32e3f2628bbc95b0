/**
 * The Fastify application as a build function: tests inject into it, main.ts listens with it.
 * It holds no state of its own; everything comes in through `services`.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { problemDetails } from './plugins/problem-details.js';
import { installBearerAuthentication } from './plugins/authenticate.js';
import { agentPushRoutes } from './routes/agent-push-routes.js';
import { agentRoutes } from './routes/agent-routes.js';
import { commandRoutes } from './routes/command-routes.js';
import { complianceRoutes } from './routes/compliance-routes.js';
import { deviceRoutes } from './routes/device-routes.js';
import { enrollmentAdminRoutes, enrollmentDeviceRoutes } from './routes/enrollment-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { privacyRoutes } from './routes/privacy-routes.js';
import type { AppServices } from './services.js';

export interface AppOptions {
  services: AppServices;
  logger?: FastifyServerOptions['logger'];
  /** Largest accepted request body; inventories of thousands of apps fit in the default. */
  bodyLimit?: number;
  /** Trust X-Forwarded-* from a reverse proxy (TLS termination). */
  trustProxy?: boolean;
  /** How often the push channel pings each device to drop dead sockets. */
  pushHeartbeatSeconds?: number;
}

export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    trustProxy: options.trustProxy ?? false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // The API speaks JSON only; anything else is a clear 415, not a string fed to the schema.
  app.removeContentTypeParser('text/plain');
  await app.register(problemDetails);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Custos API',
        version: '1',
        description:
          'Device and app management that proves how it treats the data it holds. Errors are RFC 9457 problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token from `custos token create`.' },
          deviceSession: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'CustosDevice session MAC (docs/decisions/0001-device-authentication.md).',
          },
        },
      },
    },
  });

  await app.register(healthRoutes, { services: options.services });
  await app.register(privacyRoutes);
  await app.register(enrollmentDeviceRoutes, { services: options.services });
  await app.register(agentRoutes, { services: options.services, bodyLimit });
  // Devices send nothing on the push channel; a small frame limit keeps it that way.
  await app.register(websocket, { options: { maxPayload: 1024 } });
  await app.register(agentPushRoutes, {
    services: options.services,
    ...(options.pushHeartbeatSeconds === undefined ? {} : { heartbeatSeconds: options.pushHeartbeatSeconds }),
  });
  await app.register(async (admin) => {
    installBearerAuthentication(admin, options.services.apiTokens);
    admin.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, security: [{ bearer: [] }] };
    });
    await admin.register(deviceRoutes, { services: options.services });
    await admin.register(commandRoutes, { services: options.services });
    await admin.register(complianceRoutes, { services: options.services });
    await admin.register(enrollmentAdminRoutes, { services: options.services });
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}
