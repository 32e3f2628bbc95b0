/**
 * The audit log through the real app, on SQLite and PostgreSQL: admin writes land as hash-chained
 * events with actor, IP, targets and old/new values; filters and paging; the chain stays gap-free
 * under concurrent writers; and any altered, deleted or re-ordered row in the store is named by the
 * verifier.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, SYSTEM, type Harness } from '../test-support/harness.js';

interface EventDto {
  id: string;
  sequence: number;
  activity: string;
  category: string;
  operation: string;
  result: string;
  actor: { type: string; id: string; name: string; ip: string | null };
  targets: { type: string; id: string; modifiedProperties?: { name: string; oldValue: unknown; newValue: unknown }[] }[];
  correlationId: string | null;
}

for (const { name, create } of BACKENDS) {
  describe(`audit log on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    let t: Awaited<ReturnType<typeof seedTenant>>;
    let other: Awaited<ReturnType<typeof seedTenant>>;
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    const events = async (token: string, query = '') => {
      const res = await h.app.inject({ url: `/api/v1/audit-events${query}`, headers: auth(token) });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ items: EventDto[]; nextCursor: string | null }>();
    };
    const verify = async (token: string) => {
      const res = await h.app.inject({ url: '/api/v1/audit-events/verify', headers: auth(token) });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ intact: boolean; problem?: string; eventId?: string | null; sequence?: number; events: number }>();
    };
    const store = () => h.runtime.storage.inspectRegionStore(t.region);

    before(async () => {
      t = await seedTenant(h, 'GB');
      other = await seedTenant(h, 'DE');
    });

    test('admin writes are recorded with actor, address, correlation id and changed values', async () => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/enrollment-tokens',
        headers: { ...auth(t.adminToken), 'x-correlation-id': 'change-4711' },
        payload: { ownership: 'personal', description: 'BYOD', maxUses: 5 },
      });
      assert.equal(res.statusCode, 201, res.body);
      const tokenId = res.json<{ id: string }>().id;
      const { items } = await events(t.adminToken);
      const created = items.find((e) => e.activity === 'Create enrollment token');
      assert.ok(created, JSON.stringify(items.map((e) => e.activity)));
      assert.equal(created.actor.type, 'apiToken');
      assert.equal(created.actor.ip, '127.0.0.1');
      assert.equal(created.correlationId, 'change-4711');
      assert.equal(created.targets[0]?.id, tokenId);
      const props = Object.fromEntries((created.targets[0]?.modifiedProperties ?? []).map((p) => [p.name, p.newValue]));
      assert.equal(props['ownership'], 'personal');
      assert.equal(props['maxUses'], 5);
      assert.equal(JSON.stringify(created).includes('custos_enr_'), false, 'no secret in the log');
      // The tenant's chain starts with its creation; sequences count up from 1.
      const all = await events(t.adminToken, '?limit=500');
      assert.deepEqual(
        all.items.map((e) => e.sequence),
        all.items.map((_, i) => all.items.length - i),
      );
      assert.equal(all.items.at(-1)?.activity, 'Create tenant');
    });

    test('filters and cursor paging; reading needs audit.read; another tenant sees none of it', async () => {
      for (let i = 0; i < 5; i++) await h.runtime.services.enrollment.createToken(SYSTEM, t.tenantId, { ownership: 'corporate' });
      const page1 = await events(t.adminToken, '?category=Enrollment&limit=2');
      assert.equal(page1.items.length, 2);
      assert.ok(page1.items.every((e) => e.category === 'Enrollment'));
      assert.ok(page1.nextCursor);
      const page2 = await events(t.adminToken, `?category=Enrollment&limit=2&cursor=${page1.nextCursor}`);
      assert.ok((page2.items[0]?.sequence ?? Infinity) < (page1.items[1]?.sequence ?? 0));
      const byTarget = await events(t.adminToken, `?targetId=${t.tenantId}`);
      assert.deepEqual(
        byTarget.items.map((e) => e.activity),
        ['Create tenant'],
      );
      const failures = await events(t.adminToken, '?result=failure');
      assert.equal(failures.items.length, 0);

      const readOnly = (await h.runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role: 'Read Only Operator' })).token;
      const denied = await h.app.inject({ url: '/api/v1/audit-events', headers: auth(readOnly) });
      assert.equal(denied.statusCode, 403);
      const privacy = (await h.runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role: 'Privacy Officer' })).token;
      assert.ok((await events(privacy)).items.length > 0);

      const foreign = await events(other.adminToken, '?limit=500');
      assert.ok(foreign.items.every((e) => !JSON.stringify(e).includes(t.tenantId)));
      const bad = await h.app.inject({ url: '/api/v1/audit-events?cursor=abc', headers: auth(t.adminToken) });
      assert.equal(bad.statusCode, 400);
    });

    test('concurrent writers keep the chain gap-free and intact', async () => {
      await Promise.all(
        Array.from({ length: 20 }, () =>
          h.app.inject({
            method: 'POST',
            url: '/api/v1/enrollment-tokens',
            headers: auth(t.adminToken),
            payload: { ownership: 'corporate' },
          }),
        ),
      );
      const verdict = await verify(t.adminToken);
      assert.equal(verdict.intact, true, JSON.stringify(verdict));
      const head = await h.runtime.services.audit.list(SYSTEM, t.tenantId, {}, { limit: 1 });
      assert.equal(verdict.events, head.items[0]?.sequence);
    });

    test('an altered, deleted or re-ordered row is detected and named', async () => {
      assert.equal((await verify(t.adminToken)).intact, true);
      const rows = await store().selectFrom('audit_events').selectAll().where('tenant_id', '=', t.tenantId).orderBy('sequence').execute();
      assert.ok(rows.length >= 5);
      const victim = rows[2]!;

      // Altered: one property of one row.
      await store()
        .updateTable('audit_events')
        .set({ actor_name: 'someone else' })
        .where('tenant_id', '=', t.tenantId)
        .where('sequence', '=', victim.sequence)
        .execute();
      let verdict = await verify(t.adminToken);
      assert.equal(verdict.intact, false);
      assert.equal(verdict.problem, 'altered');
      assert.equal(verdict.eventId, victim.id);
      await store()
        .updateTable('audit_events')
        .set({ actor_name: victim.actor_name })
        .where('tenant_id', '=', t.tenantId)
        .where('sequence', '=', victim.sequence)
        .execute();
      assert.equal((await verify(t.adminToken)).intact, true, 'restored');

      // Deleted: a row in the middle.
      await store().deleteFrom('audit_events').where('tenant_id', '=', t.tenantId).where('sequence', '=', victim.sequence).execute();
      verdict = await verify(t.adminToken);
      assert.equal(verdict.problem, 'missing');
      assert.equal(verdict.sequence, victim.sequence);
      await store().insertInto('audit_events').values(victim).execute();
      assert.equal((await verify(t.adminToken)).intact, true, 'restored');

      // Deleted: the newest row (only the chain head still knows it existed).
      const last = rows.at(-1)!;
      const newest = await store()
        .selectFrom('audit_events')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .orderBy('sequence', 'desc')
        .executeTakeFirstOrThrow();
      assert.ok(newest.sequence >= last.sequence);
      await store().deleteFrom('audit_events').where('tenant_id', '=', t.tenantId).where('sequence', '=', newest.sequence).execute();
      verdict = await verify(t.adminToken);
      assert.equal(verdict.problem, 'missing');
      await store().insertInto('audit_events').values(newest).execute();

      // Re-ordered: two events swap places (their sequence numbers).
      const a = rows[1]!;
      const b = rows[3]!;
      await store()
        .updateTable('audit_events')
        .set({ sequence: -1 })
        .where('tenant_id', '=', t.tenantId)
        .where('sequence', '=', a.sequence)
        .execute();
      await store()
        .updateTable('audit_events')
        .set({ sequence: a.sequence })
        .where('tenant_id', '=', t.tenantId)
        .where('sequence', '=', b.sequence)
        .execute();
      await store()
        .updateTable('audit_events')
        .set({ sequence: b.sequence })
        .where('tenant_id', '=', t.tenantId)
        .where('sequence', '=', -1)
        .execute();
      verdict = await verify(t.adminToken);
      assert.equal(verdict.intact, false);
      assert.equal(verdict.sequence, a.sequence);
      assert.equal(verdict.eventId, b.id);
      // The other tenant's chain is untouched by all of this.
      assert.equal((await verify(other.adminToken)).intact, true);
    });
  });
}
