/**
 * Single sign-on through a real OpenID provider (`oidc-provider`) on loopback, on SQLite and
 * PostgreSQL: the IdP configuration (discovery checked first, write-only secret), a full
 * authorization-code + PKCE sign-in that creates the user just in time with mapped groups and roles
 * and opens the API with the session cookie, and the refusals — wrong state, another browser, wrong
 * nonce, replayed and expired codes, a code from a foreign issuer, an unlinked account of the same
 * name, an open redirect. "Remember me" lengthens the absolute lifetime; idleness still ends it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { fixedClock } from '../domain/clock.js';
import { BACKENDS, type TestBackend } from '../test-support/backends.js';
import { assertAllAudited, seedTenant, startHarness, SYSTEM, type Harness } from '../test-support/harness.js';
import { startOpenIdProvider, type TestAccount, type TestOpenIdProvider } from '../test-support/openid-provider.js';

const CLIENT_ID = 'custos-test';
const CLIENT_SECRET = 'a client secret that must never be shown again';
const REDIRECT_URI = 'http://127.0.0.1:8080/api/v1/auth/oidc/callback';
const HOUR = 3_600_000;

interface EventDto {
  activity: string;
  result: string;
  targets: { type: string; id: string; modifiedProperties?: { name: string; oldValue: unknown; newValue: unknown }[] }[];
}

function cookieOf(res: LightMyRequestResponse, name: string): string | undefined {
  const header = res.headers['set-cookie'];
  const all = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return all.find((c) => c.startsWith(`${name}=`));
}

function cookieValue(setCookie: string | undefined): string {
  assert.ok(setCookie, 'expected a Set-Cookie header');
  return setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
}

for (const { name, create } of BACKENDS) {
  describe(`OIDC sign-in on ${name}`, () => {
    const clock = fixedClock(Date.now());
    let backend: TestBackend;
    let h: Harness;
    let idp: TestOpenIdProvider;
    let foreign: TestOpenIdProvider;
    let t: Awaited<ReturnType<typeof seedTenant>>;
    const alice: TestAccount = {
      sub: 'alice-sub',
      password: 'alice password',
      amr: ['pwd', 'mfa'],
      claims: {
        email: 'alice@example.com',
        email_verified: true,
        name: 'Alice Admin',
        preferred_username: 'alice@example.com',
        groups: ['it-admins', 'eng'],
        remember_me: false,
      },
    };
    const bob: TestAccount = {
      sub: 'bob-sub',
      password: 'bob password',
      claims: { preferred_username: 'bob@example.com', name: 'Bob', groups: ['eng'], remember_me: true },
    };
    const dave: TestAccount = {
      sub: 'dave-sub',
      password: 'dave password',
      claims: { preferred_username: 'dave@example.com', name: 'Dave', groups: ['eng'] },
    };
    const impostor: TestAccount = {
      sub: 'carol-elsewhere',
      password: 'carol password',
      claims: { preferred_username: 'carol@example.com' },
    };
    const admin = () => ({ authorization: `Bearer ${t.adminToken}` });
    const store = () => h.runtime.storage.inspectRegionStore(t.region);
    /** User names are stored encrypted: a user's id is found through the repository's keyed hash. */
    const userIdOf = async (tenantId: string, userName: string) =>
      (await (await h.runtime.services.tenants.data(tenantId)).users.findByUserName(userName))?.id ?? 'none';
    const idpConfig = () => ({
      issuer: idp.issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: ['openid', 'email', 'profile', 'groups', 'remember'],
      groupMappings: [{ claimValue: 'eng', group: 'Engineering' }],
      createMissingGroups: true,
      roleMappings: [{ claimValue: 'it-admins', role: 'Tenant Administrator' }],
      rememberMe: { claim: 'remember_me', absoluteHours: 720 },
    });
    const events = async (): Promise<EventDto[]> => {
      const res = await h.app.inject({ url: '/api/v1/audit-events?limit=200', headers: admin() });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ items: EventDto[] }>().items;
    };
    /** The browser's first step: Custos redirects to the IdP and sets the binding cookie. */
    const start = async (returnTo = '/devices') => {
      const res = await h.app.inject({ url: `/api/v1/auth/oidc/start?tenant=${t.tenantId}&returnTo=${encodeURIComponent(returnTo)}` });
      assert.equal(res.statusCode, 302, res.body);
      const binding = cookieOf(res, 'custos_oidc');
      assert.match(binding ?? '', /HttpOnly/);
      assert.match(binding ?? '', /SameSite=Lax/);
      return { location: String(res.headers.location), binding: cookieValue(binding) };
    };
    /** The browser's return to Custos from the IdP. */
    const callback = (url: URL, binding?: string) =>
      h.app.inject({ url: `${url.pathname}${url.search}`, ...(binding ? { cookies: { custos_oidc: binding } } : {}) });
    const signIn = async (account: TestAccount) => {
      const started = await start();
      const back = await idp.signIn(started.location, account.sub, account.password);
      return { ...started, back, res: await callback(back, started.binding) };
    };
    const refusal = (res: LightMyRequestResponse, reason: string) => {
      assert.equal(res.statusCode, 401, res.body);
      const body = res.json<{ code: string; reason: string; detail: string }>();
      assert.equal(body.code, 'sso-failed');
      assert.equal(body.reason, reason, body.detail);
      assert.equal(cookieOf(res, 'custos_session'), undefined);
      return body;
    };
    const sessionCount = async () =>
      Number(
        (
          await store()
            .selectFrom('user_sessions')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('tenant_id', '=', t.tenantId)
            .executeTakeFirstOrThrow()
        ).n,
      );

    before(async () => {
      backend = await create();
      h = await startHarness(backend, clock);
      idp = await startOpenIdProvider({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUri: REDIRECT_URI,
        accounts: [alice, bob, dave, impostor],
      });
      foreign = await startOpenIdProvider({
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        redirectUri: REDIRECT_URI,
        accounts: [alice],
      });
      t = await seedTenant(h, 'GB');
    });
    after(async () => {
      const unaudited = h?.unaudited ?? [];
      await h?.close();
      await backend?.dispose();
      await idp?.close();
      await foreign?.close();
      assertAllAudited(unaudited);
    });

    test('without an identity provider, SSO is refused clearly and nothing is stored', async () => {
      const get = await h.app.inject({ url: '/api/v1/identity-provider', headers: admin() });
      assert.equal(get.statusCode, 404, get.body);
      assert.equal(get.json().code, 'idp-not-configured');
      const res = await h.app.inject({ url: `/api/v1/auth/oidc/start?tenant=${t.tenantId}` });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().code, 'idp-not-configured');
    });

    test('an issuer that cannot be discovered or is not https is refused and nothing is stored', async () => {
      const unreachable = await h.app.inject({
        method: 'PUT',
        url: '/api/v1/identity-provider',
        headers: admin(),
        payload: { ...idpConfig(), issuer: 'http://127.0.0.1:1' },
      });
      assert.equal(unreachable.statusCode, 422, unreachable.body);
      assert.equal(unreachable.json().code, 'idp-discovery-failed');
      // A server that answers, but not as this issuer's OpenID provider.
      const wrongPath = await h.app.inject({
        method: 'PUT',
        url: '/api/v1/identity-provider',
        headers: admin(),
        payload: { ...idpConfig(), issuer: `${foreign.issuer}/tenant-x` },
      });
      assert.equal(wrongPath.statusCode, 422, wrongPath.body);
      assert.match(wrongPath.json().detail, /tenant-x/);
      const plain = await h.app.inject({
        method: 'PUT',
        url: '/api/v1/identity-provider',
        headers: admin(),
        payload: { ...idpConfig(), issuer: 'http://idp.example.com' },
      });
      assert.equal(plain.statusCode, 400, plain.body);
      assert.equal(plain.json().code, 'validation-failed');
      const badRole = await h.app.inject({
        method: 'PUT',
        url: '/api/v1/identity-provider',
        headers: admin(),
        payload: { ...idpConfig(), roleMappings: [{ claimValue: 'x', role: 'Supreme Leader' }] },
      });
      assert.equal(badRole.statusCode, 400, badRole.body);
      const tooLong = await h.app.inject({
        method: 'PUT',
        url: '/api/v1/identity-provider',
        headers: admin(),
        payload: { ...idpConfig(), rememberMe: { claim: 'remember_me', absoluteHours: 721 } },
      });
      assert.equal(tooLong.statusCode, 400, tooLong.body);
      const rows = await store().selectFrom('identity_providers').selectAll().where('tenant_id', '=', t.tenantId).execute();
      assert.equal(rows.length, 0);
    });

    test('the configuration is stored with the secret encrypted, never returned, and audited', async () => {
      const put = await h.app.inject({ method: 'PUT', url: '/api/v1/identity-provider', headers: admin(), payload: idpConfig() });
      assert.equal(put.statusCode, 200, put.body);
      const dto = put.json<Record<string, unknown>>();
      assert.equal(dto['clientSecretSet'], true);
      assert.equal(dto['clientSecret'], undefined);
      assert.equal(dto['redirectUri'], REDIRECT_URI);
      assert.ok(!put.body.includes(CLIENT_SECRET));
      const get = await h.app.inject({ url: '/api/v1/identity-provider', headers: admin() });
      assert.equal(get.statusCode, 200);
      assert.ok(!get.body.includes(CLIENT_SECRET));
      const row = await store().selectFrom('identity_providers').selectAll().where('tenant_id', '=', t.tenantId).executeTakeFirstOrThrow();
      const sealed = row.client_secret_enc ?? '';
      assert.ok(sealed.startsWith('v1.'), sealed);
      assert.ok(!sealed.includes(Buffer.from(CLIENT_SECRET).toString('base64url')));
      assert.ok(!sealed.includes(CLIENT_SECRET));
      const configured = (await events()).find((e) => e.activity === 'Configure identity provider');
      assert.ok(configured);
      const secret = configured.targets[0]?.modifiedProperties?.find((p) => p.name === 'clientSecret');
      assert.equal(secret?.newValue, '[redacted]');
      assert.ok(!JSON.stringify(configured).includes(CLIENT_SECRET));
      // Only tenant.write may change it.
      const readOnly = await seedTenantToken('Read Only Operator');
      const denied = await h.app.inject({
        method: 'PUT',
        url: '/api/v1/identity-provider',
        headers: { authorization: `Bearer ${readOnly}` },
        payload: idpConfig(),
      });
      assert.equal(denied.statusCode, 403, denied.body);
    });
    const seedTenantToken = async (role: string) => (await h.runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role })).token;

    test('a full sign-in creates the user just in time with mapped groups and roles, and the cookie opens the API', async () => {
      const { res, location } = await signIn(alice);
      const authorize = new URL(location);
      assert.equal(authorize.origin, idp.issuer);
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(authorize.searchParams.get('state'));
      assert.ok(authorize.searchParams.get('nonce'));
      assert.equal(authorize.searchParams.get('redirect_uri'), REDIRECT_URI);
      assert.equal(res.statusCode, 302, res.body);
      assert.equal(res.headers.location, '/devices');
      const session = cookieOf(res, 'custos_session');
      assert.match(session ?? '', /HttpOnly/);
      assert.match(session ?? '', /Secure/);
      assert.match(session ?? '', /SameSite=Lax/);
      assert.match(session ?? '', /Path=\//);
      const cookie = cookieValue(session);
      const api = await h.app.inject({ url: '/api/v1/audit-events', cookies: { custos_session: cookie } });
      assert.equal(api.statusCode, 200, api.body);

      const user = await store()
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .where('id', '=', await userIdOf(t.tenantId, 'alice@example.com'))
        .executeTakeFirstOrThrow();
      assert.equal(user.source, 'federated');
      assert.equal(user.external_id, 'alice-sub');
      assert.equal(user.display_name, 'Alice Admin');
      assert.equal(user.password_hash, null);
      const link = await store()
        .selectFrom('federated_identities')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .executeTakeFirstOrThrow();
      assert.deepEqual([link.issuer, link.subject, link.user_id], [idp.issuer, 'alice-sub', user.id]);
      const group = await store()
        .selectFrom('groups')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .where('display_name', '=', 'Engineering')
        .executeTakeFirstOrThrow();
      const members = await store()
        .selectFrom('group_members')
        .select('user_id')
        .where('tenant_id', '=', t.tenantId)
        .where('group_id', '=', group.id)
        .execute();
      assert.deepEqual(
        members.map((m) => m.user_id),
        [user.id],
      );
      const roles = await store()
        .selectFrom('role_assignments')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .where('principal_id', '=', user.id)
        .execute();
      assert.deepEqual(
        roles.map((r) => r.role),
        ['Tenant Administrator'],
      );
      const sessionRow = await store()
        .selectFrom('user_sessions')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .where('user_id', '=', user.id)
        .executeTakeFirstOrThrow();
      assert.equal(sessionRow.method, 'oidc');
      assert.equal(sessionRow.mfa_satisfied, 1, 'the IdP asserted MFA (amr)');
      assert.equal(
        Number(sessionRow.absolute_expires_at) - Number(sessionRow.created_at),
        12 * HOUR,
        'no remember me: the tenant lifetime',
      );
      const activities = (await events()).map((e) => e.activity);
      assert.ok(activities.includes('Create user from SSO'), activities.join());
      assert.ok(activities.includes('Sign in with SSO'), activities.join());

      // The second sign-in finds the same user by issuer + subject; the mappings follow the claims.
      alice.claims['groups'] = [];
      alice.claims['name'] = 'Alice A.';
      const again = await signIn(alice);
      assert.equal(again.res.statusCode, 302, again.res.body);
      const users = await store()
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .where('source', '=', 'federated')
        .execute();
      assert.equal(users.length, 1);
      assert.equal(users[0]?.display_name, 'Alice A.');
      assert.equal(
        (
          await store()
            .selectFrom('group_members')
            .selectAll()
            .where('tenant_id', '=', t.tenantId)
            .where('group_id', '=', group.id)
            .execute()
        ).length,
        0,
      );
      assert.equal(
        (
          await store()
            .selectFrom('role_assignments')
            .selectAll()
            .where('tenant_id', '=', t.tenantId)
            .where('principal_id', '=', user.id)
            .execute()
        ).length,
        0,
      );
      const forbidden = await h.app.inject({
        url: '/api/v1/audit-events',
        cookies: { custos_session: cookieValue(cookieOf(again.res, 'custos_session')) },
      });
      assert.equal(forbidden.statusCode, 403, forbidden.body);
      alice.claims['groups'] = ['it-admins', 'eng'];
    });

    test('a wrong state, a missing binding cookie or another browser is refused', async () => {
      const before = await sessionCount();
      const { binding, location } = await start();
      const back = await idp.signIn(location, alice.sub, alice.password);
      const wrong = new URL(back);
      wrong.searchParams.set('state', 'a-state-this-browser-never-had');
      refusal(await callback(wrong, binding), 'unknown-state');
      const noCookie = await callback(back);
      assert.equal(noCookie.statusCode, 401);
      assert.equal(noCookie.json().reason, 'missing-binding');
      const other = await start();
      refusal(await callback(back, other.binding), 'browser-mismatch');
      // The IdP's own refusal (the user cancelled) ends the sign-in too.
      const cancelled = await start();
      const denied = new URL(REDIRECT_URI);
      denied.search = new URLSearchParams({
        state: new URL(cancelled.location).searchParams.get('state') ?? '',
        error: 'access_denied',
      }).toString();
      assert.match(refusal(await callback(denied, cancelled.binding), 'idp-error').detail, /access_denied/);
      assert.equal(await sessionCount(), before);
      const failures = (await events()).filter((e) => e.activity === 'Sign in with SSO' && e.result === 'failure');
      const reasons = failures.map((e) => String(e.targets[0]?.modifiedProperties?.[0]?.newValue));
      assert.ok(
        reasons.some((r) => r.startsWith('unknown-state')),
        reasons.join(),
      );
      assert.ok(
        reasons.some((r) => r.startsWith('browser-mismatch')),
        reasons.join(),
      );
    });

    test('an ID token whose nonce differs from the stored one is refused', async () => {
      const before = await sessionCount();
      const { binding, location } = await start();
      await store().updateTable('oidc_login_states').set({ nonce: 'tampered-nonce' }).where('tenant_id', '=', t.tenantId).execute();
      const back = await idp.signIn(location, alice.sub, alice.password);
      const body = refusal(await callback(back, binding), 'token-validation');
      assert.match(body.detail, /nonce/);
      assert.equal(await sessionCount(), before);
    });

    test('a replayed code and an expired code are refused', async () => {
      await store().deleteFrom('oidc_login_states').where('tenant_id', '=', t.tenantId).execute();
      const { binding, location } = await start();
      const saved = await store().selectFrom('oidc_login_states').selectAll().where('tenant_id', '=', t.tenantId).execute();
      const back = await idp.signIn(location, alice.sub, alice.password);
      const first = await callback(back, binding);
      assert.equal(first.statusCode, 302, first.body);
      // Custos uses a state once...
      refusal(await callback(back, binding), 'unknown-state');
      // ...and were the state still there, the IdP refuses the used code.
      await store().insertInto('oidc_login_states').values(saved).execute();
      assert.match(refusal(await callback(back, binding), 'token-validation').detail, /invalid_grant/);

      const before = await sessionCount();
      const late = await start();
      const lateBack = await idp.signIn(late.location, alice.sub, alice.password);
      idp.expireAuthorizationCodes();
      assert.match(refusal(await callback(lateBack, late.binding), 'token-validation').detail, /invalid_grant/);
      // A sign-in left at the IdP longer than Custos keeps its state is refused too.
      const slow = await start();
      const slowBack = await idp.signIn(slow.location, alice.sub, alice.password);
      clock.advance(11 * 60_000);
      refusal(await callback(slowBack, slow.binding), 'expired');
      assert.equal(await sessionCount(), before);
    });

    test('a code issued by a foreign provider is refused', async () => {
      const before = await sessionCount();
      const { binding, location } = await start();
      // The same request, answered by another provider the user also has an account with.
      const elsewhere = new URL(location);
      const foreignUrl = new URL(`${elsewhere.pathname}${elsewhere.search}`, foreign.issuer);
      const back = await foreign.signIn(foreignUrl.href, alice.sub, alice.password);
      assert.equal(back.searchParams.get('iss'), foreign.issuer);
      assert.match(refusal(await callback(back, binding), 'token-validation').detail, /"iss"/);
      // Without the iss parameter the code still goes to our issuer, which never issued it.
      const second = await start();
      const secondUrl = new URL(second.location);
      const back2 = await foreign.signIn(
        new URL(`${secondUrl.pathname}${secondUrl.search}`, foreign.issuer).href,
        alice.sub,
        alice.password,
      );
      back2.searchParams.delete('iss');
      assert.match(refusal(await callback(back2, second.binding), 'token-validation').detail, /iss/);
      assert.equal(await sessionCount(), before);
    });

    test('two first sign-ins of one subject at once both succeed, with one user and one link', async () => {
      // Both browsers go through the IdP first; then both callbacks reach Custos together.
      const flows = [];
      for (let i = 0; i < 2; i++) {
        const started = await start();
        flows.push({ ...started, back: await idp.signIn(started.location, dave.sub, dave.password) });
      }
      const results = await Promise.all(flows.map((flow) => callback(flow.back, flow.binding)));
      for (const res of results) {
        assert.equal(res.statusCode, 302, res.body);
        assert.ok(cookieOf(res, 'custos_session'));
      }
      const userId = await userIdOf(t.tenantId, 'dave@example.com');
      const links = await store()
        .selectFrom('federated_identities')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .where('subject', '=', dave.sub)
        .execute();
      assert.equal(links.length, 1);
      assert.equal(links[0]?.user_id, userId);
      const memberships = await store()
        .selectFrom('group_members')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .where('user_id', '=', userId)
        .execute();
      assert.equal(memberships.length, 1);
    });

    test('an existing account of the same name is never taken over by an unlinked IdP subject', async () => {
      const carol = await h.runtime.services.users.createUser(SYSTEM, t.tenantId, {
        userName: 'carol@example.com',
        password: 'a long enough password 1',
      });
      const before = await sessionCount();
      const { res } = await signIn(impostor);
      refusal(res, 'account-conflict');
      assert.equal(await sessionCount(), before);
      const row = await store()
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .where('id', '=', carol.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.source, 'cloud');
      assert.equal((await store().selectFrom('federated_identities').selectAll().where('user_id', '=', carol.id).execute()).length, 0);
    });

    test('returnTo must be a path on this site', async () => {
      for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'devices']) {
        const res = await h.app.inject({ url: `/api/v1/auth/oidc/start?tenant=${t.tenantId}&returnTo=${encodeURIComponent(returnTo)}` });
        assert.equal(res.statusCode, 400, `${returnTo}: ${res.body}`);
        assert.equal(res.json().code, 'validation-failed');
      }
    });

    test('"remember me" extends the absolute lifetime, but an idle session still ends', async () => {
      const { res } = await signIn(bob);
      assert.equal(res.statusCode, 302, res.body);
      const cookie = cookieValue(cookieOf(res, 'custos_session'));
      const row = await store()
        .selectFrom('user_sessions')
        .innerJoin('users', (j) =>
          j.onRef('users.tenant_id', '=', 'user_sessions.tenant_id').onRef('users.id', '=', 'user_sessions.user_id'),
        )
        .select(['user_sessions.created_at', 'user_sessions.absolute_expires_at'])
        .where('users.tenant_id', '=', t.tenantId)
        .where('users.id', '=', await userIdOf(t.tenantId, 'bob@example.com'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(row.absolute_expires_at) - Number(row.created_at), 720 * HOUR);
      const session = () => h.app.inject({ url: '/api/v1/auth/session', cookies: { custos_session: cookie } });
      // Active use past the tenant's 12-hour lifetime keeps the session.
      for (let i = 0; i < 40; i += 1) {
        clock.advance(20 * 60_000);
        const used = await session();
        assert.equal(used.statusCode, 200, `after ${(i + 1) * 20} minutes: ${used.body}`);
      }
      // Half an hour without a request ends it all the same.
      clock.advance(31 * 60_000);
      const idle = await session();
      assert.equal(idle.statusCode, 401, idle.body);
      assert.equal(idle.json().code, 'session-expired');
    });

    test('a deactivated user is refused, and removing the IdP turns SSO off', async () => {
      const row = await store()
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', t.tenantId)
        .where('id', '=', await userIdOf(t.tenantId, 'bob@example.com'))
        .executeTakeFirstOrThrow();
      await h.runtime.services.users.updateUser(SYSTEM, t.tenantId, row.id, { active: false });
      refusal((await signIn(bob)).res, 'account-deactivated');
      const removed = await h.app.inject({ method: 'DELETE', url: '/api/v1/identity-provider', headers: admin() });
      assert.equal(removed.statusCode, 204, removed.body);
      const res = await h.app.inject({ url: `/api/v1/auth/oidc/start?tenant=${t.tenantId}` });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json<{ code: string }>().code, 'idp-not-configured');
      assert.ok((await events()).some((e) => e.activity === 'Remove identity provider'));
    });
  });
}
