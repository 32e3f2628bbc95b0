import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { openRuntime, type Runtime } from '../compose.js';
import type { CustosConfig } from '../config.js';
import type { Actor } from '../domain/access/authorize.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { defaultCountryRegions } from '../domain/tenants/region-map.js';
import { buildApp } from '../http/app.js';
import type { UnauditedWrite } from '../http/plugins/audit-guard.js';
import { TEST_REGIONS, type TestBackend } from './backends.js';

export const SYSTEM: Actor = { type: 'system', id: 'cli', name: 'test' };

export interface Harness {
  runtime: Runtime;
  app: FastifyInstance;
  /** Successful admin writes that left no audit event; harnessPerSuite fails the suite if any. */
  unaudited: UnauditedWrite[];
  close(): Promise<void>;
}

export async function startHarness(
  backend: TestBackend,
  clock: Clock = systemClock,
  bodyLimit?: number,
  options: Pick<CustosConfig, 'appleMdmTrustClientCert'> = { appleMdmTrustClientCert: false },
): Promise<Harness> {
  const runtime = await openRuntime(
    { storage: backend.config, regions: TEST_REGIONS, regionMap: { countries: defaultCountryRegions(), fallback: 'us' }, ...options },
    clock,
  );
  const unaudited: UnauditedWrite[] = [];
  const app = await buildApp({ services: runtime.services, bodyLimit, onUnauditedWrite: (write) => unaudited.push(write) });
  return {
    runtime,
    app,
    unaudited,
    close: async () => {
      await app.close();
      await runtime.close();
    },
  };
}

/** A tenant with an admin token and an enrollment token of the given ownership. */
export async function seedTenant(
  h: Harness,
  country: string,
  ownership: 'corporate' | 'personal' = 'corporate',
  role = 'Tenant Administrator',
): Promise<{ tenantId: string; region: string; adminToken: string; enrollmentToken: string }> {
  const { tenant } = await h.runtime.services.tenants.create({ name: `Tenant ${country}`, country, adminEmail: 'admin@example.com' });
  const { token } = await h.runtime.services.apiTokens.create(SYSTEM, tenant.id, { role });
  const enrollment = await h.runtime.services.enrollment.createToken(SYSTEM, tenant.id, { ownership });
  return { tenantId: tenant.id, region: tenant.region, adminToken: token, enrollmentToken: enrollment.token };
}

/**
 * Every admin write leaves an audit event (http/plugins/audit-guard.ts): each write any test makes
 * proves it. Suites call this after their last test (harnessPerSuite does).
 */
export function assertAllAudited(unaudited: readonly UnauditedWrite[]): void {
  if (unaudited.length === 0) return;
  const routes = [...new Set(unaudited.map((w) => `${w.method} ${w.route} → ${w.statusCode}`))];
  throw new Error(`Admin writes succeeded without an audit event:\n  ${routes.join('\n  ')}`);
}

/**
 * Gives the enclosing suite a harness on a fresh backend: started before its first test, closed and
 * the backend removed after its last. `use` hands both to the suite's own variables; hooks the
 * suite registers afterwards run once the harness is up.
 */
export function harnessPerSuite(
  create: () => Promise<TestBackend>,
  use: (started: { h: Harness; backend: TestBackend }) => void,
  bodyLimit?: number,
): void {
  let started: { h: Harness; backend: TestBackend } | undefined;
  before(async () => {
    const backend = await create();
    started = { backend, h: await startHarness(backend, undefined, bodyLimit) };
    use(started);
  });
  after(async () => {
    const unaudited = started?.h.unaudited ?? [];
    await started?.h.close();
    await started?.backend.dispose();
    assertAllAudited(unaudited);
  });
}
