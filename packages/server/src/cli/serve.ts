/** `custos serve`: the single-process server (SPEC §2), and `--demo` for a first look. */
import type { CustosConfig } from '../config.js';
import { openRuntime, type Runtime } from '../compose.js';
import type { Actor } from '../domain/access/authorize.js';
import { buildApp } from '../http/app.js';
import { initialPassword } from './initial-password.js';
import { loggerOptions } from '../http/log-options.js';

const CLI_ACTOR: Actor = { type: 'system', id: 'cli', name: 'custos serve --demo' };
export const DEMO_TENANT_NAME = 'Demo Organization';
const DEMO_ADMIN = 'admin@demo.example';

async function firstStartMessage(runtime: Runtime, baseUrl: string, demo: boolean): Promise<string> {
  const tenants = await runtime.services.tenants.list();
  if (demo) {
    const existing = tenants.find((t) => t.name === DEMO_TENANT_NAME);
    const tenant =
      existing ??
      (await runtime.services.tenants.create({ name: DEMO_TENANT_NAME, country: 'GB', adminEmail: 'admin@demo.example' })).tenant;
    const { token } = await runtime.services.apiTokens.create(CLI_ACTOR, tenant.id, {
      role: 'Tenant Administrator',
      name: 'demo admin',
      expiresInDays: 30,
    });
    const enrollment = await runtime.services.enrollment.createToken(CLI_ACTOR, tenant.id, { ownership: 'corporate', description: 'demo' });
    // The demo administrator gets a fresh password on every demo start (it is printed, never stored).
    const adminUser = await runtime.services.users.listUsers(CLI_ACTOR, tenant.id, { userName: DEMO_ADMIN });
    const password = initialPassword();
    const existingAdmin = adminUser.items[0];
    if (existingAdmin) await runtime.services.users.setPassword(CLI_ACTOR, tenant.id, existingAdmin.id, password);
    else await runtime.services.users.createUser(CLI_ACTOR, tenant.id, { userName: DEMO_ADMIN, password, roles: ['Tenant Administrator'] });
    return [
      `Demo tenant "${DEMO_TENANT_NAME}" (${tenant.id}, region ${tenant.region}) ${existing ? 'reused' : 'created'}.`,
      `Admin portal: ${baseUrl}/?tenant=${tenant.id}  (Company Portal: ${baseUrl}/portal?tenant=${tenant.id})`,
      `  user ${DEMO_ADMIN}  password ${password}  (set up MFA at first sign-in)`,
      `Admin API token (Tenant Administrator, 30 days):`,
      `  ${token}`,
      `  curl -H "Authorization: Bearer ${token}" ${baseUrl}/api/v1/devices`,
      `Enroll this machine:`,
      `  npx custos-agent enroll --server ${baseUrl} --token ${enrollment.token} --state-dir ./data/demo-agent`,
    ].join('\n');
  }
  if (tenants.length > 0) return `${tenants.length} tenant(s). API: ${baseUrl}/api/v1 (OpenAPI at ${baseUrl}/api/v1/openapi.json)`;
  return [
    'No tenant yet; nothing was created. Create the first one:',
    '  npx custos tenant create --name "Your Organization" --country GB --admin-email you@example.com',
    'or start with a demo tenant: npm start -- --demo',
  ].join('\n');
}

export async function serve(config: CustosConfig, options: { demo: boolean }): Promise<void> {
  const runtime = await openRuntime(config);
  const app = await buildApp({
    services: runtime.services,
    logger: loggerOptions(config.logLevel),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
  });
  // Periodic jobs (compliance re-evaluation, …) run in this process; leases keep one run per period
  // across processes. `runtime.close` stops them, waiting for a run in progress.
  runtime.jobScheduler(app.log).start();
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await runtime.close();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(signal));
  const address = await app.listen({ port: config.port, host: config.host });
  const baseUrl = address.replace('[::1]', 'localhost');
  process.stdout.write(`custos: listening on ${baseUrl} (${config.storage.kind}, regions ${config.regions.join(', ')})\n`);
  process.stdout.write(`${await firstStartMessage(runtime, baseUrl, options.demo)}\n`);
  await new Promise<void>((resolve) => app.server.once('close', () => resolve()));
}
