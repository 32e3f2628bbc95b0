/**
 * RBAC administration through the real app, on SQLite and PostgreSQL: users and groups, roles and
 * custom roles, role assignments with scope tags, the escalation guard, `GET /me/permissions`, API
 * tokens through the API, and device scope tags honoured by lists and actions.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BUILT_IN_ROLES, PERMISSIONS } from '@custos/shared';
import { BACKENDS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, SYSTEM, type Harness } from '../test-support/harness.js';
import { TestDevice } from '../test-support/test-device.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

for (const { name, create } of BACKENDS) {
  describe(`RBAC administration on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    let gb: Awaited<ReturnType<typeof seedTenant>>;
    let us: Awaited<ReturnType<typeof seedTenant>>;

    const call = (token: string, method: Method, url: string, payload?: unknown) =>
      h.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const ok = async <T>(token: string, method: Method, url: string, payload?: unknown, status = 200): Promise<T> => {
      const res = await call(token, method, url, payload);
      assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
      return (res.body ? res.json() : undefined) as T;
    };
    const auditOf = async (activity: string) =>
      (await h.runtime.services.audit.list(SYSTEM, gb.tenantId, { activity }, { limit: 100 })).items;
    const countRows = async (table: 'users' | 'groups' | 'roles' | 'role_assignments' | 'api_tokens' | 'audit_events') => {
      const row = await h.runtime.storage
        .inspectRegionStore(gb.region)
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('tenant_id', '=', gb.tenantId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    const tokenWith = async (role: string, scopeTags?: string[]) =>
      (await h.runtime.services.apiTokens.create(SYSTEM, gb.tenantId, { role, ...(scopeTags ? { scopeTags } : {}) })).token;

    before(async () => {
      gb = await seedTenant(h, 'GB');
      us = await seedTenant(h, 'US');
    });

    test('users: create, page by user name, filter, change, deactivate, delete; no password hash is ever returned', async () => {
      const created: { id: string; userName: string }[] = [];
      for (const n of [3, 1, 2]) {
        created.push(
          await ok(gb.adminToken, 'POST', '/api/v1/users', { userName: `user${n}@gb.example`, password: 'a long enough secret 123' }, 201),
        );
      }
      const first = created[1]!;
      assert.equal((first as unknown as { hasPassword: boolean }).hasPassword, true);
      const page1 = await ok<{ items: { userName: string }[]; nextCursor: string }>(gb.adminToken, 'GET', '/api/v1/users?limit=2');
      assert.equal(page1.items.length, 2);
      const page2 = await ok<{ items: { userName: string }[]; nextCursor: string | null }>(
        gb.adminToken,
        'GET',
        `/api/v1/users?limit=2&cursor=${page1.nextCursor}`,
      );
      const names = [...page1.items, ...page2.items].map((u) => u.userName);
      assert.deepEqual(
        names.filter((n) => n.endsWith('@gb.example')),
        ['user1@gb.example', 'user2@gb.example', 'user3@gb.example'],
      );
      const filtered = await ok<{ items: { id: string }[] }>(gb.adminToken, 'GET', '/api/v1/users?userName=USER2@gb.example');
      assert.deepEqual(
        filtered.items.map((u) => u.id),
        [created[2]!.id],
      );
      for (const body of [JSON.stringify(page1), JSON.stringify(page2), JSON.stringify(filtered)]) {
        assert.ok(!body.includes('argon2'), 'no password hash in a response');
        assert.ok(!body.includes('passwordHash'));
      }
      const changed = await ok<{ displayName: string; active: boolean }>(gb.adminToken, 'PATCH', `/api/v1/users/${first.id}`, {
        displayName: 'User One',
        active: false,
      });
      assert.equal(changed.displayName, 'User One');
      assert.equal(changed.active, false);
      const [deactivated] = await auditOf('Deactivate user');
      assert.ok(
        deactivated?.targets[0]?.modifiedProperties?.some((p) => p.name === 'active' && p.oldValue === true && p.newValue === false),
      );
      // Another tenant sees and changes none of it.
      assert.equal((await call(us.adminToken, 'GET', `/api/v1/users/${first.id}`)).statusCode, 404);
      assert.equal((await call(us.adminToken, 'PATCH', `/api/v1/users/${first.id}`, { displayName: 'x' })).statusCode, 404);
      assert.equal((await call(us.adminToken, 'DELETE', `/api/v1/users/${first.id}`)).statusCode, 404);
      await ok(gb.adminToken, 'DELETE', `/api/v1/users/${first.id}`, undefined, 204);
      assert.equal((await call(gb.adminToken, 'GET', `/api/v1/users/${first.id}`)).statusCode, 404);
    });

    test('bad user input gets a clear 4xx with a stable code and changes nothing', async () => {
      const users = await countRows('users');
      const audit = await countRows('audit_events');
      const cases: [unknown, number, string][] = [
        [{ userName: 'has space@gb.example' }, 400, 'validation-failed'],
        [{ userName: 'short@gb.example', password: 'short' }, 422, 'password-policy'],
        [{ userName: 'x@gb.example', unknownField: 1 }, 400, 'validation-failed'],
        [{ userName: 'y@gb.example', roles: ['No Such Role'] }, 400, 'validation-failed'],
      ];
      for (const [body, status, code] of cases) {
        const res = await call(gb.adminToken, 'POST', '/api/v1/users', body);
        assert.equal(res.statusCode, status, res.body);
        assert.equal(res.json().code, code);
      }
      await ok(gb.adminToken, 'POST', '/api/v1/users', { userName: 'dup@gb.example' }, 201);
      const dup = await call(gb.adminToken, 'POST', '/api/v1/users', { userName: 'DUP@gb.example' });
      assert.equal(dup.statusCode, 409);
      assert.equal(dup.json().code, 'conflict');
      assert.equal(await countRows('users'), users + 1, 'only the one valid user was created');
      assert.equal(await countRows('audit_events'), audit + 1);
    });

    test("groups: members replace, add and remove; another tenant's user is refused", async () => {
      const a = await ok<{ id: string }>(gb.adminToken, 'POST', '/api/v1/users', { userName: 'ga@gb.example' }, 201);
      const b = await ok<{ id: string }>(gb.adminToken, 'POST', '/api/v1/users', { userName: 'gb@gb.example' }, 201);
      const foreign = await ok<{ id: string }>(us.adminToken, 'POST', '/api/v1/users', { userName: 'f@us.example' }, 201);
      const group = await ok<{ id: string; members: string[] }>(
        gb.adminToken,
        'POST',
        '/api/v1/groups',
        { displayName: 'Help desk', members: [a.id] },
        201,
      );
      assert.deepEqual(group.members, [a.id]);
      let got = await ok<{ members: string[] }>(gb.adminToken, 'PATCH', `/api/v1/groups/${group.id}`, { add: [b.id] });
      assert.deepEqual([...got.members].sort(), [a.id, b.id].sort());
      got = await ok(gb.adminToken, 'PATCH', `/api/v1/groups/${group.id}`, { remove: [a.id] });
      assert.deepEqual(got.members, [b.id]);
      got = await ok(gb.adminToken, 'PATCH', `/api/v1/groups/${group.id}`, { members: [a.id] });
      assert.deepEqual(got.members, [a.id]);
      const refused = await call(gb.adminToken, 'PATCH', `/api/v1/groups/${group.id}`, { add: [foreign.id] });
      assert.equal(refused.statusCode, 400);
      assert.equal(refused.json().code, 'validation-failed');
      assert.deepEqual((await ok<{ members: string[] }>(gb.adminToken, 'GET', `/api/v1/groups/${group.id}`)).members, [a.id]);
      const list = await ok<{ items: { id: string }[] }>(gb.adminToken, 'GET', '/api/v1/groups?displayName=Help%20desk');
      assert.deepEqual(
        list.items.map((g) => g.id),
        [group.id],
      );
      assert.equal((await call(us.adminToken, 'GET', `/api/v1/groups/${group.id}`)).statusCode, 404);
      await ok(gb.adminToken, 'DELETE', `/api/v1/groups/${group.id}`, undefined, 204);
    });

    test('roles: built-in roles with descriptions, the permission catalogue, custom role CRUD with clear refusals', async () => {
      const roles = await ok<{ items: { id: string; name: string; builtIn: boolean; description: string; permissions: string[] }[] }>(
        gb.adminToken,
        'GET',
        '/api/v1/roles',
      );
      for (const [role, permissions] of Object.entries(BUILT_IN_ROLES)) {
        const found = roles.items.find((r) => r.name === role);
        assert.ok(found?.builtIn && found.description.length > 10, role);
        assert.deepEqual([...found.permissions].sort(), [...permissions].sort());
      }
      const catalogue = await ok<{ items: { name: string }[] }>(gb.adminToken, 'GET', '/api/v1/permissions');
      assert.deepEqual(
        catalogue.items.map((p) => p.name),
        [...PERMISSIONS],
      );

      const before = await countRows('roles');
      const unknown = await call(gb.adminToken, 'POST', '/api/v1/roles', { name: 'Broken', permissions: ['devices.read', 'devices.fly'] });
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json().code, 'validation-failed');
      assert.deepEqual(unknown.json().unknownPermissions, ['devices.fly']);
      const builtInName = await call(gb.adminToken, 'POST', '/api/v1/roles', { name: 'help desk operator', permissions: ['devices.read'] });
      assert.equal(builtInName.statusCode, 409);
      assert.equal(builtInName.json().code, 'conflict');
      assert.equal(await countRows('roles'), before, 'refused roles are not stored');

      const role = await ok<{ id: string; permissions: string[] }>(
        gb.adminToken,
        'POST',
        '/api/v1/roles',
        { name: 'Device reader', description: 'Reads devices', permissions: ['devices.read', 'audit.read'] },
        201,
      );
      assert.deepEqual(role.permissions, ['devices.read', 'audit.read']);
      const sameName = await call(gb.adminToken, 'POST', '/api/v1/roles', { name: 'DEVICE READER', permissions: ['devices.read'] });
      assert.equal(sameName.statusCode, 409);
      const changed = await ok<{ permissions: string[] }>(gb.adminToken, 'PATCH', `/api/v1/roles/${role.id}`, {
        permissions: ['devices.read'],
      });
      assert.deepEqual(changed.permissions, ['devices.read']);
      const [event] = await auditOf('Update role');
      assert.equal(event?.category, 'RoleManagement');
      assert.deepEqual(event?.targets[0]?.modifiedProperties, [
        { name: 'permissions', oldValue: ['devices.read', 'audit.read'], newValue: ['devices.read'] },
      ]);
      assert.equal((await call(us.adminToken, 'GET', `/api/v1/roles/${role.id}`)).statusCode, 404);
    });

    test('a custom role assigned to a group applies to its members; deleting the role removes its assignments', async () => {
      const role = await ok<{ id: string }>(
        gb.adminToken,
        'POST',
        '/api/v1/roles',
        { name: 'Lockers', permissions: ['devices.read', 'devices.lock'] },
        201,
      );
      const user = await ok<{ id: string }>(gb.adminToken, 'POST', '/api/v1/users', { userName: 'locker@gb.example' }, 201);
      const group = await ok<{ id: string }>(gb.adminToken, 'POST', '/api/v1/groups', { displayName: 'Lockers', members: [user.id] }, 201);
      const assignment = await ok<{ id: string; roleName: string; scopeTags: null }>(
        gb.adminToken,
        'POST',
        '/api/v1/role-assignments',
        { role: role.id, principalKind: 'group', principalId: group.id, scopeTags: null },
        201,
      );
      assert.equal(assignment.roleName, 'Lockers');
      const data = await h.runtime.services.tenants.data(gb.tenantId);
      const { grantsOfUser } = await import('../domain/identity/principals.js');
      assert.deepEqual([...((await grantsOfUser(data, user.id))[0]?.permissions ?? [])].sort(), ['devices.lock', 'devices.read']);
      // Another tenant's principal, and an unknown role, are refused with 400.
      const foreign = await ok<{ id: string }>(us.adminToken, 'POST', '/api/v1/users', { userName: 'other@us.example' }, 201);
      const assignments = await countRows('role_assignments');
      for (const body of [
        { role: 'Read Only Operator', principalKind: 'user', principalId: foreign.id },
        { role: randomUUID(), principalKind: 'user', principalId: user.id },
        { role: 'Read Only Operator', principalKind: 'group', principalId: user.id },
      ]) {
        const res = await call(gb.adminToken, 'POST', '/api/v1/role-assignments', body);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().code, 'validation-failed');
      }
      assert.equal(await countRows('role_assignments'), assignments);
      await ok(gb.adminToken, 'DELETE', `/api/v1/roles/${role.id}`, undefined, 204);
      const left = await ok<{ items: { id: string }[] }>(gb.adminToken, 'GET', '/api/v1/role-assignments');
      assert.ok(!left.items.some((a) => a.id === assignment.id), 'the assignment went with the role');
      assert.deepEqual(await grantsOfUser(data, user.id), []);
      const [deleted] = await auditOf('Delete role');
      assert.ok(deleted?.targets[0]?.modifiedProperties?.some((p) => p.name === 'removedAssignments' && p.newValue === 1));
    });

    test('the escalation guard: a Role Administrator cannot grant, or mint a token for, what it does not hold', async () => {
      const roleAdmin = await tokenWith('Role Administrator');
      const user = await ok<{ id: string }>(gb.adminToken, 'POST', '/api/v1/users', { userName: 'escalate@gb.example' }, 201);
      const before = {
        assignments: await countRows('role_assignments'),
        tokens: await countRows('api_tokens'),
        roles: await countRows('roles'),
      };
      for (const [url, body] of [
        ['/api/v1/role-assignments', { role: 'Tenant Administrator', principalKind: 'user', principalId: user.id }],
        ['/api/v1/api-tokens', { role: 'Tenant Administrator' }],
        ['/api/v1/api-tokens', { role: 'Help Desk Operator' }],
        ['/api/v1/roles', { name: 'Sneaky', permissions: ['devices.wipe'] }],
      ] as const) {
        const res = await call(roleAdmin, 'POST', url, body);
        assert.equal(res.statusCode, 403, `${url}: ${res.body}`);
        assert.equal(res.json().code, 'forbidden');
        assert.ok(Array.isArray(res.json().missingPermissions));
      }
      assert.deepEqual(
        { assignments: await countRows('role_assignments'), tokens: await countRows('api_tokens'), roles: await countRows('roles') },
        before,
      );
      // What it holds it may grant.
      const mine = await ok<{ id: string }>(
        roleAdmin,
        'POST',
        '/api/v1/roles',
        { name: 'Token auditor', permissions: ['tokens.read', 'tenant.read'] },
        201,
      );
      await ok(roleAdmin, 'POST', '/api/v1/role-assignments', { role: mine.id, principalKind: 'user', principalId: user.id }, 201);
      const minted = await ok<{ token: string; role: string; roleName: string }>(
        roleAdmin,
        'POST',
        '/api/v1/api-tokens',
        { role: mine.id },
        201,
      );
      assert.equal(minted.roleName, 'Token auditor');
      // A scoped admin cannot grant over every object.
      const scopedHelpDesk = await tokenWith('Tenant Administrator', ['emea']);
      const wide = await call(scopedHelpDesk, 'POST', '/api/v1/api-tokens', { role: 'Read Only Operator' });
      assert.equal(wide.statusCode, 403);
      await ok(scopedHelpDesk, 'POST', '/api/v1/api-tokens', { role: 'Read Only Operator', scopeTags: ['emea'] }, 201);
    });

    test('GET /me/permissions names the caller, its permissions and its grants with their scope', async () => {
      const token = await tokenWith('Help Desk Operator', ['emea', 'apac']);
      const me = await ok<{ actor: { type: string }; tenantId: string; permissions: string[]; grants: { scopeTags: string[] | null }[] }>(
        token,
        'GET',
        '/api/v1/me/permissions',
      );
      assert.equal(me.actor.type, 'apiToken');
      assert.equal(me.tenantId, gb.tenantId);
      assert.deepEqual([...me.permissions].sort(), [...BUILT_IN_ROLES['Help Desk Operator']].sort());
      assert.deepEqual(me.grants[0]?.scopeTags, ['apac', 'emea']);
      assert.equal((await h.app.inject({ url: '/api/v1/me/permissions' })).statusCode, 401);
    });

    test('API tokens through the API: create with a custom role and scope, list without secrets, revoke; audited', async () => {
      const role = await ok<{ id: string }>(gb.adminToken, 'POST', '/api/v1/roles', { name: 'Auditors', permissions: ['audit.read'] }, 201);
      const created = await ok<{ id: string; token: string; roleName: string; scopeTags: string[] | null; createdBy: string }>(
        gb.adminToken,
        'POST',
        '/api/v1/api-tokens',
        { role: role.id, name: 'SIEM export', scopeTags: ['emea'], expiresInDays: 30 },
        201,
      );
      assert.match(created.token, /^custos_api_/);
      assert.equal(created.roleName, 'Auditors');
      assert.deepEqual(created.scopeTags, ['emea']);
      assert.match(created.createdBy, /^apiToken:/);
      assert.equal(
        (await call(created.token, 'GET', '/api/v1/audit-events')).statusCode,
        200,
        'the custom role is resolved at authentication',
      );
      assert.equal((await call(created.token, 'GET', '/api/v1/devices')).statusCode, 403);
      const list = await call(gb.adminToken, 'GET', '/api/v1/api-tokens');
      assert.ok(!list.body.includes(created.token), 'no secret in the list');
      assert.ok(!list.body.includes('secretHash'));
      const listed = list.json<{ items: { id: string; lastUsedAt: string | null }[] }>().items.find((t) => t.id === created.id);
      assert.ok(listed?.lastUsedAt, 'the use was recorded');
      assert.equal((await call(us.adminToken, 'DELETE', `/api/v1/api-tokens/${created.id}`)).statusCode, 404);
      await ok(gb.adminToken, 'DELETE', `/api/v1/api-tokens/${created.id}`, undefined, 204);
      assert.equal((await call(created.token, 'GET', '/api/v1/audit-events')).statusCode, 401);
      const bad = await call(gb.adminToken, 'POST', '/api/v1/api-tokens', { role: 'Emperor' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'validation-failed');
      const [event] = await auditOf('Create API token');
      assert.ok(event?.targets[0]?.modifiedProperties?.some((p) => p.name === 'scopeTags'));
      assert.equal((await auditOf('Revoke API token')).length >= 1, true);
    });

    test('a user created through the API with a token of their own: deactivation revokes the token', async () => {
      const user = await h.runtime.services.users.createUser(SYSTEM, gb.tenantId, {
        userName: 'leaver@gb.example',
        roles: ['Read Only Operator'],
      });
      const actor = {
        type: 'user' as const,
        id: user.id,
        name: user.userName,
        tenantId: gb.tenantId,
        sessionId: null,
        grants: [{ permissions: new Set(BUILT_IN_ROLES['Tenant Administrator']), scopeTags: null }],
      };
      const { token } = await h.runtime.services.apiTokens.create(actor, gb.tenantId, { role: 'Read Only Operator' });
      assert.equal((await call(token, 'GET', '/api/v1/devices')).statusCode, 200);
      await ok(gb.adminToken, 'PATCH', `/api/v1/users/${user.id}`, { active: false });
      assert.equal((await call(token, 'GET', '/api/v1/devices')).statusCode, 401);
    });

    test('scope tags: a Help Desk Operator scoped to emea sees and acts on only emea devices', async () => {
      const emea = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const us1 = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const untagged = await TestDevice.enroll(h.app, gb.enrollmentToken);
      await ok(gb.adminToken, 'PUT', `/api/v1/devices/${emea.id}/scope-tags`, { scopeTags: ['emea'] });
      await ok(gb.adminToken, 'PUT', `/api/v1/devices/${us1.id}/scope-tags`, { scopeTags: ['us'] });
      // An enrollment token's tags pass to the devices that enroll with it.
      const tagged = await ok<{ token: string; scopeTags: string[] }>(
        gb.adminToken,
        'POST',
        '/api/v1/enrollment-tokens',
        { ownership: 'corporate', scopeTags: ['emea'] },
        201,
      );
      assert.deepEqual(tagged.scopeTags, ['emea']);
      const enrolledEmea = await TestDevice.enroll(h.app, tagged.token);
      assert.deepEqual((await ok<{ scopeTags: string[] }>(gb.adminToken, 'GET', `/api/v1/devices/${enrolledEmea.id}`)).scopeTags, ['emea']);

      const data = await h.runtime.services.tenants.data(gb.tenantId);
      const helpDesk = await h.runtime.services.users.createUser(SYSTEM, gb.tenantId, { userName: 'helpdesk-emea@gb.example' });
      await h.runtime.services.roles.createAssignment(SYSTEM, gb.tenantId, {
        role: 'Help Desk Operator',
        principalKind: 'user',
        principalId: helpDesk.id,
        scopeTags: ['emea'],
      });
      const { grantsOfUser } = await import('../domain/identity/principals.js');
      const grants = await grantsOfUser(data, helpDesk.id);
      assert.deepEqual(grants[0]?.scopeTags, ['emea']);
      const scoped = await tokenWith('Help Desk Operator', ['emea']);

      const listed = await ok<{ items: { id: string }[] }>(scoped, 'GET', '/api/v1/devices?limit=500');
      assert.deepEqual(listed.items.map((d) => d.id).sort(), [emea.id, enrolledEmea.id].sort());
      assert.equal((await call(scoped, 'GET', `/api/v1/devices/${emea.id}`)).statusCode, 200);
      for (const other of [us1.id, untagged.id]) {
        assert.equal((await call(scoped, 'GET', `/api/v1/devices/${other}`)).statusCode, 404, 'outside the scope reads as absent');
        assert.equal((await call(scoped, 'POST', `/api/v1/devices/${other}/actions/lock`)).statusCode, 404);
        assert.equal((await call(scoped, 'GET', `/api/v1/devices/${other}/commands`)).statusCode, 404);
      }
      const locked = await call(scoped, 'POST', `/api/v1/devices/${emea.id}/actions/lock`);
      assert.equal(locked.statusCode, 202, locked.body);
      const bulk = await ok<{ commands: string[] }>(scoped, 'POST', '/api/v1/devices/actions/sync', { filter: {} }, 202);
      assert.equal(bulk.commands.length, 2, 'a bulk action reaches only the scope');
      // A scoped admin may not move a device out of its scope.
      const moved = await call(scoped, 'PUT', `/api/v1/devices/${emea.id}/scope-tags`, { scopeTags: ['us'] });
      assert.equal(moved.statusCode, 403);
      assert.deepEqual((await ok<{ scopeTags: string[] }>(gb.adminToken, 'GET', `/api/v1/devices/${emea.id}`)).scopeTags, ['emea']);
      // A tag is matched exactly: "_" and "." are not wildcards.
      await ok(gb.adminToken, 'PUT', `/api/v1/devices/${untagged.id}/scope-tags`, { scopeTags: ['emeaxx'] });
      const underscore = await tokenWith('Read Only Operator', ['emea_x']);
      assert.deepEqual((await ok<{ items: unknown[] }>(underscore, 'GET', '/api/v1/devices')).items, []);
      assert.equal((await call(underscore, 'GET', `/api/v1/devices/${untagged.id}`)).statusCode, 404);
      const badTag = await call(gb.adminToken, 'PUT', `/api/v1/devices/${emea.id}/scope-tags`, { scopeTags: ['Not A Tag'] });
      assert.equal(badTag.statusCode, 400);
      assert.equal(badTag.json().code, 'validation-failed');
    });
  });
}
