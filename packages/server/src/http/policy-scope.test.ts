/**
 * Scope tags on compliance policies and configuration profiles, on SQLite and PostgreSQL: a Policy
 * and Profile Manager scoped to `emea` sees and changes only `emea` objects, creates only within its
 * scope, and finds everything else "not found".
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, SYSTEM, type Harness } from '../test-support/harness.js';

const wifi = (name: string, scopeTags?: string[]) => ({
  name,
  kind: 'wifi',
  wifi: { ssid: 'Office', security: 'wpa2-personal', passphrase: 'correct horse battery' },
  ...(scopeTags ? { scopeTags } : {}),
});
const policy = (name: string, scopeTags?: string[]) => ({
  name,
  settings: { requireEncryption: true },
  ...(scopeTags ? { scopeTags } : {}),
});

for (const { name, create } of BACKENDS) {
  describe(`policy and profile scope tags on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    let t: Awaited<ReturnType<typeof seedTenant>>;
    let emea: string;
    const call = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
      h.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

    before(async () => {
      t = await seedTenant(h, 'GB');
      emea = (await h.runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role: 'Policy and Profile Manager', scopeTags: ['emea'] }))
        .token;
    });

    for (const [kind, base, body] of [
      ['compliance policies', '/api/v1/compliance-policies', policy],
      ['configuration profiles', '/api/v1/configuration-profiles', wifi],
    ] as const) {
      test(`${kind}: a scoped manager sees, creates and changes only within its tags`, async () => {
        const global = await call(t.adminToken, 'POST', base, body(`${kind} global`));
        assert.equal(global.statusCode, 201, global.body);
        const globalId = global.json<{ id: string }>().id;
        const tagged = await call(t.adminToken, 'POST', base, body(`${kind} emea`, ['emea']));
        assert.equal(tagged.statusCode, 201, tagged.body);
        assert.deepEqual(tagged.json<{ scopeTags: string[] }>().scopeTags, ['emea']);
        const taggedId = tagged.json<{ id: string }>().id;

        const listed = (await call(emea, 'GET', base)).json<{ items: { id: string }[] }>().items.map((p) => p.id);
        assert.ok(listed.includes(taggedId));
        assert.ok(!listed.includes(globalId), 'an untagged object is for all-scope admins only');
        assert.equal((await call(emea, 'GET', `${base}/${globalId}`)).statusCode, 404);
        assert.equal((await call(emea, 'GET', `${base}/${taggedId}`)).statusCode, 200);

        // Creating: only inside the scope.
        assert.equal((await call(emea, 'POST', base, body(`${kind} untagged by emea`))).statusCode, 403);
        assert.equal((await call(emea, 'POST', base, body(`${kind} apac by emea`, ['apac']))).statusCode, 403);
        assert.equal((await call(emea, 'POST', base, body(`${kind} mine`, ['emea']))).statusCode, 201);

        // Changing: the global object is not there for it; re-tagging out of its scope is refused.
        assert.equal((await call(emea, 'PUT', `${base}/${globalId}`, body(`${kind} hijack`))).statusCode, 404);
        assert.equal((await call(emea, 'DELETE', `${base}/${globalId}`)).statusCode, 404);
        assert.equal(
          (await call(emea, 'PUT', `${base}/${globalId}/assignments`, { assignments: [{ target: 'allDevices', mode: 'include' }] }))
            .statusCode,
          404,
        );
        assert.equal((await call(emea, 'PUT', `${base}/${taggedId}`, body(`${kind} moved`, ['apac']))).statusCode, 403);
        const renamed = await call(emea, 'PUT', `${base}/${taggedId}`, body(`${kind} renamed`));
        assert.equal(renamed.statusCode, 200, renamed.body);
        assert.deepEqual(renamed.json<{ scopeTags: string[] }>().scopeTags, ['emea'], 'absent tags stay');

        // Nothing of the refused calls changed the global object.
        const stillGlobal = await call(t.adminToken, 'GET', `${base}/${globalId}`);
        assert.equal(stillGlobal.json<{ name: string; version: number }>().version, 1);
        assert.equal((await call(t.adminToken, 'POST', base, body(`${kind} bad tag`, ['Not A Tag!']))).statusCode, 400);
      });
    }
  });
}
