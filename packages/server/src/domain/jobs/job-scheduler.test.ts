/**
 * The job scheduler on SQLite and PostgreSQL, with the real lease table: one run per period even
 * when several schedulers (processes) ask at once, a failing job logged without its data and retried
 * next period, the last successful run handed to the next, and the registry's rules.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, type TestBackend } from '../../test-support/backends.js';
import { assertAllAudited, startHarness, type Harness } from '../../test-support/harness.js';
import { JobLeaseRepository } from '../../storage/repositories/job-lease-repository.js';
import { fixedClock } from '../clock.js';
import type { Job, JobContext, JobLogger } from './job.js';
import { JobRegistry } from './job-registry.js';
import { JobScheduler } from './job-scheduler.js';

const MINUTE = 60_000;

function recordingLog(): JobLogger & { errors: { details: Record<string, unknown>; message: string }[] } {
  const errors: { details: Record<string, unknown>; message: string }[] = [];
  return { errors, debug: () => undefined, error: (details, message) => errors.push({ details, message }) };
}

for (const { name, create } of BACKENDS) {
  describe(`job scheduler on ${name}`, () => {
    let backend: TestBackend;
    let h: Harness;
    let leases: JobLeaseRepository;
    before(async () => {
      backend = await create();
      h = await startHarness(backend);
      leases = new JobLeaseRepository(h.runtime.storage.directory);
    });
    after(async () => {
      const unaudited = h.unaudited;
      await h.close();
      await backend.dispose();
      assertAllAudited(unaudited);
    });

    test('of several schedulers asking at once, exactly one runs a job per period; the next period runs it again', async () => {
      const clock = fixedClock(Date.UTC(2031, 0, 1, 12, 0, 30));
      const runs: JobContext[] = [];
      const registry = new JobRegistry();
      const job: Job = {
        name: 'test.once-per-period',
        run: async (context) => {
          runs.push(context);
          await new Promise((resolve) => setImmediate(resolve));
          return { items: 1 };
        },
      };
      registry.register(job);
      const schedulers = ['a', 'b', 'c', 'd'].map(
        (holder) => new JobScheduler(registry, leases, clock, recordingLog(), { intervalSeconds: 60, holder }),
      );
      const first = (await Promise.all(schedulers.map((s) => s.runDue()))).flat();
      assert.deepEqual(first.map((r) => r.status).sort(), ['notDue', 'notDue', 'notDue', 'succeeded']);
      assert.equal(runs.length, 1);
      assert.equal(runs[0]?.previousSuccessAt, null, 'the first run has no predecessor');
      assert.deepEqual(first.find((r) => r.status === 'succeeded')?.summary, { items: 1 });

      // Later in the same period: nobody runs it.
      clock.advance(20_000);
      assert.deepEqual(
        (await Promise.all(schedulers.map((s) => s.runDue()))).flat().map((r) => r.status),
        ['notDue', 'notDue', 'notDue', 'notDue'],
      );
      // The next period: one run again, told when the last successful run was.
      clock.advance(MINUTE);
      const second = (await Promise.all(schedulers.map((s) => s.runDue()))).flat();
      assert.equal(second.filter((r) => r.status === 'succeeded').length, 1);
      assert.equal(runs.length, 2);
      assert.equal(runs[1]?.previousSuccessAt, runs[0]?.now);
      const lease = (await leases.list()).find((l) => l.name === job.name);
      assert.equal(lease?.lastSuccessAt, runs[1]?.now);
    });

    test('a job still running keeps its lease into the next period', async () => {
      const clock = fixedClock(Date.UTC(2031, 1, 1, 12, 0, 0));
      let release: () => void = () => undefined;
      let started = 0;
      const registry = new JobRegistry();
      registry.register({
        name: 'test.slow',
        run: async () => {
          started++;
          await new Promise<void>((resolve) => (release = resolve));
        },
      });
      const a = new JobScheduler(registry, leases, clock, recordingLog(), { intervalSeconds: 60, holder: 'a' });
      const b = new JobScheduler(registry, leases, clock, recordingLog(), { intervalSeconds: 60, holder: 'b' });
      const running = a.runDue();
      while (started === 0) await new Promise((resolve) => setImmediate(resolve));
      clock.advance(2 * MINUTE);
      assert.equal((await b.runDue())[0]?.status, 'notDue', 'the lease is held while the run lasts');
      release();
      assert.equal((await running)[0]?.status, 'succeeded');
      clock.advance(MINUTE);
      const next = b.runDue();
      while (started === 1) await new Promise((resolve) => setImmediate(resolve));
      release();
      assert.equal((await next)[0]?.status, 'succeeded');
      assert.equal(started, 2);
    });

    test('a job that throws is logged without its data, the others still run, and it is retried next period', async () => {
      const clock = fixedClock(Date.UTC(2031, 2, 1, 12, 0, 0));
      const log = recordingLog();
      let attempts = 0;
      const contexts: JobContext[] = [];
      const registry = new JobRegistry();
      registry.register({
        name: 'test.flaky',
        run: async (context) => {
          contexts.push(context);
          attempts++;
          if (attempts === 1) throw Object.assign(new Error('database went away'), { code: 'ECONNRESET', secret: 'hunter2' });
          return { fine: 1 };
        },
      });
      let other = 0;
      registry.register({ name: 'test.other', run: async () => void other++ });
      const scheduler = new JobScheduler(registry, leases, clock, log, { intervalSeconds: 300, holder: 'flaky' });
      const reports = await scheduler.runDue();
      assert.deepEqual(
        reports.map((r) => [r.job, r.status]),
        [
          ['test.flaky', 'failed'],
          ['test.other', 'succeeded'],
        ],
      );
      assert.equal(reports[0]?.error, 'Error: database went away');
      assert.equal(other, 1);
      assert.equal(log.errors.length, 1);
      assert.equal(log.errors[0]?.details['job'], 'test.flaky');
      assert.deepEqual(log.errors[0]?.details['error'], { name: 'Error', code: 'ECONNRESET', message: 'database went away' });
      assert.ok(!JSON.stringify(log.errors).includes('hunter2'), 'no other property of the error reaches the log');
      assert.equal((await leases.list()).find((l) => l.name === 'test.flaky')?.lastFailureAt, clock.now());

      assert.equal((await scheduler.runDue())[0]?.status, 'notDue', 'not again within the period');
      clock.advance(5 * MINUTE);
      const retried = await scheduler.runDue();
      assert.equal(retried[0]?.status, 'succeeded');
      assert.equal(contexts[1]?.previousSuccessAt, null, 'the failed run does not count as a success');
    });

    test('the registry refuses a duplicate or badly named job, and the scheduler a bad interval', () => {
      const registry = new JobRegistry();
      registry.register({ name: 'lifecycle.tick', run: () => Promise.resolve() });
      assert.throws(() => registry.register({ name: 'lifecycle.tick', run: () => Promise.resolve() }), /already registered/);
      assert.throws(() => registry.register({ name: 'Bad Name', run: () => Promise.resolve() }), /lower-case/);
      assert.throws(() => registry.register({ name: 'x.y', intervalSeconds: 0, run: () => Promise.resolve() }), /intervalSeconds/);
      assert.throws(
        () => new JobScheduler(registry, leases, fixedClock(0), recordingLog(), { intervalSeconds: 0.5, holder: 'x' }),
        /whole number/,
      );
    });

    test('the runtime registers the compliance job and serve-style start/stop runs it', async () => {
      assert.ok(h.runtime.jobs.list().some((j) => j.name === 'compliance.reevaluate'));
      const clock = fixedClock(Date.UTC(2031, 3, 1, 12, 0, 0));
      const registry = new JobRegistry();
      let ran = 0;
      registry.register({ name: 'test.started', run: async () => void ran++ });
      const scheduler = new JobScheduler(registry, leases, clock, recordingLog(), { intervalSeconds: 3600, holder: 'started' });
      scheduler.start();
      while (ran === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await scheduler.stop();
      assert.equal(ran, 1);
    });
  });
}
