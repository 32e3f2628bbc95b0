/**
 * The lifecycle commands as an operator runs them, on both dialects: `custos tenant subscription`,
 * `custos lifecycle tick --now` catching up on every due transition down to the purge, `custos tenant
 * show` printing the tombstone's receipt, and `custos purge-receipt verify` passing on it and failing
 * (exit 1) once it is altered; bad usage exits 2 and changes nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS } from '@custos/server/test-support/backends';
import { CUSTOS_BIN, runCommand, runJson, backendEnvPerSuite } from './support/processes.js';

const DAY_MS = 24 * 60 * 60 * 1000;

for (const { name, create } of BACKENDS) {
  describe(`custos lifecycle commands on ${name}`, () => {
    let env: NodeJS.ProcessEnv;
    backendEnvPerSuite(create, (started) => ({ env } = started));

    test('a lapsed tenant is ticked to the purge; its receipt is shown and verifies, and an altered one does not', async () => {
      const tenant = await runJson<{ tenantId: string; region: string }>(
        CUSTOS_BIN,
        ['tenant', 'create', '--name', 'Leaving Ltd', '--country', 'FR', '--admin-email', 'it@leaving.example'],
        env,
      );
      const ends = new Date(Date.now() + DAY_MS).toISOString();
      const set = await runJson<{ state: string; subscriptionEndsAt: string; next: { state: string } }>(
        CUSTOS_BIN,
        ['tenant', 'subscription', '--tenant', tenant.tenantId, '--ends-at', ends, '--json'],
        env,
      );
      assert.equal(set.state, 'active');
      assert.equal(set.subscriptionEndsAt, ends);
      assert.equal(set.next.state, 'warning');

      const bad = await runCommand(CUSTOS_BIN, ['tenant', 'subscription', '--tenant', tenant.tenantId, '--cancel', '--renew'], env);
      assert.equal(bad.code, 2, bad.stderr);
      const unchanged = await runJson<{ state: string }>(
        CUSTOS_BIN,
        ['tenant', 'subscription', '--tenant', tenant.tenantId, '--json'],
        env,
      );
      assert.equal(unchanged.state, 'active');

      const early = await runJson<{ transitions: unknown[] }>(CUSTOS_BIN, ['lifecycle', 'tick', '--json'], env);
      assert.deepEqual(early.transitions, []);

      const later = new Date(Date.now() + 200 * DAY_MS).toISOString();
      const tick = await runJson<{ transitions: { tenantId: string; from: string; to: string }[] }>(
        CUSTOS_BIN,
        ['lifecycle', 'tick', '--now', later, '--json'],
        env,
      );
      assert.deepEqual(
        tick.transitions.filter((t) => t.tenantId === tenant.tenantId).map((t) => `${t.from}→${t.to}`),
        ['active→warning', 'warning→suspended', 'suspended→retention', 'retention→purged'],
      );

      const shown = await runJson<{ subscriptionState: string; purgeReceipt: { tenantId: string; keyDestroyed: boolean } }>(
        CUSTOS_BIN,
        ['tenant', 'show', tenant.tenantId, '--json'],
        env,
      );
      assert.equal(shown.subscriptionState, 'purged');
      assert.equal(shown.purgeReceipt.tenantId, tenant.tenantId);
      assert.equal(shown.purgeReceipt.keyDestroyed, true);

      const dir = mkdtempSync(join(tmpdir(), 'custos-receipt-'));
      const file = join(dir, 'receipt.json');
      writeFileSync(file, JSON.stringify(shown.purgeReceipt));
      const ok = await runCommand(CUSTOS_BIN, ['purge-receipt', 'verify', file], env);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /valid/);
      const fromTombstone = await runCommand(CUSTOS_BIN, ['purge-receipt', 'verify', '--tenant', tenant.tenantId], env);
      assert.equal(fromTombstone.code, 0, fromTombstone.stderr);

      writeFileSync(file, JSON.stringify({ ...shown.purgeReceipt, keyDestroyed: false }));
      const altered = await runCommand(CUSTOS_BIN, ['purge-receipt', 'verify', file, '--json'], env);
      assert.equal(altered.code, 1);
      assert.equal(JSON.parse(altered.stdout).valid, false);

      const listed = await runJson<{ items: { tenantId: string }[] }>(CUSTOS_BIN, ['tenant', 'list', '--json'], env);
      assert.equal(
        listed.items.some((t) => t.tenantId === tenant.tenantId),
        false,
      );
    });
  });
}
