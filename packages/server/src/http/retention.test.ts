/**
 * Retention rules on SQLite and PostgreSQL with a moved clock: stale-device cleanup (a tenant
 * setting, refused outside 30–270 days), finished commands deleted after 90 days, audit events pruned
 * after a year behind a checkpoint that `audit verify` starts from — and that a moved checkpoint or a
 * further deletion still breaks —, imported audit chains pruned the same way behind a checkpoint per
 * chain, and the rules published in the privacy catalog.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { canonicalInventoryJson, type InventoryDocument } from '@custos/shared';
import type { FastifyInstance } from 'fastify';
import { openRuntime, type Runtime } from '../compose.js';
import { fixedClock } from '../domain/clock.js';
import { DAY_MS } from '../domain/lifecycle/lifecycle.js';
import { defaultCountryRegions } from '../domain/tenants/region-map.js';
import { BACKENDS, TEST_REGIONS, type TestBackend } from '../test-support/backends.js';
import { assertAllAudited, SYSTEM } from '../test-support/harness.js';
import { digestOf, TestDevice } from '../test-support/test-device.js';
import type { UnauditedWrite } from './plugins/audit-guard.js';
import { buildApp } from './app.js';

const inventory: InventoryDocument = {
  hardware: { deviceName: 'pc', operatingSystem: 'Debian GNU/Linux', osVersion: '12.5', serialNumber: 'R-1', encrypted: true },
  apps: [],
};

for (const { name, create } of BACKENDS) {
  describe(`retention on ${name}`, () => {
    const clock = fixedClock(Date.now());
    let backend: TestBackend;
    let runtime: Runtime;
    let app: FastifyInstance;
    const unaudited: UnauditedWrite[] = [];

    before(async () => {
      backend = await create();
      runtime = await openRuntime(
        { storage: backend.config, regions: TEST_REGIONS, regionMap: { countries: defaultCountryRegions(), fallback: 'us' } },
        clock,
      );
      app = await buildApp({ services: runtime.services, onUnauditedWrite: (w) => unaudited.push(w) });
    });
    after(async () => {
      await app.close();
      await runtime.close();
      await backend.dispose();
      assertAllAudited(unaudited);
    });

    const call = (token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
      app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const tenant = async () => {
      const { tenant: t } = await runtime.services.tenants.create({ name: 'Keepers', country: 'GB' });
      // Long-lived token: the clock moves by months in these tests.
      const { token } = await runtime.services.apiTokens.create(SYSTEM, t.id, { role: 'Tenant Administrator', expiresInDays: 730 });
      const enrollment = await runtime.services.enrollment.createToken(SYSTEM, t.id, { ownership: 'corporate' });
      return { tenantId: t.id, region: t.region, adminToken: token, enrollmentToken: enrollment.token };
    };
    const checkIn = async (device: TestDevice) => {
      const body = '{}';
      const session = await app.inject({
        method: 'POST',
        url: '/api/v1/agent/session',
        payload: body,
        headers: device.signedHeaders('POST', '/api/v1/agent/session', body, undefined, clock.now()),
      });
      assert.equal(session.statusCode, 200, session.body);
      device.session = session.json();
      const { res } = await device.checkIn({ inventoryDigest: digestOf(canonicalInventoryJson(inventory)), inventory });
      assert.equal(res.statusCode, 200, res.body);
    };
    const status = async (token: string, id: string) =>
      (await call(token, 'GET', `/api/v1/devices/${id}`)).json<{ status: string }>().status;

    test('stale-device cleanup is off by default, accepts only 30–270 days, and retires silent devices with an audit event', async () => {
      const t = await tenant();
      const initial = await call(t.adminToken, 'GET', '/api/v1/tenant/retention');
      assert.equal(initial.statusCode, 200, initial.body);
      assert.equal(initial.json<{ staleDeviceDays: number | null }>().staleDeviceDays, null);
      for (const bad of [29, 271, 45.5, 'soon']) {
        const res = await call(t.adminToken, 'PUT', '/api/v1/tenant/retention', { staleDeviceDays: bad });
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json<{ code: string }>().code, 'validation-failed');
      }
      assert.equal(
        (await call(t.adminToken, 'GET', '/api/v1/tenant/retention')).json<{ staleDeviceDays: null }>().staleDeviceDays,
        null,
        'refused input changed nothing',
      );

      const silent = await TestDevice.enroll(app, t.enrollmentToken);
      const busy = await TestDevice.enroll(app, t.enrollmentToken);
      await checkIn(silent);
      await checkIn(busy);
      clock.advance(40 * DAY_MS);
      assert.deepEqual(
        await runtime.services.retention.apply(SYSTEM, t.tenantId),
        { devicesRetired: 0, commandsPruned: 0, auditEventsPruned: 0, importedAuditEventsPruned: 0 },
        'off by default',
      );

      const set = await call(t.adminToken, 'PUT', '/api/v1/tenant/retention', { staleDeviceDays: 30 });
      assert.equal(set.statusCode, 200, set.body);
      await checkIn(busy);
      const run = await runtime.services.retention.apply(SYSTEM, t.tenantId);
      assert.equal(run.devicesRetired, 1);
      assert.equal(await status(t.adminToken, silent.id), 'retired');
      assert.equal(await status(t.adminToken, busy.id), 'active');
      const events = await call(t.adminToken, 'GET', `/api/v1/audit-events?targetId=${silent.id}`);
      assert.ok(events.json<{ items: { activity: string }[] }>().items.some((e) => e.activity === 'Retire device'));
      const settings = await call(t.adminToken, 'GET', '/api/v1/audit-events?activity=Update%20retention%20settings');
      assert.equal(settings.json<{ items: unknown[] }>().items.length, 1);
    });

    test('finished commands go after 90 days; pending ones stay', async () => {
      const t = await tenant();
      const device = await TestDevice.enroll(app, t.enrollmentToken);
      await checkIn(device);
      assert.ok((await call(t.adminToken, 'POST', `/api/v1/devices/${device.id}/actions/sync`)).statusCode < 300);
      assert.ok((await call(t.adminToken, 'POST', `/api/v1/devices/${device.id}/actions/lock`)).statusCode < 300);
      const db = runtime.storage.inspectRegionStore(t.region);
      // The sync finished (as a device result would mark it); the lock is still pending.
      await db
        .updateTable('device_commands')
        .set({ state: 'acknowledged' })
        .where('tenant_id', '=', t.tenantId)
        .where('action', '=', 'sync')
        .execute();
      clock.advance(89 * DAY_MS);
      assert.equal((await runtime.services.retention.apply(SYSTEM, t.tenantId)).commandsPruned, 0);
      clock.advance(2 * DAY_MS);
      assert.equal((await runtime.services.retention.apply(SYSTEM, t.tenantId)).commandsPruned, 1);
      const left = await db.selectFrom('device_commands').select('action').where('tenant_id', '=', t.tenantId).execute();
      assert.deepEqual(
        left.map((r) => r.action),
        ['lock'],
      );
      assert.ok((await runtime.services.audit.verify(SYSTEM, t.tenantId)).intact);
    });

    test('audit events older than a year are pruned and the chain still verifies from the checkpoint; tampering with it does not', async () => {
      const t = await tenant();
      const before = await runtime.services.audit.verify(SYSTEM, t.tenantId);
      assert.ok(before.intact);
      clock.advance(200 * DAY_MS);
      await call(t.adminToken, 'PUT', '/api/v1/tenant/retention', { staleDeviceDays: 90 }); // a mid-life event
      clock.advance(200 * DAY_MS);
      const run = await runtime.services.retention.apply(SYSTEM, t.tenantId);
      assert.equal(run.auditEventsPruned, before.events, 'every event older than 365 days, and only those');
      const verdict = await runtime.services.audit.verify(SYSTEM, t.tenantId);
      assert.ok(verdict.intact, JSON.stringify(verdict));
      assert.equal(verdict.events, 2, 'the mid-life event and the prune event remain');
      assert.equal((await runtime.services.retention.apply(SYSTEM, t.tenantId)).auditEventsPruned, 0, 'nothing more is due');

      const db = runtime.storage.inspectRegionStore(t.region);
      const checkpoint = await db.selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', t.tenantId).executeTakeFirstOrThrow();
      const remaining = await db
        .selectFrom('audit_events')
        .select(['sequence', 'hash'])
        .where('tenant_id', '=', t.tenantId)
        .orderBy('sequence')
        .execute();
      const first = remaining[0];
      assert.ok(first);
      assert.equal(first.sequence, checkpoint.sequence + 1);
      // Deleting the oldest remaining event and moving the checkpoint over it is detected: the prune event names the old checkpoint.
      await db.deleteFrom('audit_events').where('tenant_id', '=', t.tenantId).where('sequence', '=', first.sequence).execute();
      await db
        .updateTable('audit_checkpoints')
        .set({ sequence: first.sequence, hash: first.hash })
        .where('tenant_id', '=', t.tenantId)
        .execute();
      const moved = await runtime.services.audit.verify(SYSTEM, t.tenantId);
      assert.equal(moved.intact, false);
      assert.match(moved.intact ? '' : moved.detail, /no prune event/);
      // Put the checkpoint back: now the deleted event is a gap.
      await db
        .updateTable('audit_checkpoints')
        .set({ sequence: checkpoint.sequence, hash: checkpoint.hash })
        .where('tenant_id', '=', t.tenantId)
        .execute();
      const gap = await runtime.services.audit.verify(SYSTEM, t.tenantId);
      assert.equal(gap.intact, false);
      assert.equal(gap.intact ? '' : gap.problem, 'missing');
    });

    test('imported audit events older than a year are pruned per chain; verify holds, a moved imported checkpoint does not', async () => {
      const source = await tenant();
      clock.advance(200 * DAY_MS);
      await call(source.adminToken, 'PUT', '/api/v1/tenant/retention', { staleDeviceDays: 90 }); // a mid-life event
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      await runtime.services.exports.exportTo(SYSTEM, source.tenantId, out);
      const { tenant: target } = await runtime.services.tenants.create({ name: 'Imported keepers', country: 'GB' });
      await runtime.services.exports.importFrom(SYSTEM, target.id, Readable.from([Buffer.concat(chunks)]));
      const db = runtime.storage.inspectRegionStore(target.region);
      const importedRows = () =>
        db
          .selectFrom('imported_audit_events')
          .select(['sequence', 'hash', 'occurred_at'])
          .where('tenant_id', '=', target.id)
          .orderBy('sequence')
          .execute();
      const imported = await importedRows();
      const old = imported.filter((r) => r.occurred_at < clock.now() - 100 * DAY_MS).length;
      assert.ok(old > 0 && old < imported.length, 'the source had events before and after the mid-life one');

      clock.advance(200 * DAY_MS);
      const run = await runtime.services.retention.apply(SYSTEM, target.id);
      assert.equal(run.importedAuditEventsPruned, old, 'the imported events older than 365 days, and only those');
      assert.equal(run.auditEventsPruned, 0, "the tenant's own events are younger");
      const verdict = await runtime.services.audit.verify(SYSTEM, target.id);
      assert.ok(verdict.intact, JSON.stringify(verdict));
      assert.equal(verdict.imported[0]?.events, imported.length - old);
      assert.equal((await runtime.services.retention.apply(SYSTEM, target.id)).importedAuditEventsPruned, 0, 'nothing more is due');
      const prunes = await runtime.services.audit.list(SYSTEM, target.id, { activity: 'Prune imported audit events' }, {});
      assert.equal(prunes.items.length, 1, 'one prune event records the checkpoint');

      // Deleting the oldest remaining imported event and moving the checkpoint over it is detected.
      const checkpoint = await db
        .selectFrom('imported_audit_checkpoints')
        .selectAll()
        .where('tenant_id', '=', target.id)
        .executeTakeFirstOrThrow();
      const [first] = await importedRows();
      assert.ok(first);
      assert.equal(first.sequence, checkpoint.sequence + 1);
      const move = (to: { sequence: number; hash: string }) =>
        db
          .updateTable('imported_audit_checkpoints')
          .set({ sequence: to.sequence, hash: to.hash })
          .where('tenant_id', '=', target.id)
          .execute();
      await db.deleteFrom('imported_audit_events').where('tenant_id', '=', target.id).where('sequence', '=', first.sequence).execute();
      await move(first);
      const moved = await runtime.services.audit.verify(SYSTEM, target.id);
      assert.equal(moved.intact, false);
      assert.match(moved.intact ? '' : moved.detail, /no prune event in the log records that checkpoint/);
      // Put the checkpoint back: now the deleted event is a gap.
      await move(checkpoint);
      const gap = await runtime.services.audit.verify(SYSTEM, target.id);
      assert.equal(gap.intact ? '' : gap.problem, 'missing');

      // A year later every imported event is gone (and the import event with the own log's oldest):
      // the chain stays verified from its checkpoint, recorded again when its record ages out.
      clock.advance(200 * DAY_MS);
      const emptied = await runtime.services.retention.apply(SYSTEM, target.id);
      assert.equal(emptied.importedAuditEventsPruned, imported.length - old - 1, 'all but the one deleted above');
      assert.deepEqual(await importedRows(), []);
      clock.advance(400 * DAY_MS);
      const rerecorded = await runtime.services.retention.apply(SYSTEM, target.id);
      assert.equal(rerecorded.importedAuditEventsPruned, 0);
      const last = await runtime.services.audit.verify(SYSTEM, target.id);
      assert.ok(last.intact, JSON.stringify(last));
      assert.deepEqual(
        last.imported.map((v) => [v.intact, v.events]),
        [[true, 0]],
      );
      const records = await runtime.services.audit.list(SYSTEM, target.id, { activity: 'Prune imported audit events' }, {});
      assert.equal(records.items.length, 1, 'the older record was pruned, its successor names the checkpoint');
    });

    test('the privacy catalog and the transparency text publish every retention rule', async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/privacy/catalog' });
      assert.equal(res.statusCode, 200);
      const rules = res.json<{ retentionRules: { rule: string; days: number | null }[] }>().retentionRules;
      assert.deepEqual(
        rules.map((r) => [r.rule, r.days]),
        [
          ['stale-devices', null],
          ['audit-events', 365],
          ['command-results', 90],
          ['inventory', null],
          ['export-archives', 7],
        ],
      );
      const t = await tenant();
      const info = await app.inject({ method: 'GET', url: `/api/v1/enroll/info?token=${encodeURIComponent(t.enrollmentToken)}` });
      assert.equal(info.statusCode, 200, info.body);
      assert.equal(info.json<{ retention: string[] }>().retention.length, 5);
    });
  });
}
