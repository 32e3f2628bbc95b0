/**
 * Signing in through the real app, on SQLite and PostgreSQL (SPEC §5): password sign-in with
 * identical failures, lockout and per-address throttling, session idle timeout and absolute
 * lifetime on a moved clock, sign-out everywhere and admin revocation, CSRF, TOTP with recovery
 * codes, passkeys through a software authenticator, password reset by a link read from a real SMTP
 * server, tenant sign-in settings, and bad input that changes nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { openRuntime, type Runtime } from '../compose.js';
import { fixedClock } from '../domain/clock.js';
import { totpCodeAt } from '../domain/identity/totp.js';
import { defaultCountryRegions } from '../domain/tenants/region-map.js';
import { BACKENDS, TEST_REGIONS, type TestBackend } from '../test-support/backends.js';
import { SYSTEM } from '../test-support/harness.js';
import { startSmtpServer, type TestSmtpServer } from '../test-support/smtp.js';
import { SoftAuthenticator } from '../test-support/soft-authenticator.js';
import { buildApp } from './app.js';

const PUBLIC_URL = 'https://custos.example.com';
const PASSWORD = 'correct horse battery staple';
const MINUTE = 60_000;

interface Session {
  cookie: string;
  csrf: string;
  body: {
    mfaRequired: boolean;
    mfaMethods: string[];
    mfaEnrollmentRequired: boolean;
    user: { id: string; userName: string };
    expiresAt: string;
  };
}

for (const { name, create } of BACKENDS) {
  describe(`signing in on ${name}`, () => {
    const clock = fixedClock(Date.UTC(2026, 0, 5, 9, 0, 0));
    let backend: TestBackend;
    let runtime: Runtime;
    let app: FastifyInstance;
    let smtp: TestSmtpServer;

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
          publicUrl: PUBLIC_URL,
        },
        clock,
      );
      app = await buildApp({ services: runtime.services });
    });
    after(async () => {
      await runtime.services.passwordResets.settled();
      await app.close();
      await runtime.close();
      await smtp.close();
      await backend.dispose();
    });

    /** A fresh tenant per test, so throttles and settings never leak between tests. */
    const tenant = async (identity?: { mfaRequiredForAdmins: boolean }) => {
      const { tenant: t } = await runtime.services.tenants.create({ name: 'Sign-in', country: 'GB', adminEmail: 'admin@example.com' });
      const { token } = await runtime.services.apiTokens.create(SYSTEM, t.id, { role: 'Tenant Administrator' });
      if (identity) {
        const res = await app.inject({
          method: 'PUT',
          url: '/api/v1/tenant/identity-settings',
          headers: { authorization: `Bearer ${token}` },
          payload: {
            mfaRequiredForAdmins: identity.mfaRequiredForAdmins,
            sessionIdleMinutes: 30,
            sessionAbsoluteHours: 12,
            passwordMinLength: 12,
          },
        });
        assert.equal(res.statusCode, 200, res.body);
      }
      return { tenantId: t.id, adminToken: token };
    };
    const createUser = (tenantId: string, userName: string, extra: { roles?: string[]; password?: string; email?: string | null } = {}) =>
      runtime.services.users.createUser(SYSTEM, tenantId, {
        userName,
        password: extra.password ?? PASSWORD,
        ...(extra.email === undefined ? {} : { email: extra.email }),
        ...(extra.roles ? { roles: extra.roles } : {}),
      });
    const loginRaw = (tenantId: string, userName: string, password: string, remoteAddress = '127.0.0.1') =>
      app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenantId, userName, password }, remoteAddress });
    const login = async (tenantId: string, userName: string, password = PASSWORD): Promise<Session> => {
      const res = await loginRaw(tenantId, userName, password);
      assert.equal(res.statusCode, 200, res.body);
      const cookie = res.cookies.find((c) => c.name === 'custos_session');
      assert.ok(cookie, 'the sign-in sets the session cookie');
      const body = res.json<Session['body'] & { csrfToken: string }>();
      return { cookie: cookie.value, csrf: body.csrfToken, body };
    };
    const withSession = (
      s: Session,
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      url: string,
      payload?: object,
      csrf: string | null = s.csrf,
    ) =>
      app.inject({
        method,
        url,
        headers: { cookie: `custos_session=${s.cookie}`, ...(csrf === null ? {} : { 'x-csrf-token': csrf }) },
        ...(payload === undefined ? {} : { payload }),
      });
    const withToken = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload }) });
    const problem = (res: LightMyRequestResponse) => res.json<{ code: string; detail?: string; status: number }>();
    const failureReasons = async (tenantId: string) => {
      const page = await runtime.services.audit.list(SYSTEM, tenantId, { category: 'SignIn', result: 'failure' }, { limit: 500 });
      return page.items.map((e) => e.targets[0]?.modifiedProperties?.find((p) => p.name === 'failureReason')?.newValue);
    };

    test('a password sign-in sets a secure session cookie; every kind of failure answers the same body and is audited', async () => {
      const { tenantId } = await tenant();
      const user = await createUser(tenantId, 'ada@example.com');
      const res = await loginRaw(tenantId, 'ADA@example.com', PASSWORD);
      assert.equal(res.statusCode, 200, res.body);
      const setCookie = String(res.headers['set-cookie']);
      for (const attribute of ['custos_session=', 'HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/'])
        assert.ok(setCookie.includes(attribute), setCookie);
      const body = res.json<Session['body']>();
      assert.equal(body.user.id, user.id);
      assert.equal(body.mfaRequired, false);
      assert.equal(body.mfaEnrollmentRequired, false);
      const session: Session = { cookie: res.cookies[0]?.value ?? '', csrf: res.json<{ csrfToken: string }>().csrfToken, body };
      const info = await withSession(session, 'GET', '/api/v1/auth/session');
      assert.equal(info.statusCode, 200, info.body);
      assert.equal(info.json<{ user: { id: string }; idleTimeoutMinutes: number; mfaPending: boolean }>().user.id, user.id);
      assert.equal(info.json<{ idleTimeoutMinutes: number }>().idleTimeoutMinutes, 30);
      assert.equal(info.json<{ tenantName: string }>().tenantName, 'Sign-in');

      await createUser(tenantId, 'gone@example.com');
      const gone = await runtime.services.users.listUsers(SYSTEM, tenantId, { userName: 'gone@example.com' });
      await runtime.services.users.updateUser(SYSTEM, tenantId, gone.items[0]?.id ?? '', { active: false });
      await runtime.services.users.createUser(SYSTEM, tenantId, { userName: 'fed@example.com', source: 'federated', externalId: 'sub-1' });

      const failures = [
        await loginRaw(tenantId, 'nobody@example.com', PASSWORD),
        await loginRaw(tenantId, 'ada@example.com', 'wrong password entirely'),
        await loginRaw(tenantId, 'gone@example.com', PASSWORD),
        await loginRaw(tenantId, 'fed@example.com', PASSWORD),
        await loginRaw(randomUUID(), 'ada@example.com', PASSWORD),
      ];
      for (const failure of failures) {
        assert.equal(failure.statusCode, 401);
        assert.equal(failure.body, failures[0]?.body, 'the bodies are byte for byte the same');
        assert.equal(failure.headers['set-cookie'], undefined);
      }
      assert.equal(problem(failures[0] as LightMyRequestResponse).code, 'sign-in-failed');
      assert.deepEqual((await failureReasons(tenantId)).sort(), ['deactivated', 'no-password', 'unknown-user', 'wrong-password']);
      const log = JSON.stringify((await runtime.services.audit.list(SYSTEM, tenantId, {}, { limit: 500 })).items);
      assert.ok(!log.includes(PASSWORD) && !log.includes('wrong password entirely'), 'no password reaches the audit log');
      assert.ok(log.includes('"activity":"Sign in"'), 'the success is audited too');
    });

    test('five failures lock the account name for 15 minutes with Retry-After, and an unknown name locks the same way', async () => {
      const { tenantId } = await tenant();
      await createUser(tenantId, 'lin@example.com');
      for (const userName of ['lin@example.com', 'ghost@example.com']) {
        for (let i = 0; i < 5; i++) assert.equal((await loginRaw(tenantId, userName, 'not the password')).statusCode, 401);
      }
      const locked = await loginRaw(tenantId, 'lin@example.com', PASSWORD);
      const ghost = await loginRaw(tenantId, 'ghost@example.com', PASSWORD);
      assert.equal(locked.statusCode, 429, 'even the right password is refused while locked');
      assert.equal(problem(locked).code, 'account-locked');
      assert.equal(locked.headers['retry-after'], '900');
      assert.equal(ghost.statusCode, 429);
      assert.equal(ghost.body, locked.body, 'the lockout tells nothing about whether the account exists');
      assert.equal(ghost.headers['retry-after'], locked.headers['retry-after']);
      assert.ok((await failureReasons(tenantId)).includes('account-locked'));

      clock.advance(15 * MINUTE + 1000);
      assert.equal((await loginRaw(tenantId, 'lin@example.com', PASSWORD)).statusCode, 200, 'the lockout ends on its own');
    });

    test('fifty failures from one address in a tenant are throttled; other addresses still sign in', async () => {
      const { tenantId } = await tenant();
      await createUser(tenantId, 'ivy@example.com');
      for (let i = 0; i < 50; i++)
        assert.equal((await loginRaw(tenantId, `spray${i}@example.com`, 'Winter2026!', '10.9.8.7')).statusCode, 401);
      const throttled = await loginRaw(tenantId, 'ivy@example.com', PASSWORD, '10.9.8.7');
      assert.equal(throttled.statusCode, 429);
      assert.equal(problem(throttled).code, 'rate-limited');
      assert.equal(throttled.headers['retry-after'], '900');
      assert.equal((await loginRaw(tenantId, 'ivy@example.com', PASSWORD, '10.9.8.8')).statusCode, 200);
    });

    test('a session idle past the timeout is refused on its next request and revoked; activity keeps it alive', async () => {
      const { tenantId } = await tenant();
      await createUser(tenantId, 'idle@example.com');
      const session = await login(tenantId, 'idle@example.com');
      for (let i = 0; i < 3; i++) {
        clock.advance(20 * MINUTE);
        assert.equal((await withSession(session, 'GET', '/api/v1/auth/session')).statusCode, 200, 'used every 20 minutes, it stays');
      }
      clock.advance(31 * MINUTE);
      const refused = await withSession(session, 'GET', '/api/v1/auth/session');
      assert.equal(refused.statusCode, 401);
      assert.equal(problem(refused).code, 'session-expired');
      assert.match(String(refused.headers['set-cookie']), /custos_session=;.*Expires=Thu, 01 Jan 1970/, 'the dead cookie is cleared');
      const viaAdminApi = await withSession(session, 'GET', '/api/v1/devices');
      assert.equal(viaAdminApi.statusCode, 401);
      assert.match(String(viaAdminApi.headers['set-cookie']), /custos_session=;/, 'on the admin API too');
      const data = await runtime.services.tenants.data(tenantId);
      const [record] = await data.sessions.listForUser(session.body.user.id);
      assert.notEqual(record?.revokedAt, null, 'the idle session is revoked, not just refused');
      clock.advance(-31 * MINUTE);
      assert.equal((await withSession(session, 'GET', '/api/v1/auth/session')).statusCode, 401, 'and stays refused');
      clock.advance(31 * MINUTE);
    });

    test('a session ends at its absolute lifetime however active it is', async () => {
      const { tenantId, adminToken } = await tenant();
      const put = await withToken(adminToken, 'PUT', '/api/v1/tenant/identity-settings', {
        mfaRequiredForAdmins: true,
        sessionIdleMinutes: 30,
        sessionAbsoluteHours: 1,
        passwordMinLength: 12,
      });
      assert.equal(put.statusCode, 200, put.body);
      await createUser(tenantId, 'busy@example.com');
      const session = await login(tenantId, 'busy@example.com');
      assert.equal(Date.parse(session.body.expiresAt), clock.now() + 60 * MINUTE);
      for (let i = 0; i < 2; i++) {
        clock.advance(25 * MINUTE);
        assert.equal((await withSession(session, 'GET', '/api/v1/auth/session')).statusCode, 200);
      }
      clock.advance(11 * MINUTE);
      const refused = await withSession(session, 'GET', '/api/v1/auth/session');
      assert.equal(refused.statusCode, 401);
      assert.equal(problem(refused).code, 'session-expired');
    });

    test('own session list and revoke, sign-out, sign-out everywhere, and an admin revoking sessions', async () => {
      const { tenantId, adminToken } = await tenant();
      const user = await createUser(tenantId, 'multi@example.com');
      const first = await login(tenantId, 'multi@example.com');
      const second = await login(tenantId, 'multi@example.com');
      const mine = await withSession(first, 'GET', '/api/v1/me/sessions');
      assert.equal(mine.statusCode, 200, mine.body);
      const items = mine.json<{ items: { id: string; current: boolean }[] }>().items;
      assert.equal(items.length, 2);
      assert.equal(items.filter((s) => s.current).length, 1);
      const other = items.find((s) => !s.current);
      assert.ok(other);
      assert.equal((await withSession(first, 'DELETE', `/api/v1/me/sessions/${other.id}`)).statusCode, 204);
      assert.equal((await withSession(second, 'GET', '/api/v1/auth/session')).statusCode, 401, 'the revoked session stops at once');
      const logout = await withSession(first, 'POST', '/api/v1/auth/logout');
      assert.equal(logout.statusCode, 204);
      assert.ok(String(logout.headers['set-cookie']).includes('custos_session=;'), 'sign-out clears the cookie');
      assert.equal((await withSession(first, 'GET', '/api/v1/auth/session')).statusCode, 401);

      const a = await login(tenantId, 'multi@example.com');
      const b = await login(tenantId, 'multi@example.com');
      const everywhere = await withSession(a, 'POST', '/api/v1/auth/logout-everywhere');
      assert.equal(everywhere.statusCode, 200, everywhere.body);
      assert.equal(everywhere.json<{ revoked: number }>().revoked, 2);
      for (const s of [a, b]) assert.equal((await withSession(s, 'GET', '/api/v1/auth/session')).statusCode, 401);

      const c = await login(tenantId, 'multi@example.com');
      const d = await login(tenantId, 'multi@example.com');
      const listed = await withToken(adminToken, 'GET', `/api/v1/users/${user.id}/sessions`);
      assert.equal(listed.statusCode, 200, listed.body);
      const ids = listed.json<{ items: { id: string }[] }>().items.map((s) => s.id);
      assert.equal(ids.length, 2);
      assert.equal((await withToken(adminToken, 'DELETE', `/api/v1/users/${user.id}/sessions/${ids[0] ?? ''}`)).statusCode, 204);
      const revokeAll = await withToken(adminToken, 'DELETE', `/api/v1/users/${user.id}/sessions`);
      assert.equal(revokeAll.json<{ revoked: number }>().revoked, 1);
      for (const s of [c, d]) assert.equal((await withSession(s, 'GET', '/api/v1/auth/session')).statusCode, 401);
      assert.equal((await withToken(adminToken, 'GET', `/api/v1/users/${randomUUID()}/sessions`)).statusCode, 404);
      assert.equal((await withToken(adminToken, 'DELETE', `/api/v1/users/${user.id}/sessions/${randomUUID()}`)).statusCode, 404);
      const audit = await runtime.services.audit.list(SYSTEM, tenantId, { category: 'SignIn' }, { limit: 500 });
      const activities = new Set(audit.items.map((e) => e.activity));
      for (const activity of ['Sign out', 'Sign out everywhere', 'Revoke session', 'Revoke sessions'])
        assert.ok(activities.has(activity), activity);
    });

    test('a cookie write without the CSRF header is refused with csrf-failed and changes nothing', async () => {
      const { tenantId, adminToken } = await tenant({ mfaRequiredForAdmins: false });
      await createUser(tenantId, 'root@example.com', { roles: ['Tenant Administrator'] });
      const session = await login(tenantId, 'root@example.com');
      const change = { mfaRequiredForAdmins: false, sessionIdleMinutes: 45, sessionAbsoluteHours: 12, passwordMinLength: 12 };
      for (const csrf of [null, 'forged-token']) {
        const refused = await withSession(session, 'PUT', '/api/v1/tenant/identity-settings', change, csrf);
        assert.equal(refused.statusCode, 403);
        assert.equal(problem(refused).code, 'csrf-failed');
        const everywhere = await withSession(session, 'POST', '/api/v1/auth/logout-everywhere', undefined, csrf);
        assert.equal(problem(everywhere).code, 'csrf-failed');
      }
      const settings = await withToken(adminToken, 'GET', '/api/v1/tenant/identity-settings');
      assert.equal(settings.json<{ sessionIdleMinutes: number }>().sessionIdleMinutes, 30, 'nothing changed');
      assert.equal((await withSession(session, 'GET', '/api/v1/auth/session')).statusCode, 200, 'the session is still open');
      const accepted = await withSession(session, 'PUT', '/api/v1/tenant/identity-settings', change);
      assert.equal(accepted.statusCode, 200, accepted.body);
      assert.equal(accepted.json<{ sessionIdleMinutes: number }>().sessionIdleMinutes, 45);
      const audit = await runtime.services.audit.list(SYSTEM, tenantId, { activity: 'Update sign-in settings' }, { limit: 10 });
      assert.equal(audit.items.length, 2, "the setup's change and the accepted one; no refused one");
      assert.equal(audit.items[0]?.actor.name, 'root@example.com');
      assert.deepEqual(audit.items[0]?.targets[0]?.modifiedProperties, [{ name: 'sessionIdleMinutes', oldValue: 30, newValue: 45 }]);
    });

    test('an admin enrolls TOTP at first sign-in, then signs in with a code; a reused code and a reused recovery code are refused', async () => {
      const { tenantId } = await tenant();
      await createUser(tenantId, 'admin@example.com', { roles: ['Tenant Administrator'] });
      const first = await login(tenantId, 'admin@example.com');
      assert.equal(first.body.mfaRequired, true);
      assert.equal(first.body.mfaEnrollmentRequired, true);
      assert.deepEqual(first.body.mfaMethods, []);
      const blocked = await withSession(first, 'GET', '/api/v1/audit-events');
      assert.equal(blocked.statusCode, 403);
      assert.equal(problem(blocked).code, 'mfa-required');
      assert.equal(problem(await withSession(first, 'GET', '/api/v1/me/sessions')).code, 'mfa-required');

      const setup = await withSession(first, 'POST', '/api/v1/auth/mfa/totp/setup');
      assert.equal(setup.statusCode, 200, setup.body);
      const { secret, otpauthUri } = setup.json<{ secret: string; otpauthUri: string }>();
      assert.ok(otpauthUri.startsWith('otpauth://totp/') && otpauthUri.includes(`secret=${secret}`), otpauthUri);
      const data = await runtime.services.tenants.data(tenantId);
      const stored = await data.totp.get(first.body.user.id);
      assert.ok(stored && !stored.secretSealed.includes(secret), 'the secret is stored sealed');
      const wrong = await withSession(first, 'POST', '/api/v1/auth/mfa/totp/confirm', {
        code: '000000' === (await totpCodeAt(secret, clock.now())) ? '111111' : '000000',
      });
      assert.equal(problem(wrong).code, 'mfa-failed');
      const enrollCode = await totpCodeAt(secret, clock.now());
      const confirm = await withSession(first, 'POST', '/api/v1/auth/mfa/totp/confirm', { code: enrollCode });
      assert.equal(confirm.statusCode, 200, confirm.body);
      const recoveryCodes = confirm.json<{ recoveryCodes: string[] }>().recoveryCodes;
      assert.equal(recoveryCodes.length, 10);
      assert.equal(new Set(recoveryCodes).size, 10);
      assert.equal((await withSession(first, 'GET', '/api/v1/audit-events')).statusCode, 200, 'enrolling completed this session');

      const second = await login(tenantId, 'admin@example.com');
      assert.equal(second.body.mfaRequired, true);
      assert.equal(second.body.mfaEnrollmentRequired, false);
      assert.deepEqual(second.body.mfaMethods, ['totp', 'recoveryCode']);
      assert.equal(
        problem(await withSession(second, 'POST', '/api/v1/auth/mfa/totp/setup')).code,
        'mfa-required',
        'a password alone cannot replace the factor',
      );
      const reused = await withSession(second, 'POST', '/api/v1/auth/mfa/verify', { code: enrollCode });
      assert.equal(reused.statusCode, 401);
      assert.equal(problem(reused).code, 'mfa-failed');
      clock.advance(30_000);
      const code = await totpCodeAt(secret, clock.now());
      const verified = await withSession(second, 'POST', '/api/v1/auth/mfa/verify', { code });
      assert.equal(verified.statusCode, 200, verified.body);
      assert.equal((await withSession(second, 'GET', '/api/v1/audit-events')).statusCode, 200);
      const twice = await withSession(second, 'POST', '/api/v1/auth/mfa/verify', { recoveryCode: recoveryCodes[0] ?? '' });
      assert.equal(problem(twice).code, 'conflict', 'a completed session spends no further codes');

      const third = await login(tenantId, 'admin@example.com');
      assert.equal(
        problem(await withSession(third, 'POST', '/api/v1/auth/mfa/verify', { code })).code,
        'mfa-failed',
        'each code works once',
      );
      const recovery = recoveryCodes[3] ?? '';
      assert.equal((await withSession(third, 'POST', '/api/v1/auth/mfa/verify', { recoveryCode: recovery.toLowerCase() })).statusCode, 200);
      const fourth = await login(tenantId, 'admin@example.com');
      assert.equal(problem(await withSession(fourth, 'POST', '/api/v1/auth/mfa/verify', { recoveryCode: recovery })).code, 'mfa-failed');
      assert.equal(problem(await withSession(fourth, 'GET', '/api/v1/audit-events')).code, 'mfa-required');
      const malformed = await withSession(fourth, 'POST', '/api/v1/auth/mfa/verify', { code: '12ab56' });
      assert.equal(problem(malformed).code, 'validation-failed');
      assert.ok((await failureReasons(tenantId)).includes('invalid-totp'));
    });

    test('wrong second-factor codes count towards the lockout, and a correct password in between does not forgive them', async () => {
      const { tenantId } = await tenant();
      await createUser(tenantId, 'otto@example.com');
      const enrolling = await login(tenantId, 'otto@example.com');
      const { secret } = (await withSession(enrolling, 'POST', '/api/v1/auth/mfa/totp/setup')).json<{ secret: string }>();
      const confirmed = await withSession(enrolling, 'POST', '/api/v1/auth/mfa/totp/confirm', {
        code: await totpCodeAt(secret, clock.now()),
      });
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      const valid = new Set(await Promise.all([-30_000, 0, 30_000].map((d) => totpCodeAt(secret, clock.now() + d))));
      const wrongCode = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c)) ?? '444444';
      const guess = async (s: Session) => problem(await withSession(s, 'POST', '/api/v1/auth/mfa/verify', { code: wrongCode })).code;
      const first = await login(tenantId, 'otto@example.com');
      for (let i = 0; i < 3; i++) assert.equal(await guess(first), 'mfa-failed');
      const second = await login(tenantId, 'otto@example.com');
      assert.equal(second.body.mfaRequired, true);
      assert.equal(await guess(second), 'mfa-failed');
      assert.equal(await guess(second), 'mfa-failed', 'the fifth wrong code locks the account');
      const locked = await withSession(second, 'POST', '/api/v1/auth/mfa/verify', { code: await totpCodeAt(secret, clock.now() + 30_000) });
      assert.equal(locked.statusCode, 429);
      assert.equal(problem(locked).code, 'account-locked');
      assert.equal(problem(await loginRaw(tenantId, 'otto@example.com', PASSWORD)).code, 'account-locked');
      assert.equal((await failureReasons(tenantId)).filter((r) => r === 'invalid-totp').length, 5);

      const removed = await withSession(enrolling, 'DELETE', '/api/v1/auth/mfa/totp');
      assert.equal(removed.statusCode, 204, 'a completed session can remove its authenticator app');
      const data = await runtime.services.tenants.data(tenantId);
      assert.equal(await data.totp.get(enrolling.body.user.id), undefined);
      assert.equal(await data.recoveryCodes.countUnused(enrolling.body.user.id), 0, 'the recovery codes go with it');
      assert.equal((await withSession(enrolling, 'DELETE', '/api/v1/auth/mfa/totp')).statusCode, 404);
    });

    test('a passkey registers through the real WebAuthn verification and then completes sign-in', async () => {
      const { tenantId } = await tenant();
      await createUser(tenantId, 'pia@example.com');
      const authenticator = new SoftAuthenticator(PUBLIC_URL);
      const session = await login(tenantId, 'pia@example.com');
      assert.equal(session.body.mfaRequired, false, 'no admin role, no factor: no MFA yet');
      const options = await withSession(session, 'POST', '/api/v1/auth/passkeys/registration-options');
      assert.equal(options.statusCode, 200, options.body);
      const creation = options.json<{ challenge: string; rp: { id: string }; user: { id: string } }>();
      assert.equal(creation.rp.id, 'custos.example.com');
      const registered = await withSession(session, 'POST', '/api/v1/auth/passkeys/registration', {
        name: 'Laptop',
        response: authenticator.register(creation),
      });
      assert.equal(registered.statusCode, 201, registered.body);
      assert.equal(registered.json<{ id: string }>().id, authenticator.id);
      const again = await withSession(session, 'POST', '/api/v1/auth/passkeys/registration', {
        response: authenticator.register(creation),
      });
      assert.equal(again.statusCode, 409, 'a challenge answers once');
      const listed = await withSession(session, 'GET', '/api/v1/me/passkeys');
      assert.deepEqual(
        listed.json<{ items: { name: string }[] }>().items.map((p) => p.name),
        ['Laptop'],
      );

      const next = await login(tenantId, 'pia@example.com');
      assert.equal(next.body.mfaRequired, true, 'a user with a factor must use it');
      assert.deepEqual(next.body.mfaMethods, ['passkey']);
      assert.equal(problem(await withSession(next, 'GET', '/api/v1/me/passkeys')).code, 'mfa-required');
      assert.equal(problem(await withSession(next, 'POST', '/api/v1/auth/passkeys/registration-options')).code, 'mfa-required');
      const requestOptions = await withSession(next, 'POST', '/api/v1/auth/passkeys/authentication-options');
      assert.equal(requestOptions.statusCode, 200, requestOptions.body);
      const assertion = authenticator.authenticate(requestOptions.json<{ challenge: string; rpId: string }>());
      const signedIn = await withSession(next, 'POST', '/api/v1/auth/passkeys/authentication', { response: assertion });
      assert.equal(signedIn.statusCode, 200, signedIn.body);
      assert.equal((await withSession(next, 'GET', '/api/v1/me/sessions')).statusCode, 200);

      const replay = await login(tenantId, 'pia@example.com');
      await withSession(replay, 'POST', '/api/v1/auth/passkeys/authentication-options');
      const replayed = await withSession(replay, 'POST', '/api/v1/auth/passkeys/authentication', { response: assertion });
      assert.equal(problem(replayed).code, 'mfa-failed', "an assertion for another session's challenge is refused");
      assert.equal(problem(await withSession(replay, 'GET', '/api/v1/me/sessions')).code, 'mfa-required');

      const removed = await withSession(next, 'DELETE', `/api/v1/me/passkeys/${authenticator.id}`);
      assert.equal(removed.statusCode, 204);
      assert.equal((await login(tenantId, 'pia@example.com')).body.mfaRequired, false);
    });

    test('a password reset link arrives by email, works once, ends every session; unknown users get the same answer', async () => {
      const { tenantId, adminToken } = await tenant();
      const user = await createUser(tenantId, 'rosa@example.com');
      const before = await login(tenantId, 'rosa@example.com');
      const already = smtp.messages.length;
      const unknown = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/password-reset/request',
        payload: { tenantId, userName: 'nobody@example.com' },
      });
      const known = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/password-reset/request',
        payload: { tenantId, userName: 'rosa@example.com' },
      });
      assert.equal(unknown.statusCode, 202);
      assert.equal(known.statusCode, 202);
      assert.equal(known.body, unknown.body);
      const mail = (await smtp.waitFor(already + 1))[already];
      assert.ok(mail);
      await runtime.services.passwordResets.settled();
      assert.equal(smtp.messages.length, already + 1, 'only the real user got a message');
      assert.deepEqual(mail.to, ['rosa@example.com']);
      const token = /#token=(custos_rst_[A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
      assert.ok(token, mail.text);
      assert.ok(mail.text.includes(`${PUBLIC_URL}/portal/reset-password#token=`));

      const weak = await app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/complete', payload: { token, password: 'short' } });
      assert.equal(weak.statusCode, 422);
      assert.equal(problem(weak).code, 'password-policy');
      assert.equal((await withSession(before, 'GET', '/api/v1/auth/session')).statusCode, 200, 'a refused reset changes nothing');
      for (let i = 0; i < 5; i++) await loginRaw(tenantId, 'rosa@example.com', 'guessing the password');
      assert.equal(problem(await loginRaw(tenantId, 'rosa@example.com', PASSWORD)).code, 'account-locked');
      const newPassword = 'a brand new long passphrase';
      const done = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/password-reset/complete',
        payload: { token, password: newPassword },
      });
      assert.equal(done.statusCode, 204, done.body);
      assert.equal((await withSession(before, 'GET', '/api/v1/auth/session')).statusCode, 401, 'every session ended');
      assert.equal(
        problem(await loginRaw(tenantId, 'rosa@example.com', PASSWORD)).code,
        'sign-in-failed',
        'the reset also ended the lockout',
      );
      await login(tenantId, 'rosa@example.com', newPassword);
      const reused = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/password-reset/complete',
        payload: { token, password: 'yet another long passphrase' },
      });
      assert.equal(problem(reused).code, 'password-reset-invalid');
      const forged = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/password-reset/complete',
        payload: { token: `${token.slice(0, -4)}AAAA`, password: newPassword },
      });
      assert.equal(problem(forged).code, 'password-reset-invalid');

      const sent = await withToken(adminToken, 'POST', `/api/v1/users/${user.id}/password`, { sendResetLink: true });
      assert.equal(sent.statusCode, 200, sent.body);
      assert.deepEqual(sent.json(), { passwordSet: false, resetLinkSent: true });
      const adminMail = (await smtp.waitFor(already + 2))[already + 1];
      assert.deepEqual(adminMail?.to, ['rosa@example.com']);
      assert.ok(/custos_rst_/.test(adminMail?.text ?? ''));

      const weakSet = await withToken(adminToken, 'POST', `/api/v1/users/${user.id}/password`, { password: 'rosa12345678901' });
      assert.equal(problem(weakSet).code, 'password-policy', 'a password containing the user name is refused');
      await login(tenantId, 'rosa@example.com', newPassword);
      const set = await withToken(adminToken, 'POST', `/api/v1/users/${user.id}/password`, { password: 'admin chosen passphrase' });
      assert.deepEqual(set.json(), { passwordSet: true, resetLinkSent: false });
      await login(tenantId, 'rosa@example.com', 'admin chosen passphrase');
    });

    test('bad input gets a clear 4xx and changes nothing; sign-in settings need tenant.write', async () => {
      const { tenantId, adminToken } = await tenant();
      await createUser(tenantId, 'plain@example.com');
      const missing = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenantId, userName: 'plain@example.com' } });
      assert.equal(problem(missing).code, 'validation-failed');
      const notUuid = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { tenantId: 'acme', userName: 'a', password: 'b' },
      });
      assert.equal(problem(notUuid).code, 'validation-failed');
      const notJson = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        payload: '{"tenantId":',
      });
      assert.equal(problem(notJson).code, 'malformed-json');
      assert.deepEqual(await failureReasons(tenantId), [], 'refused requests never reached the sign-in');

      const read = async () => (await withToken(adminToken, 'GET', '/api/v1/tenant/identity-settings')).json<Record<string, unknown>>();
      const original = await read();
      assert.deepEqual(original, { mfaRequiredForAdmins: true, sessionIdleMinutes: 30, sessionAbsoluteHours: 12, passwordMinLength: 12 });
      for (const bad of [
        { ...original, sessionIdleMinutes: 1 },
        { ...original, sessionAbsoluteHours: 10_000 },
        { ...original, passwordMinLength: 4 },
        { ...original, sessionIdleMinutes: 600, sessionAbsoluteHours: 2 },
        { ...original, extra: true },
        { mfaRequiredForAdmins: 'yes' },
      ]) {
        const res = await withToken(adminToken, 'PUT', '/api/v1/tenant/identity-settings', bad);
        assert.equal(res.statusCode, 400, JSON.stringify(bad));
        assert.equal(problem(res).code, 'validation-failed');
      }
      assert.deepEqual(await read(), original);

      const session = await login(tenantId, 'plain@example.com');
      const forbidden = await withSession(session, 'PUT', '/api/v1/tenant/identity-settings', { ...original, sessionIdleMinutes: 60 });
      assert.equal(problem(forbidden).code, 'forbidden');
      assert.equal(problem(await withSession(session, 'POST', '/api/v1/auth/mfa/totp/confirm', { code: '123456' })).code, 'conflict');
      assert.deepEqual(await read(), original);
      const audit = await runtime.services.audit.list(SYSTEM, tenantId, { activity: 'Update sign-in settings' }, { limit: 10 });
      assert.equal(audit.items.length, 0);

      const openapi = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
      const paths = openapi.json<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>().paths;
      assert.deepEqual(paths['/api/v1/auth/login']?.['post']?.security, [], 'sign-in is public in the API document');
      for (const path of [
        '/api/v1/auth/mfa/verify',
        '/api/v1/auth/passkeys/authentication',
        '/api/v1/users/{id}/password',
        '/api/v1/tenant/identity-settings',
      ]) {
        assert.ok(paths[path], `${path} is in the API document`);
      }
    });
  });
}
