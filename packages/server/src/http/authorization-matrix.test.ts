/**
 * The authorization matrix (issue 3 acceptance), on SQLite and PostgreSQL. It reads the OpenAPI
 * document and calls EVERY operation under /api/v1/ that has a security requirement, so a new route
 * is covered the moment it is registered:
 *
 * - every admin operation must declare the permission it needs (`config: { permission }`, published
 *   as `x-custos-permission`); an undeclared one fails the first test;
 * - no credential, an expired token and a revoked token get 401 everywhere;
 * - a valid token of ANOTHER tenant gets 403/404 on the first tenant's objects and never sees any of
 *   the first tenant's data;
 * - every built-in role, a custom role and an operator under an approved lockbox request get 403
 *   exactly where they lack the declared permission, and never 401/403 where they hold it;
 * - an operator without an approved lockbox request gets 403 everywhere, and each attempt is in the
 *   tenant's audit log;
 * - none of the refused calls changed anything of the first tenant (every row of every region table
 *   of the tenant, the audit log included, is compared before and after).
 *
 * Path parameters name real objects of the first tenant (by the collection they follow); request
 * bodies come from the operation's JSON schema, or from `bodyFor` where a valid body needs more (a
 * unique name, a reference). A new route whose body the generic sample cannot satisfy fails with
 * `400` instead of `403` for a refused role: give it a body in `bodyFor`.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { BUILT_IN_ROLES, type Permission } from '@custos/shared';
import { hashSecret, newSecret } from '../domain/secrets.js';
import { totpCodeAt } from '../domain/identity/totp.js';
import { BACKENDS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, SYSTEM, type Harness } from '../test-support/harness.js';
import { TestDevice } from '../test-support/test-device.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Declared = Permission | 'authenticated' | 'self' | 'operator' | { param: string; values: Record<string, Permission> };

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  minimum?: number;
  minItems?: number;
  pattern?: string;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
  $ref?: string;
}

interface Operation {
  method: Method;
  /** OpenAPI path template, e.g. /api/v1/devices/{id}. */
  path: string;
  security: string[];
  declared: Declared | undefined;
  parameters: { name: string; in: string; required?: boolean; schema?: JsonSchema }[];
  body: JsonSchema | undefined;
}

interface Call {
  url: string;
  payload: unknown;
  /** The permission this call needs, resolved from the declaration and the chosen parameters. */
  needs: Permission | 'authenticated' | 'self' | 'operator' | 'device' | 'session' | undefined;
  /** True when the URL names an object of the first tenant. */
  namesObject: boolean;
}

interface Caller {
  name: string;
  headers: Record<string, string>;
  /** The permissions the caller holds in the first tenant (all-scope). */
  permissions: ReadonlySet<Permission>;
}

const ROLE_FOR_ACTION = 'lock';

/** A value that passes the JSON schema (enough for validation; the services judge the rest). */
function sample(schema: JsonSchema | undefined, key = ''): unknown {
  if (!schema) return {};
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => sample(s, key)));
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return sample(branches.find((b) => b.type !== 'null') ?? branches[0], key);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type ?? '') {
    case 'object': {
      const value: Record<string, unknown> = {};
      for (const name of schema.required ?? []) value[name] = sample(schema.properties?.[name], name);
      return value;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items, key));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'string':
      switch (schema.format ?? '') {
        case 'uuid':
          return randomUUID();
        case 'email':
          return 'matrix@example.com';
        case 'date-time':
          return new Date().toISOString();
        case 'uri':
          return 'https://example.com/';
        default: {
          const plain = 'm'.repeat(Math.max(schema.minLength ?? 1, key ? 8 : 1));
          if (!schema.pattern) return plain;
          const pattern = new RegExp(schema.pattern);
          return [plain, '000000', 'matrix', 'a', '0', randomUUID()].find((c) => pattern.test(c)) ?? plain;
        }
      }
    default:
      return {};
  }
}

for (const { name, create } of BACKENDS) {
  describe(`authorization matrix on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));

    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    let operations: Operation[] = [];
    const ids: Record<string, string> = {};
    /** Strings only the first tenant's data contains (names, serials): none may reach another tenant. */
    const markers: string[] = [];
    const callers: Caller[] = [];
    let noCredential: Caller;
    let expired: Caller;
    let revoked: Caller;
    let otherTenant: Caller;
    let operatorWithoutLockbox: Caller;
    let unique = 0;

    const tokenFor = async (role: string): Promise<string> =>
      (await h.runtime.services.apiTokens.create(SYSTEM, a.tenantId, { role })).token;

    async function signInOperator(email: string): Promise<{ cookie: string; csrf: string; id: string }> {
      const created = await h.runtime.services.operators.create(email);
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/v1/operator/login',
        payload: { email, password: created.initialPassword, totpCode: await totpCodeAt(created.totpSecret, Date.now()) },
      });
      assert.equal(res.statusCode, 200, res.body);
      const cookie = res.cookies.find((c) => c.name === 'custos_operator_session');
      assert.ok(cookie, 'the operator session cookie is set');
      assert.equal(cookie.httpOnly, true);
      return { cookie: cookie.value, csrf: res.json<{ csrfToken: string }>().csrfToken, id: created.operator.id };
    }

    before(async () => {
      a = await seedTenant(h, 'GB');
      b = await seedTenant(h, 'US');
      const s = h.runtime.services;
      const device = await TestDevice.enroll(h.app, a.enrollmentToken);
      ids['device'] = device.id;
      ids['command'] = (await s.commands.enqueue(SYSTEM, a.tenantId, device.id, 'sync')).id;
      const user = await s.users.createUser(SYSTEM, a.tenantId, { userName: 'matrix-user@a.example' });
      ids['user'] = user.id;
      ids['group'] = (await s.users.createGroup(SYSTEM, a.tenantId, { displayName: 'Matrix group A', members: [user.id] })).id;
      // A role every role holding roles.write or tokens.write may grant (the escalation guard allows it).
      ids['grantableRole'] = (await s.roles.createRole(SYSTEM, a.tenantId, { name: 'Matrix grantable', permissions: ['tenant.read'] })).id;
      ids['role'] = (await s.roles.createRole(SYSTEM, a.tenantId, { name: 'Matrix victim role', permissions: ['tenant.read'] })).id;
      ids['assignment'] = (
        await s.roles.createAssignment(SYSTEM, a.tenantId, { role: ids['grantableRole'], principalKind: 'user', principalId: user.id })
      ).id;
      ids['apiToken'] = (
        await s.apiTokens.create(SYSTEM, a.tenantId, { role: 'Read Only Operator', name: 'Matrix victim token' })
      ).record.id;
      ids['enrollmentToken'] = (
        await s.enrollment.createToken(SYSTEM, a.tenantId, { ownership: 'corporate', description: 'Matrix victim' })
      ).record.id;
      ids['policy'] = (
        await s.compliance.create(SYSTEM, a.tenantId, { name: 'Matrix policy A', settings: { requireEncryption: true } })
      ).id;
      const profile = await h.app.inject({
        method: 'POST',
        url: '/api/v1/configuration-profiles',
        headers: { authorization: `Bearer ${a.adminToken}` },
        payload: {
          name: 'Matrix profile A',
          kind: 'wifi',
          wifi: { ssid: 'MatrixA', security: 'wpa2-personal', passphrase: 'correct horse battery' },
        },
      });
      assert.equal(profile.statusCode, 201, profile.body);
      ids['profile'] = profile.json<{ id: string }>().id;
      markers.push(
        a.tenantId,
        'matrix-user@a.example',
        'Matrix group A',
        'Matrix victim role',
        'Matrix grantable',
        'Matrix policy A',
        'Matrix profile A',
        'Matrix victim token',
        'MatrixA',
      );
      for (const id of Object.values(ids)) markers.push(id);

      // Callers: each built-in role, a custom role, an operator under lockbox; and the refused ones.
      for (const role of Object.keys(BUILT_IN_ROLES)) {
        callers.push({
          name: role,
          headers: { authorization: `Bearer ${await tokenFor(role)}` },
          permissions: new Set(BUILT_IN_ROLES[role as keyof typeof BUILT_IN_ROLES]),
        });
      }
      const customPermissions: Permission[] = ['devices.read', 'devices.lock', 'audit.read', 'users.read'];
      const custom = await s.roles.createRole(SYSTEM, a.tenantId, { name: 'Matrix custom caller', permissions: customPermissions });
      callers.push({
        name: 'custom role',
        headers: { authorization: `Bearer ${await tokenFor(custom.id)}` },
        permissions: new Set(customPermissions),
      });

      const withLockbox = await signInOperator('lockbox-operator@ops.example');
      const approved = await s.lockbox.request(
        (await s.operators.get(withLockbox.id))!,
        { tenantId: a.tenantId, reason: 'Investigating a support ticket', durationMinutes: 60 },
        { ip: null, correlationId: null },
      );
      await s.lockbox.approve(SYSTEM, a.tenantId, approved.id);
      callers.push({
        name: 'operator under lockbox',
        headers: {
          cookie: `custos_operator_session=${withLockbox.cookie}`,
          'x-custos-tenant': a.tenantId,
          'x-csrf-token': withLockbox.csrf,
        },
        permissions: new Set(BUILT_IN_ROLES['Read Only Operator']),
      });
      const withoutLockbox = await signInOperator('plain-operator@ops.example');
      // A pending request of this operator is the object the approve/deny routes are called on.
      ids['accessRequest'] = (
        await s.lockbox.request(
          (await s.operators.get(withoutLockbox.id))!,
          { tenantId: a.tenantId, reason: 'Pending request for the matrix', durationMinutes: 30 },
          { ip: null, correlationId: null },
        )
      ).id;
      operatorWithoutLockbox = {
        name: 'operator without lockbox',
        headers: {
          cookie: `custos_operator_session=${withoutLockbox.cookie}`,
          'x-custos-tenant': a.tenantId,
          'x-csrf-token': withoutLockbox.csrf,
        },
        permissions: new Set(),
      };

      noCredential = { name: 'no credential', headers: {}, permissions: new Set() };
      const data = await s.tenants.data(a.tenantId);
      const old = newSecret('api', a.tenantId);
      await data.apiTokens.insert({
        id: randomUUID(),
        name: 'expired',
        role: 'Tenant Administrator',
        secretHash: hashSecret(old.secret),
        createdAt: Date.now() - 2 * 86_400_000,
        expiresAt: Date.now() - 86_400_000,
        revokedAt: null,
        lastUsedAt: null,
        scopeTags: null,
        createdBy: 'cli',
      });
      expired = { name: 'expired token', headers: { authorization: `Bearer ${old.secret}` }, permissions: new Set() };
      const gone = await s.apiTokens.create(SYSTEM, a.tenantId, { role: 'Tenant Administrator' });
      await s.apiTokens.revoke(SYSTEM, a.tenantId, gone.record.id);
      revoked = { name: 'revoked token', headers: { authorization: `Bearer ${gone.token}` }, permissions: new Set() };
      otherTenant = { name: 'another tenant', headers: { authorization: `Bearer ${b.adminToken}` }, permissions: new Set() };

      const doc = await h.app.inject({ url: '/api/v1/openapi.json' });
      assert.equal(doc.statusCode, 200);
      const paths = doc.json<{ paths: Record<string, Record<string, Record<string, unknown>>> }>().paths;
      operations = [];
      for (const [path, item] of Object.entries(paths)) {
        if (!path.startsWith('/api/v1/')) continue;
        for (const [method, op] of Object.entries(item)) {
          const security = (op['security'] as Record<string, unknown>[] | undefined) ?? [];
          const schemes = security.flatMap((s) => Object.keys(s));
          if (schemes.length === 0) continue;
          const content = (op['requestBody'] as { content?: Record<string, { schema?: JsonSchema }> } | undefined)?.content;
          operations.push({
            method: method.toUpperCase() as Method,
            path,
            security: schemes,
            declared: op['x-custos-permission'] as Declared | undefined,
            parameters: (op['parameters'] as Operation['parameters'] | undefined) ?? [],
            body: content?.['application/json']?.schema,
          });
        }
      }
      // Destructive calls last, so reads see the objects first (the verdicts do not depend on it).
      operations.sort((x, y) => Number(x.method === 'DELETE') - Number(y.method === 'DELETE'));
    });

    /** The object a path parameter names, by the collection it follows. */
    function objectId(path: string, param: string): string | undefined {
      const before = path.slice(0, path.indexOf(`{${param}}`));
      if (param === 'commandId') return ids['command'];
      const collection = before.split('/').filter(Boolean).at(-1);
      const byCollection: Record<string, string | undefined> = {
        devices: ids['device'],
        users: ids['user'],
        groups: ids['group'],
        roles: ids['role'],
        'role-assignments': ids['assignment'],
        'api-tokens': ids['apiToken'],
        'enrollment-tokens': ids['enrollmentToken'],
        'compliance-policies': ids['policy'],
        'configuration-profiles': ids['profile'],
        'access-requests': ids['accessRequest'],
      };
      return collection === undefined ? undefined : byCollection[collection];
    }

    /** Bodies the generic sample cannot guess (names that must be unique, references to objects). */
    function bodyFor(op: Operation): unknown {
      unique++;
      const key = `${op.method} ${op.path}`;
      switch (key) {
        case 'POST /api/v1/users':
          return { userName: `matrix-new-${unique}@a.example` };
        case 'PATCH /api/v1/users/{id}':
          return { displayName: `Matrix ${unique}` };
        case 'POST /api/v1/groups':
          return { displayName: `Matrix new group ${unique}` };
        case 'PATCH /api/v1/groups/{id}':
          return { description: `changed ${unique}` };
        case 'POST /api/v1/roles':
          return { name: `Matrix new role ${unique}`, permissions: ['tenant.read'] };
        case 'PATCH /api/v1/roles/{id}':
          return { description: `changed ${unique}` };
        case 'POST /api/v1/role-assignments':
          return { role: ids['grantableRole'], principalKind: 'group', principalId: ids['group'], scopeTags: null };
        case 'POST /api/v1/api-tokens':
          return { role: ids['grantableRole'], name: `matrix ${unique}` };
        case 'PUT /api/v1/devices/{id}/scope-tags':
          return { scopeTags: ['matrix'] };
        case 'POST /api/v1/devices/actions/{action}':
          return { deviceIds: [ids['device']] };
        case 'POST /api/v1/compliance-policies':
          return { name: `Matrix policy ${unique}`, settings: {} };
        case 'PUT /api/v1/compliance-policies/{id}':
          return { name: `Matrix policy changed ${unique}`, settings: {} };
        case 'POST /api/v1/configuration-profiles':
        case 'PUT /api/v1/configuration-profiles/{id}':
          return {
            name: `Matrix profile ${unique}`,
            kind: 'wifi',
            wifi: { ssid: `M${unique}`, security: 'wpa2-personal', passphrase: 'correct horse battery' },
          };
        case 'PUT /api/v1/compliance-policies/{id}/assignments':
        case 'PUT /api/v1/configuration-profiles/{id}/assignments':
          return { assignments: [] };
        case 'POST /api/v1/enrollment-tokens':
          return { ownership: 'corporate' };
        default:
          return op.body ? sample(op.body) : undefined;
      }
    }

    function callFor(op: Operation): Call {
      let url = op.path;
      let namesObject = false;
      const chosen: Record<string, string> = {};
      for (const p of op.parameters.filter((q) => q.in === 'path')) {
        let value: string;
        if (p.schema?.enum) value = p.schema.enum.includes(ROLE_FOR_ACTION) ? ROLE_FOR_ACTION : String(p.schema.enum[0]);
        else {
          const id = objectId(op.path, p.name);
          namesObject ||= id !== undefined;
          value = id ?? (p.schema?.format === 'uuid' ? randomUUID() : 'matrix');
        }
        chosen[p.name] = value;
        url = url.replace(`{${p.name}}`, encodeURIComponent(value));
      }
      const query = op.parameters.filter((q) => q.in === 'query' && q.required);
      if (query.length)
        url += `?${query.map((q) => `${q.name}=${encodeURIComponent(q.name === 'tenantId' ? a.tenantId : String(sample(q.schema)))}`).join('&')}`;
      let needs: Call['needs'];
      if (op.security.includes('deviceSession')) needs = 'device';
      // The portal's own session routes (sign-out, MFA enrolment, …) take the session cookie only.
      else if (op.security.includes('session') && !op.security.includes('bearer')) needs = 'session';
      else if (typeof op.declared === 'object') needs = op.declared.values[chosen[op.declared.param] ?? ''];
      else needs = op.declared;
      return { url, payload: bodyFor(op), needs, namesObject };
    }

    const invoke = (op: Operation, call: Call, caller: Caller) =>
      h.app.inject({
        method: op.method,
        url: call.url,
        headers: caller.headers,
        ...(call.payload === undefined ? {} : { payload: call.payload as object }),
      });

    /** Every row of the first tenant in every region table (what a refused call must not change). */
    async function snapshotOfA(withoutAudit = false): Promise<string> {
      const db = h.runtime.storage.inspectRegionStore(a.region);
      const tables =
        name === 'sqlite'
          ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(db)).rows.map(
              (r) => r.name,
            )
          : (
              await sql<{ name: string }>`select table_name as name from information_schema.columns
                where table_schema = 'public' and column_name = 'tenant_id' order by table_name`.execute(db)
            ).rows.map((r) => r.name);
      const parts: string[] = [];
      for (const table of tables) {
        // An operator's every call inside the tenant is audited (and bumps its request's last access).
        if (withoutAudit && (table === 'audit_events' || table === 'audit_chain_heads')) continue;
        let rows: Record<string, unknown>[];
        try {
          rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)} where tenant_id = ${a.tenantId}`.execute(db)).rows;
        } catch {
          continue; // a table without tenant_id (SQLite's list includes them)
        }
        // Recorded uses of a credential are not changes of the tenant's data.
        const ignored = new Set(['last_used_at', 'last_seen_at', ...(withoutAudit ? ['last_access_at'] : [])]);
        const cleaned = rows.map((r) => JSON.stringify(Object.entries(r).filter(([k]) => !ignored.has(k))));
        parts.push(`${table}:${cleaned.sort().join('|')}`);
      }
      return parts.join('\n');
    }

    const describeOp = (op: Operation) => `${op.method} ${op.path}`;

    test('the OpenAPI document lists the admin API, and every admin operation declares its permission', () => {
      assert.ok(operations.length >= 40, `only ${operations.length} secured operations found`);
      for (const expected of [
        'GET /api/v1/users',
        'POST /api/v1/role-assignments',
        'GET /api/v1/me/permissions',
        'DELETE /api/v1/api-tokens/{id}',
        'GET /api/v1/devices',
      ]) {
        assert.ok(
          operations.some((op) => describeOp(op) === expected),
          `${expected} is in the document`,
        );
      }
      const undeclared = operations.filter((op) => op.security.includes('bearer') && op.declared === undefined).map(describeOp);
      assert.deepEqual(undeclared, [], 'admin routes without `config: { permission }`');
    });

    test('no credential, an expired token, a revoked token and another tenant change nothing and see nothing of the tenant', async () => {
      const before = await snapshotOfA();
      const failures: string[] = [];
      for (const op of operations) {
        for (const caller of [noCredential, expired, revoked]) {
          const call = callFor(op);
          const res = await invoke(op, call, caller);
          const expectedStatus = call.needs === 'device' ? [401, 426] : [401];
          if (!expectedStatus.includes(res.statusCode))
            failures.push(`${caller.name} ${describeOp(op)}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        }
        const call = callFor(op);
        const res = await invoke(op, call, otherTenant);
        if (call.needs === 'device') {
          if (![401, 426].includes(res.statusCode)) failures.push(`another tenant ${describeOp(op)}: ${res.statusCode}`);
          continue;
        }
        if (call.namesObject && call.needs !== 'operator' && ![403, 404].includes(res.statusCode)) {
          failures.push(`another tenant ${describeOp(op)} on the tenant's object: ${res.statusCode} ${res.body.slice(0, 200)}`);
        }
        if ((call.needs === 'operator' || call.needs === 'session') && res.statusCode !== 401) {
          failures.push(`another tenant ${describeOp(op)} (${call.needs} route): ${res.statusCode}`);
        }
        const sent = `${call.url} ${JSON.stringify(call.payload ?? null)}`;
        const leaked = markers.filter((m) => res.body.includes(m) && !sent.includes(m));
        if (leaked.length) failures.push(`another tenant ${describeOp(op)} saw ${leaked.join(', ')}`);
      }
      assert.deepEqual(failures, []);
      assert.equal(await snapshotOfA(), before, 'refused calls changed the tenant');
    });

    test('every role is refused exactly where it lacks the permission, and refused calls change nothing', async () => {
      const failures: string[] = [];
      let refusals = 0;
      const refuse = async (group: Caller[]) => {
        for (const op of operations) {
          for (const caller of group) {
            const call = callFor(op);
            if (
              call.needs === 'device' ||
              call.needs === 'operator' ||
              call.needs === 'session' ||
              call.needs === 'authenticated' ||
              call.needs === undefined
            )
              continue;
            // `self` routes are a signed-in user's own (Company Portal): no token and no operator may use them.
            if (call.needs !== 'self' && caller.permissions.has(call.needs)) continue;
            refusals++;
            const res = await invoke(op, call, caller);
            if (res.statusCode !== 403)
              failures.push(`${caller.name} ${describeOp(op)} without ${call.needs}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          }
        }
      };
      const before = await snapshotOfA();
      await refuse(callers.filter((c) => !c.name.startsWith('operator')));
      assert.equal(await snapshotOfA(), before, 'refused calls changed the tenant');
      // The operator's refused calls are audited accesses; nothing else of the tenant may change.
      const beforeOperator = await snapshotOfA(true);
      await refuse(callers.filter((c) => c.name.startsWith('operator')));
      assert.equal(await snapshotOfA(true), beforeOperator, "the operator's refused calls changed the tenant");
      assert.deepEqual(failures, []);
      assert.ok(refusals > 100, `only ${refusals} refusals exercised`);
    });

    test('an operator without an approved lockbox request gets nothing, and every attempt is in the tenant log', async () => {
      const failures: string[] = [];
      let attempts = 0;
      for (const op of operations) {
        const call = callFor(op);
        if (call.needs === 'device' || call.needs === 'operator') continue;
        if (call.needs === 'session') {
          const res = await invoke(op, call, operatorWithoutLockbox);
          if (res.statusCode !== 401) failures.push(`${describeOp(op)} (session route): ${res.statusCode}`);
          continue;
        }
        attempts++;
        const res = await invoke(op, call, operatorWithoutLockbox);
        if (res.statusCode !== 403) failures.push(`${describeOp(op)}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        const leaked = markers.filter((m) => res.body.includes(m) && m !== a.tenantId && !call.url.includes(m));
        if (leaked.length) failures.push(`${describeOp(op)} saw ${leaked.join(', ')}`);
      }
      assert.deepEqual(failures, []);
      const refused = await h.runtime.services.audit.list(SYSTEM, a.tenantId, { activity: 'Lockbox access refused' }, { limit: 500 });
      assert.equal(refused.items.length, attempts, 'each refused attempt is audited');
      assert.ok(refused.items.every((e) => e.result === 'failure' && e.actor.type === 'operator'));
    });

    test('every role, a custom role and an operator under lockbox are allowed wherever they hold the permission', async () => {
      const failures: string[] = [];
      let allowed = 0;
      for (const op of operations) {
        for (const caller of callers) {
          const call = callFor(op);
          if (call.needs === 'device' || call.needs === undefined) continue;
          if (call.needs === 'operator' || call.needs === 'session') {
            // Operator-only routes take the operator cookie, the portal's session routes the session
            // cookie; neither takes an API token (and an operator is not a tenant user).
            if (call.needs === 'operator' && caller.name.startsWith('operator')) continue;
            const res = await invoke(op, call, caller);
            if (res.statusCode !== 401) failures.push(`${caller.name} ${describeOp(op)} (${call.needs} route): ${res.statusCode}`);
            continue;
          }
          if (call.needs === 'self' || (call.needs !== 'authenticated' && !caller.permissions.has(call.needs))) continue;
          allowed++;
          const res = await invoke(op, call, caller);
          if (res.statusCode === 401 || res.statusCode === 403) {
            failures.push(`${caller.name} ${describeOp(op)} with ${call.needs}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          }
        }
      }
      assert.deepEqual(failures, []);
      assert.ok(allowed > 100, `only ${allowed} allowed calls exercised`);
      const accesses = await h.runtime.services.audit.list(SYSTEM, a.tenantId, { activity: 'Lockbox access' }, { limit: 500 });
      assert.ok(accesses.items.length > 0, "the lockbox operator's calls are in the tenant's audit log");
    });
  });
}
