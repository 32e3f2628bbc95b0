/**
 * `custos operator create` and `custos access-review` as an operator of the deployment runs them, on
 * both dialects: the operator's secrets are printed once, the review lists the tenant's token with
 * its role, `--revoke` revokes it, `--record` writes the review into the tenant's audit log, and bad
 * usage exits 2.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '@custos/server/test-support/backends';
import { CUSTOS_BIN, runCommand, runJson, backendEnvPerSuite } from './support/processes.js';

interface Principal {
  kind: string;
  id: string;
  name: string;
  tenantId: string | null;
  grants: { role: string; scopeTags: string[] | null }[];
}

for (const { name, create } of BACKENDS) {
  describe(`custos operator and access-review commands on ${name}`, () => {
    let env: NodeJS.ProcessEnv;
    backendEnvPerSuite(create, (started) => ({ env } = started));

    test('operator create prints its secrets once; access-review lists, revokes and records', async () => {
      const operator = await runJson<{
        operatorId: string;
        email: string;
        initialPassword: string;
        totpSecret: string;
        otpauthUri: string;
      }>(CUSTOS_BIN, ['operator', 'create', '--email', 'Ops@Example.com', '--json'], env);
      assert.equal(operator.email, 'ops@example.com');
      assert.match(operator.totpSecret, /^[A-Z2-7]{32}$/);
      assert.match(operator.otpauthUri, /^otpauth:\/\/totp\/.*secret=/);
      const again = await runCommand(CUSTOS_BIN, ['operator', 'create', '--email', 'ops@example.com'], env);
      assert.equal(again.code, 1, 'an operator email is unique');

      const tenant = await runJson<{ tenantId: string }>(
        CUSTOS_BIN,
        ['tenant', 'create', '--name', 'Acme', '--country', 'DE', '--json'],
        env,
      );
      const token = await runJson<{ id: string }>(
        CUSTOS_BIN,
        ['token', 'create', '--tenant', tenant.tenantId, '--role', 'Help Desk Operator', '--name', 'helpdesk bot', '--json'],
        env,
      );

      const review = await runJson<{ principals: Principal[] }>(CUSTOS_BIN, ['access-review', '--json'], env);
      const listedOperator = review.principals.find((p) => p.kind === 'operator');
      assert.equal(listedOperator?.id, operator.operatorId);
      assert.deepEqual(listedOperator.grants, [], 'no lockbox grant, no access to any tenant');
      const listedToken = review.principals.find((p) => p.id === token.id);
      assert.equal(listedToken?.tenantId, tenant.tenantId);
      assert.equal(listedToken?.grants[0]?.role, 'Help Desk Operator');

      const usage = await runCommand(CUSTOS_BIN, ['access-review', '--record'], env);
      assert.equal(usage.code, 2, '--record without --reviewer is bad usage');

      const recorded = await runJson<{ revoked: { id: string; kind: string }[]; recordedReviewId: string; principals: Principal[] }>(
        CUSTOS_BIN,
        ['access-review', '--revoke', token.id, '--record', '--reviewer', 'Dana Auditor', '--json'],
        env,
      );
      assert.deepEqual(
        recorded.revoked.map((r) => [r.id, r.kind]),
        [[token.id, 'apiToken']],
      );
      assert.ok(!recorded.principals.some((p) => p.id === token.id), 'the revoked token is gone from the review');
      assert.match(recorded.recordedReviewId, /^[0-9a-f-]{36}$/);
      const unknown = await runCommand(CUSTOS_BIN, ['access-review', '--revoke', '00000000-0000-4000-8000-000000000000'], env);
      assert.equal(unknown.code, 1);

      const verdict = await runJson<{ intact: boolean; events: number }>(
        CUSTOS_BIN,
        ['audit', 'verify', '--tenant', tenant.tenantId, '--json'],
        env,
      );
      assert.equal(verdict.intact, true);
      assert.ok(verdict.events >= 3, 'token created, token revoked, review recorded');
    });
  });
}
