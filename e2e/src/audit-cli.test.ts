/**
 * `custos user create`, `tenant create --admin-email` and `custos audit verify` as an operator runs
 * them: the contract exit codes, and a tampered row named by the verifier on both dialects.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, type TestBackend } from '@custos/server/test-support/backends';
import { withRegionStore } from '@custos/server/test-support/inspect';
import { CUSTOS_BIN, runCommand, runJson, backendEnvPerSuite } from './support/processes.js';

for (const { name, create } of BACKENDS) {
  describe(`custos user and audit commands on ${name}`, () => {
    let backend: TestBackend;
    let env: NodeJS.ProcessEnv;
    backendEnvPerSuite(create, (started) => ({ backend, env } = started));

    test('tenant create makes the first admin; user create; audit verify passes, then names a tampered event', async () => {
      const tenant = await runJson<{ tenantId: string; region: string; adminUserName: string; adminInitialPassword: string }>(
        CUSTOS_BIN,
        ['tenant', 'create', '--name', 'Acme Ltd', '--country', 'GB', '--admin-email', 'it@acme.example'],
        env,
      );
      assert.equal(tenant.adminUserName, 'it@acme.example');
      assert.ok(tenant.adminInitialPassword.length >= 16);

      const user = await runJson<{ userId: string; initialPassword: string }>(
        CUSTOS_BIN,
        ['user', 'create', '--tenant', tenant.tenantId, '--user-name', 'helpdesk@acme.example', '--role', 'Help Desk Operator'],
        env,
      );
      assert.match(user.userId, /^[0-9a-f-]{36}$/);
      const duplicate = await runCommand(
        CUSTOS_BIN,
        ['user', 'create', '--tenant', tenant.tenantId, '--user-name', 'HELPDESK@acme.example'],
        env,
      );
      assert.equal(duplicate.code, 1);
      assert.match(duplicate.stderr, /already exists/);

      const ok = await runCommand(CUSTOS_BIN, ['audit', 'verify', '--tenant', tenant.tenantId], env);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /intact: 3 events/);

      const victim = await withRegionStore(backend, tenant.region, async (db) => {
        const row = await db
          .selectFrom('audit_events')
          .select(['id', 'sequence'])
          .where('tenant_id', '=', tenant.tenantId)
          .where('activity', '=', 'Create user')
          .orderBy('sequence')
          .executeTakeFirstOrThrow();
        await db
          .updateTable('audit_events')
          .set({ result: 'failure' })
          .where('tenant_id', '=', tenant.tenantId)
          .where('id', '=', row.id)
          .execute();
        return row;
      });
      const broken = await runCommand(CUSTOS_BIN, ['audit', 'verify', '--tenant', tenant.tenantId, '--json'], env);
      assert.equal(broken.code, 1);
      const verdict = JSON.parse(broken.stdout) as { intact: boolean; eventId: string; sequence: number; problem: string };
      assert.equal(verdict.intact, false);
      assert.equal(verdict.problem, 'altered');
      assert.equal(verdict.eventId, victim.id);
      assert.equal(verdict.sequence, victim.sequence);
      const human = await runCommand(CUSTOS_BIN, ['audit', 'verify', '--tenant', tenant.tenantId], env);
      assert.equal(human.code, 1);
      assert.match(human.stdout, new RegExp(`BROKEN \\(altered\\) at sequence ${victim.sequence}, event ${victim.id}`));
    });
  });
}
