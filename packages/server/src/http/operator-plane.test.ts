/**
 * The operator plane through the real app, on SQLite and PostgreSQL: operator sign-in (password and
 * TOTP, always; replay and lockout refused), lockbox requests decided by the tenant, access under an
 * approved request until it expires — each step in the tenant's audit log — and the access review.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedClock } from '../domain/clock.js';
import { totpCodeAt } from '../domain/identity/totp.js';
import { BACKENDS, type TestBackend } from '../test-support/backends.js';
import { assertAllAudited, seedTenant, startHarness, SYSTEM, type Harness } from '../test-support/harness.js';
import { TestDevice } from '../test-support/test-device.js';

const START = Date.parse('2030-03-01T09:00:00Z');
const MINUTE = 60_000;

for (const { name, create } of BACKENDS) {
  describe(`operator plane on ${name}`, () => {
    const clock = fixedClock(START);
    let backend: TestBackend;
    let h: Harness;
    let gb: Awaited<ReturnType<typeof seedTenant>>;
    let us: Awaited<ReturnType<typeof seedTenant>>;
    let deviceId: string;

    before(async () => {
      backend = await create();
      h = await startHarness(backend, clock);
      gb = await seedTenant(h, 'GB');
      us = await seedTenant(h, 'US');
      deviceId = (await TestDevice.enroll(h.app, gb.enrollmentToken)).id;
    });
    after(async () => {
      const unaudited = h.unaudited;
      await h.close();
      await backend.dispose();
      assertAllAudited(unaudited);
    });

    const login = (email: string, password: string, totpCode: string) =>
      h.app.inject({ method: 'POST', url: '/api/v1/operator/login', payload: { email, password, totpCode } });
    const asOperator = (session: { cookie: string; csrf: string }, tenantId?: string, csrf = true) => ({
      cookie: `custos_operator_session=${session.cookie}`,
      ...(tenantId ? { 'x-custos-tenant': tenantId } : {}),
      ...(csrf ? { 'x-csrf-token': session.csrf } : {}),
    });
    const audit = async (tenantId: string, activity: string) =>
      (await h.runtime.services.audit.list(SYSTEM, tenantId, { activity }, { limit: 200 })).items;

    async function operatorSession(email: string) {
      const created = await h.runtime.services.operators.create(email);
      clock.advance(31_000); // a fresh TOTP step for each sign-in
      const res = await login(email, created.initialPassword, await totpCodeAt(created.totpSecret, clock.now()));
      assert.equal(res.statusCode, 200, res.body);
      const cookie = res.cookies.find((c) => c.name === 'custos_operator_session');
      assert.ok(cookie);
      return { created, cookie: cookie.value, csrf: res.json<{ csrfToken: string }>().csrfToken };
    }

    test('sign-in needs the password and a TOTP code, refuses a replayed code, and locks after repeated failures', async () => {
      const created = await h.runtime.services.operators.create('Sign-In@Ops.example');
      assert.equal(created.operator.email, 'sign-in@ops.example');
      assert.match(created.otpauthUri, /^otpauth:\/\/totp\//);
      const code = await totpCodeAt(created.totpSecret, clock.now());
      const wrongCode = code === '000000' ? '111111' : '000000';
      for (const [password, totp] of [
        ['wrong password', code],
        [created.initialPassword, wrongCode],
      ] as const) {
        const res = await login('sign-in@ops.example', password, totp);
        assert.equal(res.statusCode, 401);
        assert.equal(res.json().code, 'sign-in-failed');
      }
      const missing = await h.app.inject({
        method: 'POST',
        url: '/api/v1/operator/login',
        payload: { email: 'sign-in@ops.example', password: created.initialPassword },
      });
      assert.equal(missing.statusCode, 400, 'MFA is never optional');
      const unknown = await login('nobody@ops.example', 'whatever', code);
      assert.equal(unknown.json().code, 'sign-in-failed');

      const ok = await login('sign-in@ops.example', created.initialPassword, code);
      assert.equal(ok.statusCode, 200, ok.body);
      const cookie = ok.cookies.find((c) => c.name === 'custos_operator_session');
      assert.equal(cookie?.httpOnly, true);
      assert.equal(cookie?.secure, true);
      assert.equal(cookie?.sameSite, 'Lax');
      const replay = await login('sign-in@ops.example', created.initialPassword, code);
      assert.equal(replay.statusCode, 401, 'a used code is not accepted again');

      for (let i = 0; i < 5; i++) await login('sign-in@ops.example', 'wrong password', code);
      clock.advance(31_000);
      const locked = await login('sign-in@ops.example', created.initialPassword, await totpCodeAt(created.totpSecret, clock.now()));
      assert.equal(locked.statusCode, 429);
      assert.equal(locked.json().code, 'account-locked');
      clock.advance(16 * MINUTE);
      const afterLockout = await login('sign-in@ops.example', created.initialPassword, await totpCodeAt(created.totpSecret, clock.now()));
      assert.equal(afterLockout.statusCode, 200, afterLockout.body);

      // A tenant credential is not an operator session, and an operator session alone opens no tenant.
      const requests = await h.app.inject({
        url: `/api/v1/operator/access-requests?tenantId=${gb.tenantId}`,
        headers: { authorization: `Bearer ${gb.adminToken}` },
      });
      assert.equal(requests.statusCode, 401);
      const plain = await h.app.inject({ url: '/api/v1/devices', headers: { cookie: `custos_operator_session=${cookie?.value}` } });
      assert.equal(plain.statusCode, 401);
    });

    test('lockbox: nothing without an approved request; with one, access until expiry; every step in the tenant log', async () => {
      const op = await operatorSession('lockbox@ops.example');
      const devices = () => h.app.inject({ url: '/api/v1/devices', headers: asOperator(op, gb.tenantId) });

      const before = await devices();
      assert.equal(before.statusCode, 403);
      assert.ok(!before.body.includes(deviceId), 'no tenant data without an approved request');

      const noCsrf = await h.app.inject({
        method: 'POST',
        url: '/api/v1/operator/access-requests',
        headers: asOperator(op, undefined, false),
        payload: { tenantId: gb.tenantId, reason: 'Ticket 4711: enrollment fails', durationMinutes: 60 },
      });
      assert.equal(noCsrf.statusCode, 403);
      assert.equal(noCsrf.json().code, 'csrf-failed');
      const tooLong = await h.app.inject({
        method: 'POST',
        url: '/api/v1/operator/access-requests',
        headers: asOperator(op),
        payload: { tenantId: gb.tenantId, reason: 'Ticket 4711: enrollment fails', durationMinutes: 481 },
      });
      assert.equal(tooLong.statusCode, 400);
      const requested = await h.app.inject({
        method: 'POST',
        url: '/api/v1/operator/access-requests',
        headers: asOperator(op),
        payload: { tenantId: gb.tenantId, reason: 'Ticket 4711: enrollment fails', durationMinutes: 60 },
      });
      assert.equal(requested.statusCode, 201, requested.body);
      const request = requested.json<{ id: string; status: string; role: string }>();
      assert.equal(request.status, 'pending');
      assert.equal(request.role, 'Read Only Operator');
      assert.equal((await devices()).statusCode, 403, 'a pending request opens nothing');

      // The tenant decides: a Read Only Operator may not, a Privacy Officer may; another tenant cannot see it.
      const readOnly = (await h.runtime.services.apiTokens.create(SYSTEM, gb.tenantId, { role: 'Read Only Operator' })).token;
      const privacy = (await h.runtime.services.apiTokens.create(SYSTEM, gb.tenantId, { role: 'Privacy Officer' })).token;
      const decide = (token: string, tenant: 'approve' | 'deny', id = request.id) =>
        h.app.inject({ method: 'POST', url: `/api/v1/access-requests/${id}/${tenant}`, headers: { authorization: `Bearer ${token}` } });
      assert.equal((await decide(readOnly, 'approve')).statusCode, 403);
      assert.equal((await decide(us.adminToken, 'approve')).statusCode, 404);
      const listed = await h.app.inject({ url: '/api/v1/access-requests', headers: { authorization: `Bearer ${privacy}` } });
      assert.deepEqual(
        listed.json<{ items: { id: string }[] }>().items.map((r) => r.id),
        [request.id],
      );
      const approved = await decide(privacy, 'approve');
      assert.equal(approved.statusCode, 200, approved.body);
      assert.equal(approved.json().status, 'approved');
      assert.equal(approved.json().expiresAt, new Date(clock.now() + 60 * MINUTE).toISOString());
      assert.equal((await decide(gb.adminToken, 'deny')).statusCode, 409, 'a decided request stays decided');

      const inside = await devices();
      assert.equal(inside.statusCode, 200, inside.body);
      assert.ok(inside.body.includes(deviceId));
      const write = await h.app.inject({
        method: 'POST',
        url: `/api/v1/devices/${deviceId}/actions/lock`,
        headers: asOperator(op, gb.tenantId),
      });
      assert.equal(write.statusCode, 403, 'the approved role is Read Only Operator');
      const me = await h.app.inject({ url: '/api/v1/me/permissions', headers: asOperator(op, gb.tenantId) });
      assert.equal(me.json().actor.type, 'operator');
      // The approval covers this tenant only.
      assert.equal((await h.app.inject({ url: '/api/v1/devices', headers: asOperator(op, us.tenantId) })).statusCode, 403);

      // Within the approval the session stays alive by use (30 idle minutes end it otherwise).
      for (let i = 0; i < 2; i++) {
        clock.advance(29 * MINUTE);
        assert.equal((await devices()).statusCode, 200);
      }
      clock.advance(3 * MINUTE);
      const expired = await devices();
      assert.equal(expired.statusCode, 403, 'access ends at expiry');
      await devices();

      const afterExpiry = await h.app.inject({ url: '/api/v1/access-requests', headers: { authorization: `Bearer ${privacy}` } });
      assert.equal(afterExpiry.json<{ items: { status: string }[] }>().items[0]?.status, 'expired');

      const log = async (activity: string) => audit(gb.tenantId, activity);
      assert.equal((await log('Request lockbox access')).length, 1);
      const [approval] = await log('Approve lockbox access');
      assert.equal(approval?.actor.type, 'apiToken');
      const accesses = await log('Lockbox access');
      assert.equal(accesses.length, 5, 'each request under the approval is audited (three device lists, the refused lock, me)');
      assert.ok(accesses.every((e) => e.actor.type === 'operator' && e.actor.id === op.created.operator.id));
      assert.ok(accesses.some((e) => e.targets.some((t) => t.name === 'POST /api/v1/devices/:id/actions/:action')));
      assert.equal((await log('Lockbox access expired')).length, 1, 'the expiry is recorded once');
      assert.ok((await log('Lockbox access refused')).length >= 4);
      assert.equal((await audit(us.tenantId, 'Lockbox access')).length, 0, "nothing of it lands in another tenant's log");
      const verdict = await h.runtime.services.audit.verify(SYSTEM, gb.tenantId);
      assert.equal(verdict.intact, true);
    });

    test('the periodic job records an expiry nobody looked at', async () => {
      const op = await operatorSession('job@ops.example');
      const record = await h.runtime.services.lockbox.request(
        (await h.runtime.services.operators.get(op.created.operator.id))!,
        { tenantId: us.tenantId, reason: 'Capacity planning review', durationMinutes: 10 },
        { ip: null, correlationId: null },
      );
      await h.runtime.services.lockbox.approve(SYSTEM, us.tenantId, record.id);
      clock.advance(11 * MINUTE);
      // Every level a job logger may have; the jobs' own logging is not under test here.
      const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
      const reports = await h.runtime.jobScheduler(quiet).runDue();
      const report = reports.find((r) => r.job === 'lockbox-expiry');
      assert.equal(report?.status, 'succeeded', JSON.stringify(reports));
      const expiries = await audit(us.tenantId, 'Lockbox access expired');
      assert.equal(expiries.length, 1);
      assert.equal(expiries[0]?.targets[0]?.id, record.id);
    });

    test('the access review lists operators, role holders and tokens with last use; revokes and records', async () => {
      const op = await operatorSession('review@ops.example');
      const request = await h.runtime.services.lockbox.request(
        (await h.runtime.services.operators.get(op.created.operator.id))!,
        { tenantId: gb.tenantId, reason: 'Quarterly maintenance', durationMinutes: 120 },
        { ip: null, correlationId: null },
      );
      await h.runtime.services.lockbox.approve(SYSTEM, gb.tenantId, request.id);
      const admin = await h.runtime.services.users.createUser(SYSTEM, gb.tenantId, {
        userName: 'admin-review@gb.example',
        roles: ['Tenant Administrator'],
      });
      const token = await h.runtime.services.apiTokens.create(SYSTEM, gb.tenantId, {
        role: 'Help Desk Operator',
        name: 'review token',
        scopeTags: ['emea'],
      });
      await h.app.inject({ url: '/api/v1/devices', headers: { authorization: `Bearer ${token.token}` } });
      await h.runtime.services.scimTokens.create(SYSTEM, gb.tenantId);

      const report = await h.runtime.services.accessReview.report();
      const operator = report.principals.find((p) => p.kind === 'operator' && p.id === op.created.operator.id);
      assert.ok(operator?.lastUsedAt, 'the operator sign-in is the last use');
      assert.deepEqual(
        operator.grants.map((g) => [g.role, g.via]),
        [['Read Only Operator', `lockbox:${gb.tenantId}`]],
      );
      const user = report.principals.find((p) => p.kind === 'user' && p.id === admin.id);
      assert.equal(user?.tenantId, gb.tenantId);
      assert.equal(user?.grants[0]?.role, 'Tenant Administrator');
      const listedToken = report.principals.find((p) => p.kind === 'apiToken' && p.id === token.record.id);
      assert.deepEqual(listedToken?.grants[0]?.scopeTags, ['emea']);
      assert.ok(listedToken?.lastUsedAt, 'the token use is shown');
      assert.ok(
        report.principals.some((p) => p.kind === 'apiToken' && p.tenantId === us.tenantId),
        'every tenant is reviewed',
      );

      const scim = report.principals.find((p) => p.kind === 'scimToken' && p.tenantId === gb.tenantId);
      assert.ok(scim, 'the SCIM token is reviewed');

      const assignment = user?.grants[0]?.id;
      assert.ok(assignment);
      const revoked = await h.runtime.services.accessReview.revoke(SYSTEM, [token.record.id, op.created.operator.id, assignment, scim.id]);
      assert.deepEqual(
        revoked.map((r) => r.kind),
        ['apiToken', 'operator', 'roleAssignment', 'scimToken'],
      );
      assert.equal((await audit(gb.tenantId, 'Revoke SCIM token')).length, 1);
      await assert.rejects(h.runtime.services.accessReview.revoke(SYSTEM, ['00000000-0000-4000-8000-000000000000']), { code: 'not-found' });
      assert.equal((await h.app.inject({ url: '/api/v1/devices', headers: { authorization: `Bearer ${token.token}` } })).statusCode, 401);
      assert.equal(
        (await h.app.inject({ url: '/api/v1/devices', headers: asOperator(op, gb.tenantId) })).statusCode,
        401,
        'the disabled operator is signed out',
      );
      assert.equal((await audit(gb.tenantId, 'Revoke lockbox access')).length, 1);

      const after = await h.runtime.services.accessReview.report();
      assert.ok(!after.principals.some((p) => p.id === token.record.id || p.id === admin.id || p.id === scim.id));
      const recorded = await h.runtime.services.accessReview.record('Dana Auditor', after, revoked);
      assert.equal((await h.runtime.services.accessReview.listRecorded()).at(-1)?.id, recorded.id);
      for (const tenantId of [gb.tenantId, us.tenantId]) {
        const [event] = await audit(tenantId, 'Access review');
        assert.equal(event?.targets[0]?.id, recorded.id);
        assert.equal(event?.actor.name, 'access review by Dana Auditor');
      }
    });
  });
}
