/**
 * The Fastify application as a build function: tests inject into it, main.ts listens with it.
 * It holds no state of its own; everything comes in through `services`.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { problemDetails } from './plugins/problem-details.js';
import { installAdminAuthentication } from './plugins/authenticate.js';
import { installAuditGuard, type UnauditedWrite } from './plugins/audit-guard.js';
import { publishRoutePermission } from './plugins/route-permission.js';
import { installLifecycleGuard } from './plugins/lifecycle-guard.js';
import { subscriptionRoutes } from './routes/subscription-routes.js';
import { retentionRoutes } from './routes/retention-routes.js';
import { exportRoutes } from './routes/export-routes.js';
import { operatorTenantAuthentication } from './plugins/operator-authentication.js';
import { auditRoutes } from './routes/audit-routes.js';
import { accessRequestAdminRoutes, operatorRoutes } from './routes/operator-routes.js';
import { deviceScopeRoutes } from './routes/device-scope-routes.js';
import { roleRoutes } from './routes/role-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { sessionAdminRoutes } from './routes/session-admin-routes.js';
import { agentPushRoutes } from './routes/agent-push-routes.js';
import { agentRoutes } from './routes/agent-routes.js';
import { appleMdmAdminRoutes, appleMdmDeviceRoutes } from './routes/apple-mdm-routes.js';
import { commandRoutes } from './routes/command-routes.js';
import { complianceRoutes } from './routes/compliance-routes.js';
import { retireListRoutes } from './routes/retire-list-routes.js';
import { deviceRoutes } from './routes/device-routes.js';
import { enrollmentAdminRoutes, enrollmentDeviceRoutes } from './routes/enrollment-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { privacyRoutes } from './routes/privacy-routes.js';
import { portalRoutes } from './routes/portal-routes.js';
import { webRoutes } from './routes/web-routes.js';
import { signInOptionsRoutes } from './routes/sign-in-options-routes.js';
import { profileRoutes } from './routes/profile-routes.js';
import { identityProviderRoutes, oidcSignInRoutes } from './routes/oidc-routes.js';
import { scimRoutes, scimTokenRoutes } from './routes/scim-routes.js';
import type { AppServices } from './services.js';

export interface AppOptions {
  services: AppServices;
  logger?: FastifyServerOptions['logger'];
  /** Largest accepted request body; inventories of thousands of apps fit in the default. */
  bodyLimit?: number;
  /** Trust X-Forwarded-* from a reverse proxy (TLS termination). */
  trustProxy?: boolean;
  /** The built portals (packages/web/dist by default). */
  webDir?: string;
  /** How often the push channel pings each device to drop dead sockets. */
  pushHeartbeatSeconds?: number;
  /** Told of a successful admin write that left no audit event (default: logged as an error). */
  onUnauditedWrite?: (write: UnauditedWrite) => void;
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
  // Before any route: every state-changing route registered after this is guarded.
  installAuditGuard(
    app,
    options.onUnauditedWrite ?? ((write) => app.log.error({ write }, 'an admin write succeeded without an audit event')),
  );
  await app.register(problemDetails);
  await app.register(cookie);
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
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'custos_session',
            description: 'A portal session from sign-in; writes also need the X-CSRF-Token header.',
          },
          scimBearer: { type: 'http', scheme: 'bearer', description: 'The tenant SCIM token from `POST /api/v1/scim/token`.' },
          operatorSession: {
            type: 'apiKey',
            in: 'cookie',
            name: 'custos_operator_session',
            description: 'An operator session (operator plane); inside a tenant only with X-Custos-Tenant and an approved lockbox request.',
          },
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
  await app.register(privacyRoutes, { exportArchiveDays: options.services.exports.archiveLifetimeDays });
  await app.register(authRoutes, { services: options.services });
  await app.register(enrollmentDeviceRoutes, { services: options.services });
  await app.register(agentRoutes, { services: options.services, bodyLimit });
  await app.register(appleMdmDeviceRoutes, { services: options.services });
  // Devices send nothing on the push channel; a small frame limit keeps it that way.
  await app.register(websocket, { options: { maxPayload: 1024 } });
  await app.register(agentPushRoutes, {
    services: options.services,
    ...(options.pushHeartbeatSeconds === undefined ? {} : { heartbeatSeconds: options.pushHeartbeatSeconds }),
  });
  await app.register(operatorRoutes, { services: options.services });
  await app.register(async (admin) => {
    installAdminAuthentication(
      admin,
      options.services.apiTokens,
      options.services.sessions,
      operatorTenantAuthentication(options.services),
    );
    // Retention is read-only: state-changing admin requests are refused before their handlers.
    installLifecycleGuard(admin, options.services.tenants);
    admin.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, security: [{ bearer: [] }, { session: [] }, { operatorSession: [] }] };
      publishRoutePermission(route);
    });
    await admin.register(deviceRoutes, { services: options.services });
    await admin.register(commandRoutes, { services: options.services });
    await admin.register(complianceRoutes, { services: options.services });
    await admin.register(profileRoutes, { services: options.services });
    await admin.register(retireListRoutes, { services: options.services });
    await admin.register(enrollmentAdminRoutes, { services: options.services });
    await admin.register(appleMdmAdminRoutes, { services: options.services });
    await admin.register(auditRoutes, { services: options.services });
    await admin.register(portalRoutes, { services: options.services });
    await admin.register(userRoutes, { services: options.services });
    await admin.register(roleRoutes, { services: options.services });
    await admin.register(tokenRoutes, { services: options.services });
    await admin.register(deviceScopeRoutes, { services: options.services });
    await admin.register(accessRequestAdminRoutes, { services: options.services });
    await admin.register(identityProviderRoutes, { services: options.services });
    await admin.register(scimTokenRoutes, { services: options.services });
    await admin.register(sessionAdminRoutes, { services: options.services });
    await admin.register(subscriptionRoutes, { services: options.services });
    await admin.register(retentionRoutes, { services: options.services });
    await admin.register(exportRoutes, { services: options.services });
  });
  await app.register(oidcSignInRoutes, { services: options.services });
  // SCIM provisioning writes like an admin: refused in retention by the same check.
  await app.register(async (provisioning) => {
    installLifecycleGuard(provisioning, options.services.tenants);
    await provisioning.register(scimRoutes, { services: options.services });
  });
  await app.register(signInOptionsRoutes, { services: options.services });
  await app.register(webRoutes, options.webDir === undefined ? {} : { webDir: options.webDir });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}
