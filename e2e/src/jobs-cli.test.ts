/**
 * `custos jobs run` as cron would run it, on SQLite and PostgreSQL: every due job once, reported as
 * JSON; the same period again finds nothing due (the leases the server's scheduler uses); bad usage
 * is refused with exit 2.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '@custos/server/test-support/backends';
import { CUSTOS_BIN, runCommand, runJson, backendEnvPerSuite } from './support/processes.js';

interface JobsRun {
  items: { job: string; status: string; summary?: Record<string, number>; error?: string }[];
}

test('custos jobs run --help', async () => {
  const r = await runCommand(CUSTOS_BIN, ['jobs', 'run', '--help'], process.env);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: custos jobs run/);
  assert.match(r.stdout, /--now <iso>/);
});

for (const { name, create } of BACKENDS) {
  describe(`custos jobs run on ${name}`, () => {
    let env: NodeJS.ProcessEnv;
    backendEnvPerSuite(create, (started) => ({ env } = started));

    test('runs every due job once per period and reports each as JSON', async () => {
      await runJson(CUSTOS_BIN, ['tenant', 'create', '--name', 'Cron Ltd', '--country', 'GB'], env);
      const first = await runJson<JobsRun>(CUSTOS_BIN, ['jobs', 'run', '--now', '2031-05-01T00:00:10Z'], env);
      const compliance = first.items.find((i) => i.job === 'compliance.reevaluate');
      assert.equal(compliance?.status, 'succeeded', JSON.stringify(first));
      assert.deepEqual(compliance?.summary, { tenants: 1, evaluated: 0, actions: 0 });

      const same = await runJson<JobsRun>(CUSTOS_BIN, ['jobs', 'run', '--now', '2031-05-01T00:00:50Z'], env);
      assert.equal(same.items.find((i) => i.job === 'compliance.reevaluate')?.status, 'notDue');
      const next = await runJson<JobsRun>(CUSTOS_BIN, ['jobs', 'run', '--now', '2031-05-01T00:01:00Z'], env);
      assert.equal(next.items.find((i) => i.job === 'compliance.reevaluate')?.status, 'succeeded');
    });

    test('a --now that is not an ISO date-time is refused with exit 2', async () => {
      const r = await runCommand(CUSTOS_BIN, ['jobs', 'run', '--now', 'yesterday'], env);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /ISO 8601/);
    });
  });
}
