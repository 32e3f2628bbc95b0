/**
 * SCIM 2.0 provisioning through the real app, on SQLite and PostgreSQL: the per-tenant bearer token
 * (shown once, hashed, rotated, revoked), the discovery endpoints, Users and Groups with create,
 * filter, paging, replace, PATCH (Entra ID's shapes included) and delete, SCIM error bodies, and
 * deactivation that ends the user's sessions and API tokens on their very next request.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { hashSecret } from '../domain/secrets.js';
import { BACKENDS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, type Harness } from '../test-support/harness.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface ScimUser {
  id: string;
  userName: string;
  displayName?: string;
  externalId?: string;
  active: boolean;
  emails: { value: string; primary: boolean }[];
  meta: { resourceType: string; created: string; lastModified: string; location: string; version: string };
}
interface ScimGroup {
  id: string;
  displayName: string;
  members?: { value: string; display?: string }[];
  meta: { resourceType: string; location: string; version: string };
}
interface ScimList<T> {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
}

for (const { name, create } of BACKENDS) {
  describe(`SCIM on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    let t: Awaited<ReturnType<typeof seedTenant>>;
    let other: Awaited<ReturnType<typeof seedTenant>>;
    let token: string;
    let otherToken: string;
    const admin = (bearer: string) => ({ authorization: `Bearer ${bearer}` });
    const newToken = async (adminToken: string) => {
      const res = await h.app.inject({ method: 'POST', url: '/api/v1/scim/token', headers: admin(adminToken) });
      assert.equal(res.statusCode, 201, res.body);
      return res.json<{ token: string; scimUrl: string }>();
    };
    const scim = (
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
      path: string,
      body?: unknown,
      bearer = token,
      type = 'application/scim+json',
    ) =>
      h.app.inject({
        method,
        url: `/scim/v2${path}`,
        headers: { ...admin(bearer), ...(body === undefined ? {} : { 'content-type': type }) },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    const scimError = (res: LightMyRequestResponse, status: number, scimType?: string) => {
      assert.equal(res.statusCode, status, res.body);
      assert.match(String(res.headers['content-type']), /application\/scim\+json/);
      const body = res.json<{ schemas: string[]; status: string; scimType?: string; detail: string }>();
      assert.deepEqual(body.schemas, [ERROR]);
      assert.equal(body.status, String(status));
      assert.equal(body.scimType, scimType);
      assert.ok(body.detail);
      return body;
    };
    const createUser = async (userName: string, extra: Record<string, unknown> = {}) => {
      const res = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, ...extra });
      assert.equal(res.statusCode, 201, res.body);
      return res.json<ScimUser>();
    };
    const userCount = async (tenantId: string) =>
      Number(
        (
          await h.runtime.storage
            .inspectRegionStore(tenantId === t.tenantId ? t.region : other.region)
            .selectFrom('users')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('tenant_id', '=', tenantId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const patch = (id: string, operations: unknown[], resource = 'Users') =>
      scim('PATCH', `/${resource}/${id}`, { schemas: [PATCH_OP], Operations: operations });

    before(async () => {
      t = await seedTenant(h, 'GB');
      other = await seedTenant(h, 'DE');
      token = (await newToken(t.adminToken)).token;
      otherToken = (await newToken(other.adminToken)).token;
    });

    test('the SCIM token belongs to one tenant, is stored hashed, and rotation or revocation ends the old one', async () => {
      assert.ok(token.startsWith(`custos_scim_${t.tenantId}_`));
      const rows = await h.runtime.storage
        .inspectRegionStore(t.region)
        .selectFrom('scim_tokens')
        .selectAll()
        .where('tenant_id', '=', t.tenantId)
        .execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.secret_hash, hashSecret(token));
      assert.ok(!JSON.stringify(rows).includes(token));

      scimError(await h.app.inject({ url: '/scim/v2/Users' }), 401);
      scimError(await scim('GET', '/Users', undefined, t.adminToken), 401);
      scimError(await scim('GET', '/Users', undefined, `${token.slice(0, -2)}xx`), 401);
      const readOnly = await h.runtime.services.apiTokens.create({ type: 'system', id: 'cli', name: 'test' }, t.tenantId, {
        role: 'Read Only Operator',
      });
      const denied = await h.app.inject({ method: 'POST', url: '/api/v1/scim/token', headers: admin(readOnly.token) });
      assert.equal(denied.statusCode, 403, denied.body);

      // Another tenant's token sees only its own tenant.
      const theirs = (await scim('POST', '/Users', { userName: 'someone@other.example' }, otherToken)).json<ScimUser>();
      scimError(await scim('GET', `/Users/${theirs.id}`), 404);
      const listed = (await scim('GET', '/Users')).json<ScimList<ScimUser>>();
      assert.ok(!listed.Resources.some((u) => u.id === theirs.id));

      const rotated = await newToken(t.adminToken);
      assert.equal(rotated.scimUrl, 'http://127.0.0.1:8080/scim/v2');
      scimError(await scim('GET', '/Users'), 401);
      assert.equal((await scim('GET', '/Users', undefined, rotated.token)).statusCode, 200);
      const revoked = await h.app.inject({ method: 'DELETE', url: '/api/v1/scim/token', headers: admin(t.adminToken) });
      assert.equal(revoked.statusCode, 204, revoked.body);
      scimError(await scim('GET', '/Users', undefined, rotated.token), 401);
      token = (await newToken(t.adminToken)).token;
    });

    test('ServiceProviderConfig, ResourceTypes and Schemas describe what is supported', async () => {
      const config = await scim('GET', '/ServiceProviderConfig');
      assert.equal(config.statusCode, 200, config.body);
      assert.match(String(config.headers['content-type']), /application\/scim\+json/);
      const spc = config.json<{
        patch: { supported: boolean };
        filter: { supported: boolean; maxResults: number };
        bulk: { supported: boolean };
      }>();
      assert.equal(spc.patch.supported, true);
      assert.equal(spc.filter.supported, true);
      assert.equal(spc.bulk.supported, false);
      const types = (await scim('GET', '/ResourceTypes')).json<ScimList<{ id: string; endpoint: string }>>();
      assert.deepEqual(
        types.Resources.map((r) => r.endpoint),
        ['/Users', '/Groups'],
      );
      const schemas = (await scim('GET', '/Schemas')).json<ScimList<{ id: string; attributes: { name: string }[] }>>();
      const user = schemas.Resources.find((s) => s.id === 'urn:ietf:params:scim:schemas:core:2.0:User');
      assert.ok(user?.attributes.some((a) => a.name === 'userName'));
    });

    test('users: create, duplicate, get, filter, paging and replace', async () => {
      const before = await userCount(t.tenantId);
      const created = await scim('POST', '/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'Dana@Example.com',
        externalId: 'entra-0001',
        name: { givenName: 'Dana', familyName: 'Scully' },
        emails: [{ value: 'dana@example.com', type: 'work', primary: true }],
        active: true,
      });
      assert.equal(created.statusCode, 201, created.body);
      const dana = created.json<ScimUser>();
      assert.equal(dana.displayName, 'Dana Scully');
      assert.equal(dana.emails[0]?.value, 'dana@example.com');
      assert.equal(dana.meta.resourceType, 'User');
      assert.equal(dana.meta.location, `http://127.0.0.1:8080/scim/v2/Users/${dana.id}`);
      assert.equal(created.headers.location, dana.meta.location);
      assert.equal(created.headers.etag, dana.meta.version);
      assert.ok(Date.parse(dana.meta.created) > 0 && Date.parse(dana.meta.lastModified) > 0);

      scimError(await scim('POST', '/Users', { userName: 'dana@example.com' }), 409, 'uniqueness');
      scimError(await scim('POST', '/Users', { displayName: 'No user name' }), 400, 'invalidValue');
      scimError(await scim('POST', '/Users', { userName: 'x@example.com', emails: [{ value: 'not an email' }] }), 400, 'invalidValue');
      scimError(await scim('POST', '/Users', '{"userName": '), 400, 'invalidSyntax');
      assert.equal(await userCount(t.tenantId), before + 1, 'refused requests created nothing');

      const got = await scim('GET', `/Users/${dana.id}`);
      assert.equal(got.statusCode, 200);
      assert.equal(got.json<ScimUser>().userName, 'Dana@Example.com');
      scimError(await scim('GET', '/Users/not-a-uuid'), 404);
      scimError(await scim('GET', '/Users/00000000-0000-4000-8000-000000000000'), 404);

      const byName = (await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "dana@example.com"')}`)).json<
        ScimList<ScimUser>
      >();
      assert.equal(byName.totalResults, 1);
      assert.equal(byName.Resources[0]?.id, dana.id);
      const byExternal = (await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "entra-0001"')}`)).json<
        ScimList<ScimUser>
      >();
      assert.deepEqual(
        byExternal.Resources.map((u) => u.id),
        [dana.id],
      );
      const none = (await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}`)).json<
        ScimList<ScimUser>
      >();
      assert.equal(none.totalResults, 0);
      assert.deepEqual(none.Resources, []);
      scimError(await scim('GET', `/Users?filter=${encodeURIComponent('userName co "dana"')}`), 400, 'invalidFilter');
      scimError(await scim('GET', `/Users?filter=${encodeURIComponent('displayName eq "Dana Scully"')}`), 400, 'invalidFilter');
      scimError(await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "a" or userName eq "b"')}`), 400, 'invalidFilter');

      for (let i = 0; i < 5; i += 1) await createUser(`page${i}@example.com`);
      const total = await userCount(t.tenantId);
      const first = (await scim('GET', '/Users?startIndex=1&count=2')).json<ScimList<ScimUser>>();
      const second = (await scim('GET', '/Users?startIndex=3&count=2')).json<ScimList<ScimUser>>();
      const last = (await scim('GET', `/Users?startIndex=${total}&count=2`)).json<ScimList<ScimUser>>();
      assert.equal(first.totalResults, total);
      assert.deepEqual([first.startIndex, first.itemsPerPage, second.startIndex, second.itemsPerPage, last.itemsPerPage], [1, 2, 3, 2, 1]);
      const ids = [...first.Resources, ...second.Resources].map((u) => u.id);
      assert.equal(new Set(ids).size, 4);
      const counted = (await scim('GET', '/Users?count=0')).json<ScimList<ScimUser>>();
      assert.deepEqual([counted.totalResults, counted.Resources.length], [total, 0]);

      // PUT replaces what Custos keeps; plain application/json is accepted too.
      const put = await scim(
        'PUT',
        `/Users/${dana.id}`,
        { userName: 'dana@example.com', displayName: 'Agent Scully', emails: [{ value: 'scully@example.com' }] },
        token,
        'application/json',
      );
      assert.equal(put.statusCode, 200, put.body);
      const replaced = put.json<ScimUser>();
      assert.deepEqual(
        [replaced.userName, replaced.displayName, replaced.emails[0]?.value, replaced.externalId, replaced.active],
        ['dana@example.com', 'Agent Scully', 'scully@example.com', undefined, true],
      );
      assert.notEqual(replaced.meta.version, dana.meta.version);
    });

    test('PATCH applies add, replace and remove operations, and refuses malformed ones without a change', async () => {
      const erin = await createUser('erin@example.com', { displayName: 'Erin' });
      const renamed = await patch(erin.id, [{ op: 'replace', value: { displayName: 'Erin Hannon', externalId: 'okta-77' } }]);
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.deepEqual([renamed.json<ScimUser>().displayName, renamed.json<ScimUser>().externalId], ['Erin Hannon', 'okta-77']);
      const emailed = await patch(erin.id, [{ op: 'add', path: 'emails', value: [{ value: 'erin@dunder.example', primary: true }] }]);
      assert.equal(emailed.statusCode, 200, emailed.body);
      assert.equal(emailed.json<ScimUser>().emails[0]?.value, 'erin@dunder.example');
      const removed = await patch(erin.id, [{ op: 'remove', path: 'externalId' }]);
      assert.equal(removed.statusCode, 200, removed.body);
      assert.equal(removed.json<ScimUser>().externalId, undefined);

      scimError(await patch(erin.id, [{ op: 'explode', path: 'displayName', value: 'x' }]), 400, 'invalidSyntax');
      scimError(await scim('PATCH', `/Users/${erin.id}`, { schemas: ['wrong'], Operations: [] }), 400, 'invalidSyntax');
      scimError(await patch(erin.id, [{ op: 'replace', path: 'active', value: 'perhaps' }]), 400, 'invalidValue');
      scimError(await patch('00000000-0000-4000-8000-000000000000', [{ op: 'replace', path: 'active', value: false }]), 404);
      const after = (await scim('GET', `/Users/${erin.id}`)).json<ScimUser>();
      assert.deepEqual([after.displayName, after.active], ['Erin Hannon', true]);
    });

    /** A SCIM user with an admin role, a session cookie and an API token of their own. */
    const userWithAccess = async (userName: string) => {
      const created = await createUser(userName);
      const data = await h.runtime.services.tenants.data(t.tenantId);
      await data.roleAssignments.insert({
        id: crypto.randomUUID(),
        role: 'Tenant Administrator',
        principalKind: 'user',
        principalId: created.id,
        scopeTags: null,
        createdAt: Date.now(),
      });
      const user = await data.users.get(created.id);
      assert.ok(user);
      const context = { ip: '127.0.0.1', correlationId: null };
      const { cookie } = await h.runtime.services.sessions.start(t.tenantId, user, { method: 'oidc', mfaSatisfied: true, context });
      const { actor } = await h.runtime.services.sessions.authenticate(cookie, context);
      const { token: apiToken } = await h.runtime.services.apiTokens.create(actor, t.tenantId, { role: 'Read Only Operator' });
      const withCookie = () => h.app.inject({ url: '/api/v1/devices', cookies: { custos_session: cookie } });
      const withToken = () => h.app.inject({ url: '/api/v1/devices', headers: admin(apiToken) });
      assert.equal((await withCookie()).statusCode, 200);
      assert.equal((await withToken()).statusCode, 200);
      return { id: created.id, withCookie, withToken };
    };

    test('Entra-style PATCH active "False" ends the user\'s sessions and API tokens at once', async () => {
      const frank = await userWithAccess('frank@example.com');
      const res = await patch(frank.id, [{ op: 'Replace', path: 'active', value: 'False' }]);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json<ScimUser>().active, false);
      const cookie = await frank.withCookie();
      assert.equal(cookie.statusCode, 401, cookie.body);
      const bearer = await frank.withToken();
      assert.equal(bearer.statusCode, 401, bearer.body);
      const audit = await h.app.inject({ url: `/api/v1/audit-events?targetId=${frank.id}`, headers: admin(t.adminToken) });
      const deactivated = audit
        .json<{ items: { activity: string; actor: { type: string } }[] }>()
        .items.find((e) => e.activity === 'Deactivate user');
      assert.equal(deactivated?.actor.type, 'scim');
    });

    test('PUT active false and DELETE end access at once as well', async () => {
      const gina = await userWithAccess('gina@example.com');
      const put = await scim('PUT', `/Users/${gina.id}`, { userName: 'gina@example.com', active: false });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal((await gina.withCookie()).statusCode, 401);
      assert.equal((await gina.withToken()).statusCode, 401);

      const hank = await userWithAccess('hank@example.com');
      const deleted = await scim('DELETE', `/Users/${hank.id}`);
      assert.equal(deleted.statusCode, 204, deleted.body);
      assert.equal((await hank.withCookie()).statusCode, 401);
      assert.equal((await hank.withToken()).statusCode, 401);
      scimError(await scim('GET', `/Users/${hank.id}`), 404);
    });

    test('groups: create with members, PATCH add and remove members, filter, replace and delete', async () => {
      const ida = await createUser('ida@example.com');
      const jim = await createUser('jim@example.com');
      const created = await scim('POST', '/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'Sales',
        externalId: 'grp-1',
        members: [{ value: ida.id }],
      });
      assert.equal(created.statusCode, 201, created.body);
      const sales = created.json<ScimGroup>();
      assert.deepEqual(sales.members, [
        { value: ida.id, $ref: `http://127.0.0.1:8080/scim/v2/Users/${ida.id}`, type: 'User', display: 'ida@example.com' },
      ]);
      assert.equal(sales.meta.resourceType, 'Group');
      scimError(await scim('POST', '/Groups', { displayName: 'Sales' }), 409, 'uniqueness');
      const foreignUser = (await scim('POST', '/Users', { userName: 'stranger@other.example' }, otherToken)).json<ScimUser>();
      scimError(await scim('POST', '/Groups', { displayName: 'Mixed', members: [{ value: foreignUser.id }] }), 400, 'invalidValue');

      const added = await patch(sales.id, [{ op: 'Add', path: 'members', value: [{ value: jim.id }] }], 'Groups');
      assert.equal(added.statusCode, 200, added.body);
      assert.deepEqual(new Set(added.json<ScimGroup>().members?.map((m) => m.value)), new Set([ida.id, jim.id]));
      const removed = await patch(sales.id, [{ op: 'Remove', path: `members[value eq "${ida.id}"]` }], 'Groups');
      assert.equal(removed.statusCode, 200, removed.body);
      assert.deepEqual(
        removed.json<ScimGroup>().members?.map((m) => m.value),
        [jim.id],
      );
      const renamed = await patch(sales.id, [{ op: 'Replace', path: 'displayName', value: 'Sales EMEA' }], 'Groups');
      assert.equal(renamed.json<ScimGroup>().displayName, 'Sales EMEA');
      const groupsOfJim = await (await h.runtime.services.tenants.data(t.tenantId)).groups.groupsOfUser(jim.id);
      assert.deepEqual(groupsOfJim, [sales.id]);

      const filtered = (
        await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Sales EMEA"')}&excludedAttributes=members`)
      ).json<ScimList<ScimGroup>>();
      assert.equal(filtered.totalResults, 1);
      assert.equal(filtered.Resources[0]?.members, undefined);
      scimError(await scim('GET', `/Groups?filter=${encodeURIComponent('members eq "x"')}`), 400, 'invalidFilter');

      const put = await scim('PUT', `/Groups/${sales.id}`, { displayName: 'Sales EMEA', members: [] });
      assert.equal(put.statusCode, 200, put.body);
      assert.deepEqual(put.json<ScimGroup>().members, []);
      const deleted = await scim('DELETE', `/Groups/${sales.id}`);
      assert.equal(deleted.statusCode, 204);
      scimError(await scim('GET', `/Groups/${sales.id}`), 404);
    });
  });
}
