import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { openRuntime, type Runtime } from '../compose.js';
import type { Actor } from '../domain/access/authorize.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { defaultCountryRegions } from '../domain/tenants/region-map.js';
import { buildApp } from '../http/app.js';
import { TEST_REGIONS, type TestBackend } from './backends.js';

export const SYSTEM: Actor = { type: 'system', id: 'cli', name: 'test' };

export interface Harness {
  runtime: Runtime;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startHarness(backend: TestBackend, clock: Clock = systemClock, bodyLimit?: number): Promise<Harness> {
  const runtime = await openRuntime(
    { storage: backend.config, regions: TEST_REGIONS, regionMap: { countries: defaultCountryRegions(), fallback: 'us' } },
    clock,
  );
  const app = await buildApp({ services: runtime.services, bodyLimit });
  return {
    runtime,
    app,
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
    await started?.h.close();
    await started?.backend.dispose();
  });
}
