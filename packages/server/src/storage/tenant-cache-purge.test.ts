/**
 * Purge and lifecycle changes made by one process against a server process that caches tenants
 * (domain/tenants/tenant-service.ts), on SQLite and PostgreSQL: two runtimes share one set of
 * databases, as `custos serve` and a `custos lifecycle tick` do. On PostgreSQL the change reaches the
 * server at once (LISTEN/NOTIFY); on SQLite the server keeps its entry until it expires. Either way a
 * write for the purged tenant — through the server's API, its services, or a tenant handle opened
 * before the purge — is refused by the region store, and the tenant keeps zero rows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { openRuntime, type Runtime } from '../compose.js';
import { recordAudit } from '../domain/audit/audit-log.js';
import { fixedClock } from '../domain/clock.js';
import { DomainError } from '../domain/domain-error.js';
import { DAY_MS } from '../domain/lifecycle/lifecycle.js';
import { defaultCountryRegions } from '../domain/tenants/region-map.js';
import type { Tenant } from '../domain/tenants/tenant.js';
import { BACKENDS, TEST_REGIONS, type TestBackend } from '../test-support/backends.js';
import { assertAllAudited, SYSTEM } from '../test-support/harness.js';
import type { UnauditedWrite } from '../http/plugins/audit-guard.js';
import { buildApp } from '../http/app.js';

const isGone = (e: unknown) => e instanceof DomainError && e.code === 'tenant-not-found';

/** Resolves once `check` holds, polling for up to five seconds (a notification crosses a socket). */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

for (const { name, create } of BACKENDS) {
  describe(`purge and lifecycle changes from another process, seen by a caching server, on ${name}`, () => {
    const clock = fixedClock(Date.UTC(2032, 5, 1, 8, 0, 0));
    let backend: TestBackend;
    /** The server: an HTTP app over its own runtime (and its own tenant cache). */
    let server: Runtime;
    let app: FastifyInstance;
    /** The other process: `custos lifecycle …` and `custos tenant purge` run on a runtime like this. */
    let cli: Runtime;
    const unaudited: UnauditedWrite[] = [];

    before(async () => {
      backend = await create();
      const config = { storage: backend.config, regions: TEST_REGIONS, regionMap: { countries: defaultCountryRegions(), fallback: 'us' } };
      server = await openRuntime(config, clock);
      cli = await openRuntime(config, clock);
      app = await buildApp({ services: server.services, onUnauditedWrite: (w) => unaudited.push(w) });
    });
    after(async () => {
      await app.close();
      await server.close();
      await cli.close();
      await backend.dispose();
      assertAllAudited(unaudited);
    });

    /** The server has served the tenant, so its directory entry and settings are cached. */
    async function cachedTenant(country: string): Promise<{ tenant: Tenant; token: string }> {
      const { tenant } = await server.services.tenants.create({ name: `Cached ${country}`, country, adminEmail: 'admin@example.com' });
      const { token } = await server.services.apiTokens.create(SYSTEM, tenant.id, { role: 'Tenant Administrator' });
      const res = await app.inject({ method: 'GET', url: '/api/v1/users', headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await server.services.tenants.get(tenant.id)).subscriptionState, 'active');
      return { tenant, token };
    }

    test('a lifecycle transition made elsewhere reaches the server (at once on PostgreSQL, when the entry expires on SQLite)', async () => {
      const { tenant } = await cachedTenant('FR');
      await cli.services.lifecycle.cancel(SYSTEM, tenant.id);
      const seen = async () => (await server.services.tenants.get(tenant.id)).subscriptionState === 'retention';
      if (name === 'postgres') {
        assert.ok(await eventually(seen), 'the notification dropped the cached entry');
      } else {
        assert.equal(await seen(), false, 'SQLite has no channel between processes: the entry lives out its 30 seconds');
        clock.advance(30_001);
        assert.ok(await seen());
      }
      const refused = await server.services.users
        .createUser(SYSTEM, tenant.id, { userName: 'late@example.com', password: 'Retention-refuses-42!' })
        .catch((e: unknown) => e);
      assert.ok(refused instanceof DomainError && refused.code === 'tenant-read-only');
    });

    test('after a purge elsewhere, no write of the server reaches the region store, whatever it cached', async () => {
      const { tenant, token } = await cachedTenant('DE');
      // A handle the server opened before the purge, as a request in flight holds one.
      const inFlight = await server.services.tenants.data(tenant.id);
      await cli.services.lifecycle.requestDeletion(SYSTEM, tenant.id);
      const [purge] = await cli.services.lifecycle.tick(SYSTEM, clock.now() + 8 * DAY_MS);
      assert.equal(purge?.to, 'purged');
      if (name === 'postgres') {
        assert.ok(
          await eventually(() => server.services.tenants.get(tenant.id).then(() => false, isGone)),
          'the notification dropped the cached entry',
        );
      }

      // Whatever the server still believes, every write is refused and leaves nothing behind.
      await assert.rejects(
        inFlight.transaction(async (trx) => {
          await trx.groups.insert({
            id: 'f6b0f1e4-0000-4000-8000-000000000001',
            displayName: 'Resurrected',
            description: null,
            source: 'cloud',
            externalId: null,
            createdAt: clock.now(),
            updatedAt: clock.now(),
          });
          await recordAudit(trx, SYSTEM, clock, { activity: 'Create group', category: 'Group', operation: 'create' });
        }),
        isGone,
      );
      await assert.rejects(
        server.services.users.createUser(SYSTEM, tenant.id, { userName: 'late@example.com', password: 'Purged-refuses-42!' }),
        isGone,
      );
      const signIn = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { tenantId: tenant.id, userName: 'nobody@example.com', password: 'wrong-password-42' },
      });
      assert.equal(signIn.statusCode, 401, signIn.body);
      assert.equal(signIn.json<{ code: string }>().code, 'sign-in-failed', 'an unknown tenant fails like an unknown user');
      const api = await app.inject({ method: 'GET', url: '/api/v1/users', headers: { authorization: `Bearer ${token}` } });
      assert.ok([401, 404].includes(api.statusCode), `a purged tenant's token is not accepted (${api.statusCode})`);

      const rows = await server.storage.countTenantRows(tenant);
      assert.deepEqual(
        Object.entries(rows).filter(([, n]) => n > 0),
        [],
        'the purged tenant has no row in any table',
      );
      await assert.rejects(server.services.tenants.get(tenant.id), isGone, 'the server re-reads the directory once the store says so');
    });
  });
}
