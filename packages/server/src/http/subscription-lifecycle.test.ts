/**
 * The subscription lifecycle end to end, on SQLite and PostgreSQL, with a moved clock and a real SMTP
 * server in the process (SPEC §9, SCENARIO 9): a tenant goes active → warning → suspended →
 * retention → purged with the right behaviour in each state and an email to its admins at each step;
 * suspended refuses new enrollments, retention refuses every write (admin API, device check-ins and
 * the command line alike) and changes nothing; the purge leaves zero rows of the tenant in every
 * region store, no data key, and a receipt that verifies (and fails once altered). Cancellation,
 * renewal and the deletion request with its confirmation window are covered too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalInventoryJson, type InventoryDocument } from '@custos/shared';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { openRuntime, type Runtime } from '../compose.js';
import { fixedClock } from '../domain/clock.js';
import { DomainError } from '../domain/domain-error.js';
import { DAY_MS } from '../domain/lifecycle/lifecycle.js';
import { verifyPurgeReceipt, type PurgeReceipt } from '../domain/lifecycle/purge-receipt.js';
import { defaultCountryRegions } from '../domain/tenants/region-map.js';
import { tablesWithTenantId } from '../storage/tenant-purge.js';
import { LifecycleRepository } from '../storage/repositories/lifecycle-repository.js';
import type { RegionDatabase } from '../storage/database.js';
import { BACKENDS, TEST_REGIONS, type TestBackend } from '../test-support/backends.js';
import { assertAllAudited, SYSTEM } from '../test-support/harness.js';
import type { UnauditedWrite } from './plugins/audit-guard.js';
import { startSmtpServer, type TestSmtpServer } from '../test-support/smtp.js';
import { digestOf, TestDevice } from '../test-support/test-device.js';
import { buildApp } from './app.js';

const inventory: InventoryDocument = {
  hardware: { deviceName: 'laptop-1', operatingSystem: 'Debian GNU/Linux', osVersion: '12.5', serialNumber: 'SN-1', encrypted: true },
  apps: [{ name: 'Firefox', version: '128.0' }],
};

/** Rows holding `tenantId` in one region store, per table (only tables with any). */
async function rowsOf(db: Kysely<RegionDatabase>, tenantId: string): Promise<Record<string, number>> {
  const untyped = db as unknown as Kysely<Record<string, { tenant_id: string }>>;
  const found: Record<string, number> = {};
  for (const table of await tablesWithTenantId(db)) {
    const row = await untyped
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    if (Number(row.n) > 0) found[table] = Number(row.n);
  }
  return found;
}

for (const { name, create } of BACKENDS) {
  describe(`subscription lifecycle on ${name}`, () => {
    const clock = fixedClock(Date.now());
    let backend: TestBackend;
    let runtime: Runtime;
    let app: FastifyInstance;
    let smtp: TestSmtpServer;
    const unaudited: UnauditedWrite[] = [];

    before(async () => {
      backend = await create();
      smtp = await startSmtpServer();
      runtime = await openRuntime(
        {
          storage: backend.config,
          regions: TEST_REGIONS,
          regionMap: { countries: defaultCountryRegions(), fallback: 'us' },
          smtpUrl: smtp.url,
          mailFrom: 'Custos <custos@example.com>',
        },
        clock,
      );
      app = await buildApp({ services: runtime.services, onUnauditedWrite: (w) => unaudited.push(w) });
    });
    after(async () => {
      await app.close();
      await runtime.close();
      await smtp.close();
      await backend.dispose();
      assertAllAudited(unaudited);
    });

    const call = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
      app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });

    /** A tenant with a Tenant Administrator user (the mail recipient besides the admin email) and tokens. */
    const tenant = async (country = 'GB') => {
      const { tenant: t } = await runtime.services.tenants.create({ name: `Acme ${country}`, country, adminEmail: 'it@acme.example' });
      await runtime.services.users.createUser(SYSTEM, t.id, {
        userName: 'boss@acme.example',
        email: 'boss@acme.example',
        roles: ['Tenant Administrator'],
      });
      const { token } = await runtime.services.apiTokens.create(SYSTEM, t.id, { role: 'Tenant Administrator' });
      const enrollment = await runtime.services.enrollment.createToken(SYSTEM, t.id, { ownership: 'corporate' });
      return { tenantId: t.id, region: t.region, adminToken: token, enrollmentToken: enrollment.token };
    };
    /** A device session signed at the moved clock's time. */
    const resume = async (device: TestDevice) => {
      const body = '{}';
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/agent/session',
        payload: body,
        headers: device.signedHeaders('POST', '/api/v1/agent/session', body, undefined, clock.now()),
      });
      if (res.statusCode === 200) device.session = res.json();
      return res;
    };
    const checkIn = async (device: TestDevice) => {
      const session = await resume(device);
      if (session.statusCode !== 200) return session;
      return (await device.checkIn({ inventoryDigest: digestOf(canonicalInventoryJson(inventory)), inventory })).res;
    };
    const enroll = async (enrollmentToken: string) => {
      const device = await TestDevice.enroll(app, enrollmentToken);
      assert.equal((await checkIn(device)).statusCode, 200);
      return device;
    };
    const deviceCount = async (token: string) => {
      const res = await call(token, 'GET', '/api/v1/devices');
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ items: unknown[] }>().items.length;
    };
    const subscription = async (token: string) => {
      const res = await call(token, 'GET', '/api/v1/tenant/subscription');
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ state: string; notice: string | null; next: { state: string; at: string } | null }>();
    };
    const tick = () => runtime.services.lifecycle.tick(SYSTEM);
    /** The messages that arrived since `from`, for one tenant. */
    const mailSince = (from: number, tenantId: string) => smtp.messages.slice(from).filter((m) => m.text.includes(tenantId));
    const refusedWith = async (res: { statusCode: number; json: <T>() => T; body: string }, status: number, code: string) => {
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json<{ code: string }>().code, code);
    };

    test('a lapsed subscription passes through every state with the right behaviour, emails at each step, and a provable purge', async () => {
      const t = await tenant();
      const other = await tenant('DE'); // same region, stays active: the purge must not touch it
      const device = await enroll(t.enrollmentToken);
      assert.equal((await subscription(t.adminToken)).state, 'active');
      assert.equal((await subscription(t.adminToken)).notice, null);

      // The operator records the end of the paid subscription; nothing changes before it.
      await runtime.services.lifecycle.setSubscriptionEnd(SYSTEM, t.tenantId, clock.now() + DAY_MS);
      assert.deepEqual(await tick(), []);

      // warning: full service, a notice, an email to both admins.
      let mark = smtp.messages.length;
      clock.advance(DAY_MS + 1);
      const [warning, ...rest] = await tick();
      assert.equal(rest.length, 0);
      assert.equal(warning?.to, 'warning');
      let mails = await smtp.waitFor(mark + 1).then(() => mailSince(mark, t.tenantId));
      assert.equal(mails.length, 1);
      assert.deepEqual([...(mails[0]?.to ?? [])].sort(), ['boss@acme.example', 'it@acme.example']);
      assert.match(mails[0]?.subject ?? '', /warning/);
      const warned = await subscription(t.adminToken);
      assert.equal(warned.state, 'warning');
      assert.match(warned.notice ?? '', /renew/i);
      assert.equal(warned.next?.state, 'suspended');
      await enroll(t.enrollmentToken); // full service
      assert.equal(await deviceCount(t.adminToken), 2);

      // suspended: no new enrollments (agent and admin), enrolled devices keep checking in.
      mark = smtp.messages.length;
      clock.advance(30 * DAY_MS);
      assert.deepEqual(
        (await tick()).map((x) => x.to),
        ['suspended'],
      );
      mails = await smtp.waitFor(mark + 1).then(() => mailSince(mark, t.tenantId));
      assert.match(mails[0]?.subject ?? '', /suspended/);
      await assert.rejects(TestDevice.enroll(app, t.enrollmentToken), /403.*tenant-suspended/);
      await refusedWith(await call(t.adminToken, 'POST', '/api/v1/enrollment-tokens', { ownership: 'corporate' }), 403, 'tenant-suspended');
      // The Company Portal's enrollment code is refused the same way.
      const employee = await runtime.services.users.createUser(SYSTEM, t.tenantId, {
        userName: 'ana@acme.example',
        email: 'ana@acme.example',
      });
      const portal = await runtime.services.sessions.start(t.tenantId, employee, {
        method: 'password',
        mfaSatisfied: false,
        context: { ip: '127.0.0.1', correlationId: null },
      });
      const code = await app.inject({
        method: 'POST',
        url: '/api/v1/me/enrollment-tokens',
        headers: { cookie: `custos_session=${portal.cookie}`, 'x-csrf-token': portal.csrfToken },
      });
      await refusedWith(code, 403, 'tenant-suspended');
      assert.equal(await deviceCount(t.adminToken), 2, 'the refused enrollment left no device');
      assert.equal((await checkIn(device)).statusCode, 200);
      const rename = await call(t.adminToken, 'POST', `/api/v1/devices/${device.id}/actions/rename`, { deviceName: 'still-works' });
      assert.ok(rename.statusCode < 300, rename.body);

      // retention: read-only everywhere, reads work.
      mark = smtp.messages.length;
      clock.advance(30 * DAY_MS);
      assert.deepEqual(
        (await tick()).map((x) => x.to),
        ['retention'],
      );
      mails = await smtp.waitFor(mark + 1).then(() => mailSince(mark, t.tenantId));
      assert.match(mails[0]?.subject ?? '', /retention/);
      const before = await call(t.adminToken, 'GET', `/api/v1/devices/${device.id}`);
      assert.equal(before.statusCode, 200, before.body);
      const auditBefore = (await runtime.services.audit.verify(SYSTEM, t.tenantId)).events;
      await refusedWith(await call(t.adminToken, 'POST', `/api/v1/devices/${device.id}/actions/lock`), 423, 'tenant-read-only');
      await refusedWith(await call(t.adminToken, 'POST', '/api/v1/users', { userName: 'new@acme.example' }), 423, 'tenant-read-only');
      await refusedWith(
        await call(t.adminToken, 'POST', '/api/v1/compliance-policies', { name: 'Late', settings: { requireEncryption: true } }),
        423,
        'tenant-read-only',
      );
      // A device check-in is refused as a whole and stores nothing (the agent keeps its data and retries).
      const refusedCheckIn = await checkIn(device);
      await refusedWith(refusedCheckIn, 423, 'tenant-read-only');
      // The storage guard, not only the admin API: the command line is refused too.
      await assert.rejects(
        runtime.services.users.createUser(SYSTEM, t.tenantId, { userName: 'cli@acme.example' }),
        (e: unknown) => e instanceof DomainError && e.code === 'tenant-read-only',
      );
      const afterwards = await call(t.adminToken, 'GET', `/api/v1/devices/${device.id}`);
      assert.deepEqual(afterwards.json(), before.json(), 'nothing about the device changed');
      assert.equal((await call(t.adminToken, 'GET', '/api/v1/users')).json<{ items: unknown[] }>().items.length, 2);
      assert.equal((await call(t.adminToken, 'GET', '/api/v1/compliance-policies')).statusCode, 200);
      const verdict = await runtime.services.audit.verify(SYSTEM, t.tenantId);
      assert.ok(verdict.intact);
      assert.equal(verdict.events, auditBefore, 'refused writes appended no audit event');
      // Export is what retention is for: it still starts (and is audited).
      const exported = await call(t.adminToken, 'POST', '/api/v1/exports');
      assert.equal(exported.statusCode, 202, exported.body);
      await runtime.services.exports.settle();
      const job = await call(t.adminToken, 'GET', `/api/v1/exports/${exported.json<{ id: string }>().id}`);
      assert.equal(job.json<{ status: string }>().status, 'completed', job.body);
      const archives = join(backend.config.kind === 'sqlite' ? backend.config.dataDir : tmpdir(), 'exports', t.tenantId);
      assert.ok(existsSync(archives));
      const events = await call(t.adminToken, 'GET', '/api/v1/audit-events?category=Tenant');
      assert.equal(events.statusCode, 200, events.body);
      const activities = events.json<{ items: { activity: string }[] }>().items.map((e) => e.activity);
      for (const a of ['Set subscription end', 'Subscription warning', 'Subscription suspended', 'Subscription retention']) {
        assert.ok(activities.includes(a), `audited: ${a} (found ${activities.join(', ')})`);
      }

      // purged: every row in every region store, the key, and a receipt that verifies.
      assert.ok(await runtime.storage.tenantKeys.hasKeys(t.tenantId));
      mark = smtp.messages.length;
      clock.advance(90 * DAY_MS);
      const [purge] = await tick();
      assert.equal(purge?.to, 'purged');
      mails = await smtp.waitFor(mark + 1).then(() => mailSince(mark, t.tenantId));
      assert.match(mails[0]?.subject ?? '', /purged/);
      assert.deepEqual([...(mails[0]?.to ?? [])].sort(), ['boss@acme.example', 'it@acme.example']);
      for (const region of runtime.storage.regions) {
        assert.deepEqual(await rowsOf(runtime.storage.inspectRegionStore(region), t.tenantId), {}, `no row of the tenant in ${region}`);
      }
      assert.ok(
        Object.keys(await rowsOf(runtime.storage.inspectRegionStore(other.region), other.tenantId)).length > 0,
        'the other tenant is untouched',
      );
      assert.equal(await runtime.storage.tenantKeys.hasKeys(t.tenantId), false);
      assert.equal(existsSync(archives), false, 'the export archives went with the rows');
      const tombstone = await runtime.services.lifecycle.tombstone(t.tenantId);
      assert.ok(tombstone);
      const receipt: PurgeReceipt = tombstone.receipt;
      assert.equal(receipt.tenantId, t.tenantId);
      assert.equal(receipt.region, t.region);
      assert.equal(receipt.keyDestroyed, true);
      assert.ok(
        (receipt.deletedRows['devices'] ?? 0) === 2 && (receipt.deletedRows['audit_events'] ?? 0) > 0,
        JSON.stringify(receipt.deletedRows),
      );
      assert.deepEqual(Object.keys(receipt.deletedRows), await tablesWithTenantId(runtime.storage.inspectRegionStore(t.region)));
      assert.equal(verifyPurgeReceipt(receipt).valid, true);
      assert.equal(verifyPurgeReceipt(JSON.parse(JSON.stringify(receipt)) as unknown).valid, true, 'survives a JSON round trip');
      const altered = { ...receipt, deletedRows: { ...receipt.deletedRows, devices: 1 } };
      assert.deepEqual(verifyPurgeReceipt(altered), { valid: false, reason: 'the signature does not match the content' });
      assert.equal(verifyPurgeReceipt({ ...receipt, keyDestroyed: false }).valid, false);
      // The directory keeps only the tombstone; the tenant is gone for every request.
      assert.equal(
        (await runtime.services.tenants.list()).some((x) => x.id === t.tenantId),
        false,
      );
      assert.equal((await call(t.adminToken, 'GET', '/api/v1/devices')).statusCode, 401);
      assert.equal((await runtime.services.lifecycle.tick(SYSTEM)).length, 0, 'a purged tenant has no further transition');
    });

    test('cancellation goes straight to retention and renewal returns to full service', async () => {
      const t = await tenant();
      const { token: scimToken } = await runtime.services.scimTokens.create(SYSTEM, t.tenantId);
      const mark = smtp.messages.length;
      const cancelled = await runtime.services.lifecycle.cancel(SYSTEM, t.tenantId);
      assert.equal(cancelled.to, 'retention');
      assert.equal((await subscription(t.adminToken)).state, 'retention');
      await refusedWith(await call(t.adminToken, 'POST', '/api/v1/groups', { displayName: 'Sales' }), 423, 'tenant-read-only');
      // SCIM provisioning is refused too, and the user stays as it was.
      const boss = (await call(t.adminToken, 'GET', '/api/v1/users')).json<{ items: { id: string; active: boolean }[] }>().items[0];
      assert.ok(boss?.active);
      const scim = await app.inject({
        method: 'PATCH',
        url: `/scim/v2/Users/${boss.id}`,
        headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
        payload: JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'active', value: false }],
        }),
      });
      assert.equal(scim.statusCode, 423, scim.body);
      assert.equal((await call(t.adminToken, 'GET', `/api/v1/users/${boss.id}`)).json<{ active: boolean }>().active, true);
      const renewed = await runtime.services.lifecycle.renew(SYSTEM, t.tenantId, clock.now() + 365 * DAY_MS);
      assert.equal(renewed.from, 'retention');
      assert.equal(renewed.to, 'active');
      const group = await call(t.adminToken, 'POST', '/api/v1/groups', { displayName: 'Sales' });
      assert.equal(group.statusCode, 201, group.body);
      const mails = await smtp.waitFor(mark + 2).then(() => mailSince(mark, t.tenantId));
      assert.deepEqual(
        mails.map((m) => m.subject),
        [`Custos: Subscription of "Acme GB": retention`, `Custos: Subscription of "Acme GB": active`],
      );
      // Renewal needs a future end; a bad one changes nothing.
      await assert.rejects(runtime.services.lifecycle.renew(SYSTEM, t.tenantId, clock.now() - 1), /future/);
      assert.equal((await subscription(t.adminToken)).state, 'active');
    });

    test('a deletion request purges after its confirmation window, and a withdrawn one does not', async () => {
      const kept = await tenant();
      const gone = await tenant();
      await runtime.services.lifecycle.requestDeletion(SYSTEM, kept.tenantId);
      await runtime.services.lifecycle.requestDeletion(SYSTEM, gone.tenantId);
      assert.match((await subscription(gone.adminToken)).notice ?? '', /Deletion was requested/);
      assert.equal((await subscription(gone.adminToken)).next?.state, 'purged');
      clock.advance(6 * DAY_MS);
      assert.deepEqual(await tick(), [], 'still inside the confirmation window');
      await runtime.services.lifecycle.withdrawDeletion(SYSTEM, kept.tenantId);
      clock.advance(DAY_MS + 1);
      const applied = await tick();
      assert.deepEqual(
        applied.map((a) => [a.tenantId, a.to, a.reason]),
        [[gone.tenantId, 'purged', 'deletion-confirmed']],
      );
      assert.equal((await subscription(kept.adminToken)).state, 'active');
      assert.equal(verifyPurgeReceipt((await runtime.services.lifecycle.tombstone(gone.tenantId))?.receipt).valid, true);
      await assert.rejects(
        runtime.services.lifecycle.renew(SYSTEM, gone.tenantId, null),
        (e: unknown) => e instanceof DomainError && e.code === 'tenant-not-found',
      );
    });

    test('admins request and withdraw deletion over the API; other roles and repeated requests are refused and change nothing', async () => {
      const t = await tenant();
      const { token: readOnly } = await runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role: 'Read Only Operator' });
      await refusedWith(await call(readOnly, 'POST', '/api/v1/tenant/subscription/deletion-request'), 403, 'forbidden');
      await refusedWith(await call(t.adminToken, 'DELETE', '/api/v1/tenant/subscription/deletion-request'), 409, 'conflict');
      assert.equal((await subscription(t.adminToken)).next, null, 'nothing scheduled');
      const mark = smtp.messages.length;
      const requested = await call(t.adminToken, 'POST', '/api/v1/tenant/subscription/deletion-request');
      assert.equal(requested.statusCode, 202, requested.body);
      assert.equal(requested.json<{ next: { state: string } }>().next.state, 'purged');
      const mails = await smtp.waitFor(mark + 1).then(() => mailSince(mark, t.tenantId));
      assert.match(mails[0]?.text ?? '', /Unless the request is withdrawn/);
      await refusedWith(await call(t.adminToken, 'POST', '/api/v1/tenant/subscription/deletion-request'), 409, 'conflict');
      const withdrawn = await call(t.adminToken, 'DELETE', '/api/v1/tenant/subscription/deletion-request');
      assert.equal(withdrawn.statusCode, 200, withdrawn.body);
      assert.equal(withdrawn.json<{ deletionRequestedAt: string | null }>().deletionRequestedAt, null);
      clock.advance(8 * DAY_MS);
      assert.deepEqual(
        (await tick()).filter((a) => a.tenantId === t.tenantId),
        [],
      );
    });

    test('a purge interrupted after its deletion still reports what it deleted when it runs again', async () => {
      const t = await tenant();
      await enroll(t.enrollmentToken);
      await runtime.services.lifecycle.cancel(SYSTEM, t.tenantId);
      const entry = (await runtime.services.tenants.list()).find((x) => x.id === t.tenantId);
      assert.ok(entry);
      // The first attempt noted its counts and deleted the rows, then the process died.
      const counted = await runtime.storage.countTenantRows(entry);
      assert.equal(counted['devices'], 1);
      await new LifecycleRepository(runtime.storage.directory).recordPurgeStarted(t.tenantId, counted);
      await runtime.storage.purgeTenantRows(entry);
      clock.advance(91 * DAY_MS);
      const purged = (await tick()).find((a) => a.tenantId === t.tenantId);
      assert.equal(purged?.to, 'purged');
      assert.deepEqual(purged?.receipt?.deletedRows, counted);
      assert.equal(verifyPurgeReceipt(purged?.receipt).valid, true);
    });

    test('every role may read the subscription state; an anonymous caller may not', async () => {
      const t = await tenant();
      const { token } = await runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role: 'Read Only Operator' });
      assert.equal((await subscription(token)).state, 'active');
      const anonymous = await app.inject({ method: 'GET', url: '/api/v1/tenant/subscription' });
      assert.equal(anonymous.statusCode, 401);
    });
  });
}
