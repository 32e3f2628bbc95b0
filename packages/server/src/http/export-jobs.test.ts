/**
 * Background export jobs over time (SPEC §9), on SQLite and PostgreSQL with a moved clock: a job whose
 * process stopped is declared interrupted — by the next GET of it and by the `export.maintain` job —
 * with its partial archive removed; a job declared interrupted while this process still writes it
 * stops and leaves no file; a completed archive is deleted when its published lifetime ends and its
 * download answers 410; the lifetime is published in the privacy catalog and stated by the consent text
 * and the Company Portal; the settings are validated.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { loadConfig, ConfigError } from '../config.js';
import { openRuntime, type Runtime } from '../compose.js';
import { fixedClock } from '../domain/clock.js';
import { DAY_MS } from '../domain/lifecycle/lifecycle.js';
import type { Actor } from '../domain/access/authorize.js';
import type { ExportJobRecord } from '../domain/export/export-job-store.js';
import { defaultCountryRegions } from '../domain/tenants/region-map.js';
import { BACKENDS, TEST_REGIONS, type TestBackend } from '../test-support/backends.js';
import { assertAllAudited, SYSTEM, seedTenant } from '../test-support/harness.js';
import { TestDevice } from '../test-support/test-device.js';
import type { JobSummary } from '../domain/jobs/job.js';
import type { UnauditedWrite } from './plugins/audit-guard.js';
import { buildApp } from './app.js';

const MINUTE = 60_000;
/** This suite's deployment keeps archives 3 days (not the default 7), so the catalog must say 3. */
const LIFETIME_DAYS = 3;

interface JobDto {
  id: string;
  status: string;
  errorCode: string | null;
  error: string | null;
  expiresAt: string | null;
  finishedAt: string | null;
  downloadUrl: string | null;
}

for (const { name, create } of BACKENDS) {
  describe(`export jobs over time on ${name}`, () => {
    const clock = fixedClock(Date.UTC(2032, 0, 10, 9, 0, 0));
    let backend: TestBackend;
    let runtime: Runtime;
    let app: FastifyInstance;
    const unaudited: UnauditedWrite[] = [];

    before(async () => {
      backend = await create();
      runtime = await openRuntime(
        {
          storage: backend.config,
          regions: TEST_REGIONS,
          regionMap: { countries: defaultCountryRegions(), fallback: 'us' },
          exportJobs: { archiveLifetimeDays: LIFETIME_DAYS, staleAfterSeconds: 120 },
        },
        clock,
      );
      app = await buildApp({ services: runtime.services, onUnauditedWrite: (w) => unaudited.push(w) });
    });
    after(async () => {
      await app.close();
      await runtime.close();
      await backend.dispose();
      assertAllAudited(unaudited);
    });

    const call = (token: string, method: 'GET' | 'POST', url: string) =>
      app.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
    const tenant = () => seedTenant({ runtime, app, unaudited, close: () => Promise.resolve() }, 'DE');

    /** A job row as another process leaves it when it dies mid-export, with its partial archive on disk. */
    async function orphanedJob(tenantId: string, heartbeatAt: number | null): Promise<{ job: ExportJobRecord; file: string }> {
      const job: ExportJobRecord = {
        id: randomUUID(),
        status: 'running',
        requestedBy: 'elsewhere',
        createdAt: heartbeatAt ?? clock.now() - 10 * MINUTE,
        finishedAt: null,
        entitiesDone: 3,
        entitiesTotal: 18,
        rowsWritten: 40,
        bytes: null,
        manifestSha256: null,
        error: null,
        errorCode: null,
        heartbeatAt,
        expiresAt: null,
      };
      await (await runtime.services.tenants.data(tenantId)).exportJobs.insert(job);
      const file = runtime.services.exports.archivePath(tenantId, job.id);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, 'half an archive');
      return { job, file };
    }

    const maintain = async () =>
      (await runtime.jobs
        .list()
        .find((j) => j.name === 'export.maintain')!
        .run({ now: clock.now(), previousSuccessAt: null })) as JobSummary;

    test('a job whose process stopped is declared interrupted by the next GET, its partial archive removed; a new export starts', async () => {
      const t = await tenant();
      const { job, file } = await orphanedJob(t.tenantId, clock.now());
      clock.advance(MINUTE);
      const alive = (await call(t.adminToken, 'GET', `/api/v1/exports/${job.id}`)).json<JobDto>();
      assert.equal(alive.status, 'running', 'a heartbeat one minute old is within the bound');
      assert.ok(existsSync(file));

      clock.advance(MINUTE + 1);
      const res = await call(t.adminToken, 'GET', `/api/v1/exports/${job.id}`);
      assert.equal(res.statusCode, 200);
      const failed = res.json<JobDto>();
      assert.equal(failed.status, 'failed');
      assert.equal(failed.errorCode, 'interrupted');
      assert.match(failed.error ?? '', /interrupted.*Start a new export/);
      assert.equal(failed.finishedAt, new Date(clock.now()).toISOString());
      assert.equal(failed.downloadUrl, null);
      assert.ok(!existsSync(file), 'the partial archive is removed');
      const download = await call(t.adminToken, 'GET', `/api/v1/exports/${job.id}/download`);
      assert.equal(download.statusCode, 409);
      assert.equal(download.json<{ code: string }>().code, 'export-not-ready');
      const data = await runtime.services.tenants.data(t.tenantId);
      const [event] = await data.audit.list({ activity: 'Interrupt tenant export' }, { limit: 5 });
      assert.equal(event?.targets[0]?.id, job.id, 'the interruption is in the audit log');

      const again = await call(t.adminToken, 'POST', '/api/v1/exports');
      assert.equal(again.statusCode, 202, again.body);
      await runtime.services.exports.settle();
      assert.equal((await call(t.adminToken, 'GET', `/api/v1/exports/${again.json<JobDto>().id}`)).json<JobDto>().status, 'completed');
    });

    test('the export.maintain job ends stale jobs, keeps live ones, and deletes archives after their lifetime (then 410)', async () => {
      const t = await tenant();
      const started = await call(t.adminToken, 'POST', '/api/v1/exports');
      await runtime.services.exports.settle();
      const id = started.json<JobDto>().id;
      const completed = (await call(t.adminToken, 'GET', `/api/v1/exports/${id}`)).json<JobDto>();
      assert.equal(completed.status, 'completed');
      assert.equal(completed.expiresAt, new Date(Date.parse(completed.finishedAt!) + LIFETIME_DAYS * DAY_MS).toISOString());
      const archive = runtime.services.exports.archivePath(t.tenantId, id);
      assert.ok(existsSync(archive));

      const legacy = await orphanedJob(t.tenantId, null);
      const live = await orphanedJob(t.tenantId, clock.now() + 2 * MINUTE);
      clock.advance(3 * MINUTE);
      const first = await maintain();
      assert.ok((first['interrupted'] ?? 0) >= 1);
      const data = await runtime.services.tenants.data(t.tenantId);
      assert.equal(
        (await data.exportJobs.get(legacy.job.id))?.errorCode,
        'interrupted',
        'a row without heartbeat counts from its creation',
      );
      assert.ok(!existsSync(legacy.file));
      assert.equal((await data.exportJobs.get(live.job.id))?.status, 'running', 'a job with a recent heartbeat is left alone');
      assert.ok(existsSync(live.file));
      assert.equal((await data.exportJobs.get(id))?.status, 'completed', 'not yet expired');

      clock.advance(LIFETIME_DAYS * DAY_MS);
      const second = await maintain();
      assert.ok((second['expired'] ?? 0) >= 1);
      assert.ok(!existsSync(archive), 'the archive is deleted');
      const expired = (await call(t.adminToken, 'GET', `/api/v1/exports/${id}`)).json<JobDto>();
      assert.equal(expired.status, 'expired');
      assert.equal(expired.downloadUrl, null);
      const gone = await call(t.adminToken, 'GET', `/api/v1/exports/${id}/download`);
      assert.equal(gone.statusCode, 410);
      assert.match(String(gone.headers['content-type']), /^application\/problem\+json/);
      assert.equal(gone.json<{ code: string }>().code, 'export-expired');
      assert.equal((await data.exportJobs.get(live.job.id))?.errorCode, 'interrupted', 'the other job went stale meanwhile');
      const events = await data.audit.list({ activity: 'Delete expired export archive' }, { limit: 5 });
      assert.deepEqual(
        events.map((e) => e.targets[0]?.id),
        [id],
      );
      const third = await maintain();
      assert.equal(third['expired'], 0, 'nothing is expired twice');
      assert.equal(third['interrupted'], 0);
    });

    test('an archive past its lifetime is not served even before the job ran', async () => {
      const t = await tenant();
      const started = await call(t.adminToken, 'POST', '/api/v1/exports');
      await runtime.services.exports.settle();
      const id = started.json<JobDto>().id;
      clock.advance(LIFETIME_DAYS * DAY_MS + 1);
      const gone = await call(t.adminToken, 'GET', `/api/v1/exports/${id}/download`);
      assert.equal(gone.statusCode, 410);
      assert.ok(!existsSync(runtime.services.exports.archivePath(t.tenantId, id)));
    });

    test('a job declared interrupted elsewhere while this process writes it stops and leaves no archive', async () => {
      const t = await tenant();
      const job = await runtime.services.exports.start(SYSTEM, t.tenantId);
      const data = await runtime.services.tenants.data(t.tenantId);
      assert.ok(
        await data.exportJobs.updateRunning(job.id, { status: 'failed', errorCode: 'interrupted', error: 'declared by another process' }),
      );
      await runtime.services.exports.settle();
      const after = await data.exportJobs.get(job.id);
      assert.equal(after?.status, 'failed');
      assert.equal(after?.errorCode, 'interrupted', 'the writer does not overwrite the verdict');
      assert.ok(!existsSync(runtime.services.exports.archivePath(t.tenantId, job.id)));
    });

    test('the privacy catalog and the tenant retention settings publish the archive lifetime this deployment runs', async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/privacy/catalog' });
      const rule = res
        .json<{ retentionRules: { rule: string; days: number | null; description: string }[] }>()
        .retentionRules.find((r) => r.rule === 'export-archives');
      assert.equal(rule?.days, LIFETIME_DAYS);
      assert.match(rule?.description ?? '', new RegExp(`${LIFETIME_DAYS} days`));
      const t = await tenant();
      const settings = await call(t.adminToken, 'GET', '/api/v1/tenant/retention');
      assert.equal(settings.statusCode, 200, settings.body);
      assert.equal(
        settings.json<{ rules: { rule: string; days: number }[] }>().rules.find((r) => r.rule === 'export-archives')?.days,
        LIFETIME_DAYS,
      );
    });

    test('the consent text before enrollment and the portal\'s "what your organization can see" state this lifetime', async () => {
      const t = await tenant();
      const s = runtime.services;
      const ana = await s.users.createUser(SYSTEM, t.tenantId, { userName: 'ana@example.com' });
      const { token } = await s.enrollment.createToken(SYSTEM, t.tenantId, { ownership: 'personal', userEmail: 'ana@example.com' });
      const says = (retention: readonly string[] | undefined) => {
        const archives = (retention ?? []).find((r) => /export all data/.test(r)) ?? '';
        assert.match(archives, new RegExp(`deleted ${LIFETIME_DAYS} days after`));
      };
      const info = await app.inject({ method: 'GET', url: `/api/v1/enroll/info?token=${encodeURIComponent(token)}&platform=linux` });
      assert.equal(info.statusCode, 200, info.body);
      says(info.json<{ retention?: string[] }>().retention);
      const device = await TestDevice.enroll(app, token);
      const actor: Actor = { type: 'user', id: ana.id, name: ana.userName, tenantId: t.tenantId, grants: [], sessionId: null };
      says((await s.selfService.visibility(actor, device.id)).retention);
    });
  });
}

test('the export settings default to 7 days and 120 seconds and refuse values out of range', () => {
  assert.deepEqual(loadConfig({}).exportJobs, { archiveLifetimeDays: 7, staleAfterSeconds: 120 });
  assert.deepEqual(loadConfig({ CUSTOS_EXPORT_ARCHIVE_DAYS: '30', CUSTOS_EXPORT_STALE_SECONDS: '600' }).exportJobs, {
    archiveLifetimeDays: 30,
    staleAfterSeconds: 600,
  });
  assert.throws(
    () => loadConfig({ CUSTOS_EXPORT_ARCHIVE_DAYS: '0' }),
    (e: unknown) => e instanceof ConfigError && /CUSTOS_EXPORT_ARCHIVE_DAYS/.test(e.message),
  );
  assert.throws(() => loadConfig({ CUSTOS_EXPORT_ARCHIVE_DAYS: '1.5' }), ConfigError);
  assert.throws(
    () => loadConfig({ CUSTOS_EXPORT_STALE_SECONDS: '10' }),
    (e: unknown) => e instanceof ConfigError && /CUSTOS_EXPORT_STALE_SECONDS/.test(e.message),
  );
});
