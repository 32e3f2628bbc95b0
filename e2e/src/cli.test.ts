/** The `custos` command line as a user runs it: --help everywhere, --json shapes, clear refusals. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '@custos/server/test-support/backends';
import { AGENT_BIN, CUSTOS_BIN, runCommand, runJson, backendEnvPerSuite } from './support/processes.js';

test('every command answers --help with exit 0', async () => {
  const commands = [
    [],
    ['serve'],
    ['migrate'],
    ['tenant', 'create'],
    ['tenant', 'list'],
    ['tenant', 'show'],
    ['token', 'create'],
    ['token', 'list'],
    ['token', 'revoke'],
    ['enrollment-token', 'create'],
  ];
  for (const args of commands) {
    const r = await runCommand(CUSTOS_BIN, [...args, '--help'], process.env);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /Usage: custos/);
  }
  for (const args of [[], ['enroll'], ['sync'], ['run'], ['status'], ['unenroll']]) {
    const r = await runCommand(AGENT_BIN, [...args, '--help'], process.env);
    assert.equal(r.code, 0, `agent ${args.join(' ')}`);
    assert.match(r.stdout, /Usage: custos-agent/);
  }
});

for (const { name, create } of BACKENDS) {
  describe(`custos CLI on ${name}`, () => {
    let env: NodeJS.ProcessEnv;
    backendEnvPerSuite(create, (started) => ({ env } = started));

    test('tenant, token and enrollment-token commands print the contract JSON', async () => {
      const tenant = await runJson<{ tenantId: string; region: string }>(
        CUSTOS_BIN,
        ['tenant', 'create', '--name', 'Zeta GmbH', '--country', 'DE', '--admin-email', 'it@zeta.example'],
        env,
      );
      assert.match(tenant.tenantId, /^[0-9a-f-]{36}$/);
      assert.equal(tenant.region, 'eu');
      const token = await runJson<{ token: string }>(
        CUSTOS_BIN,
        ['token', 'create', '--tenant', tenant.tenantId, '--role', 'Tenant Administrator'],
        env,
      );
      assert.match(token.token, /^custos_api_/);
      const enrollment = await runJson<{ token: string; ownership: string }>(
        CUSTOS_BIN,
        ['enrollment-token', 'create', '--tenant', tenant.tenantId, '--ownership', 'personal'],
        env,
      );
      assert.match(enrollment.token, /^custos_enr_/);
      assert.equal(enrollment.ownership, 'personal');
      const list = await runJson<{ items: { tenantId: string }[] }>(CUSTOS_BIN, ['tenant', 'list'], env);
      assert.ok(list.items.some((t) => t.tenantId === tenant.tenantId));
      const shown = await runJson<{ country: string; region: string }>(CUSTOS_BIN, ['tenant', 'show', tenant.tenantId], env);
      assert.equal(shown.country, 'DE');
      const tokens = await runJson<{ items: { id: string }[] }>(CUSTOS_BIN, ['token', 'list', '--tenant', tenant.tenantId], env);
      assert.equal(tokens.items.length, 1);
      assert.equal(JSON.stringify(tokens).includes(token.token), false, 'a token secret is never shown again');
    });

    test('bad input is refused with a clear message and a non-zero exit', async () => {
      const cases: [string[], RegExp][] = [
        [['tenant', 'create', '--name', 'X', '--country', 'ZZ'], /country code/],
        [['tenant', 'create', '--country', 'GB'], /--name/],
        [['tenant', 'create', '--name', 'X', '--country', 'GB', '--admin-email', 'nope'], /email/],
        [['token', 'create', '--tenant', '00000000-0000-4000-8000-000000000000', '--role', 'Tenant Administrator'], /No tenant/],
        [['token', 'create', '--tenant', 'x', '--role', 'Overlord'], /Allowed choices/],
        [['enrollment-token', 'create', '--tenant', 'x', '--ownership', 'stolen'], /Allowed choices/],
        [['enrollment-token', 'create', '--tenant', 'x', '--ownership', 'corporate', '--max-uses', '0'], /at least 1/],
        [['tenant', 'frobnicate'], /unknown command/],
      ];
      for (const [args, message] of cases) {
        const r = await runCommand(CUSTOS_BIN, args, env);
        assert.notEqual(r.code, 0, args.join(' '));
        assert.match(r.stderr, message, args.join(' '));
      }
    });
  });
}
