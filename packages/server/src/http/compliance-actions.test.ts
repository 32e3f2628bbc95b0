/**
 * Actions for non-compliance through the real app and the scheduled job, on SQLite and PostgreSQL,
 * with a moved clock and a real SMTP server in the process: the grace period, a device that goes
 * silent, the email with its reasons, lock and retire list exactly once per episode (also when the
 * job runs twice at once), the episode ending when the device complies, and refused action input.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalInventoryJson, DAY_MS, type InventoryDocument } from '@custos/shared';
import type { FastifyInstance } from 'fastify';
import { openRuntime, type Runtime } from '../compose.js';
import { fixedClock } from '../domain/clock.js';
import { COMPLIANCE_JOB_NAME } from '../domain/compliance/compliance-reevaluation-job.js';
import { NoncomplianceActions } from '../domain/compliance/noncompliance-actions.js';
import type { JobLogger } from '../domain/jobs/job.js';
import { defaultCountryRegions } from '../domain/tenants/region-map.js';
import { BACKENDS, TEST_REGIONS, type TestBackend } from '../test-support/backends.js';
import { SYSTEM } from '../test-support/harness.js';
import { startSmtpServer, type TestSmtpServer } from '../test-support/smtp.js';
import { digestOf, TestDevice } from '../test-support/test-device.js';
import { buildApp } from './app.js';

const inventory = (encrypted: boolean): InventoryDocument => ({
  hardware: { deviceName: 'laptop-7', operatingSystem: 'Debian GNU/Linux', osVersion: '12.5', serialNumber: 'C-1', encrypted },
  apps: [],
});
const ENCRYPTION_REASON = 'The device storage is not encrypted; turn on disk encryption.';
const quietLog: JobLogger = { debug: () => undefined, error: () => undefined };

interface ScheduleEntry {
  type: string;
  afterDays: number;
  dueAt: string;
  status: string;
  ranAt: string | null;
  detail: string | null;
}
interface PolicyCompliance {
  policyId: string;
  state: string;
  noncompliantSince: string | null;
  actions: ScheduleEntry[];
  settings: { setting: string; status: string; reason: string }[];
}

for (const { name, create } of BACKENDS) {
  describe(`actions for non-compliance on ${name}`, () => {
    const clock = fixedClock(Date.now());
    let backend: TestBackend;
    let runtime: Runtime;
    let app: FastifyInstance;
    let smtp: TestSmtpServer;

    before(async () => {
      backend = await create();
      smtp = await startSmtpServer();
      runtime = await openRuntime(
        {
          storage: backend.config,
          regions: TEST_REGIONS,
          regionMap: { countries: defaultCountryRegions(), fallback: 'us' },
          smtpUrl: smtp.url,
          mailFrom: 'Custos <custos@example.com>',
        },
        clock,
      );
      app = await buildApp({ services: runtime.services });
    });
    after(async () => {
      await app.close();
      await runtime.close();
      await smtp.close();
      await backend.dispose();
    });

    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    const call = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
      app.inject({ method, url, headers: auth(token), ...(payload === undefined ? {} : { payload: payload as object }) });

    /** A tenant whose enrollment token gives devices a user, so the email has a recipient. */
    const tenant = async (userEmail = 'ada@example.com') => {
      const { tenant: t } = await runtime.services.tenants.create({ name: 'Acme', country: 'GB', adminEmail: 'it-help@acme.example' });
      const { token } = await runtime.services.apiTokens.create(SYSTEM, t.id, { role: 'Tenant Administrator' });
      const { token: readOnly } = await runtime.services.apiTokens.create(SYSTEM, t.id, { role: 'Read Only Operator' });
      const enrollment = await runtime.services.enrollment.createToken(SYSTEM, t.id, { ownership: 'corporate', userEmail });
      return { tenantId: t.id, adminToken: token, readOnlyToken: readOnly, enrollmentToken: enrollment.token };
    };
    /** A new device session signed at the moved clock's time (the server checks the timestamp against it). */
    const resume = async (device: TestDevice) => {
      const body = '{}';
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/agent/session',
        payload: body,
        headers: device.signedHeaders('POST', '/api/v1/agent/session', body, undefined, clock.now()),
      });
      assert.equal(res.statusCode, 200, res.body);
      device.session = res.json();
    };
    const enroll = async (enrollmentToken: string, encrypted = false) => {
      const device = await TestDevice.enroll(app, enrollmentToken);
      await resume(device);
      await upload(device, encrypted);
      return device;
    };
    const upload = async (device: TestDevice, encrypted: boolean) => {
      const doc = inventory(encrypted);
      const { res } = await device.checkIn({ inventoryDigest: digestOf(canonicalInventoryJson(doc)), inventory: doc });
      assert.equal(res.statusCode, 200, res.body);
    };
    const policyWith = async (token: string, body: Record<string, unknown>) => {
      const res = await call(token, 'POST', '/api/v1/compliance-policies', { name: 'Disk encryption', ...body });
      assert.equal(res.statusCode, 201, res.body);
      const id = res.json<{ id: string }>().id;
      const assigned = await call(token, 'PUT', `/api/v1/compliance-policies/${id}/assignments`, {
        assignments: [{ target: 'allDevices', mode: 'include' }],
      });
      assert.equal(assigned.statusCode, 200, assigned.body);
      return id;
    };
    const complianceOf = async (token: string, deviceId: string) => {
      const res = await call(token, 'GET', `/api/v1/devices/${deviceId}/compliance`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{ complianceState: string; policies: PolicyCompliance[] }>();
      return { state: body.complianceState, policy: body.policies[0] };
    };
    const action = (p: PolicyCompliance | undefined, type: string) => p?.actions.find((a) => a.type === type);
    const job = () => {
      const found = runtime.jobs.list().find((j) => j.name === COMPLIANCE_JOB_NAME);
      assert.ok(found, 'the compliance job is registered');
      return found;
    };
    /** One scheduled run at the clock's time, through the scheduler and its lease. */
    const runJobs = async () => {
      const reports = await runtime.jobScheduler(quietLog).runDue();
      const report = reports.find((r) => r.job === COMPLIANCE_JOB_NAME);
      assert.equal(report?.status, 'succeeded', JSON.stringify(report));
      return report;
    };
    const auditCount = async (tenantId: string, activity: string) =>
      (await (await runtime.services.tenants.data(tenantId)).audit.list({ activity }, { limit: 100 })).length;

    test('grace period, then non-compliant; the email arrives once with every reason; lock runs once even when the job runs twice at once', async () => {
      const t = await tenant();
      const device = await enroll(t.enrollmentToken);
      const start = clock.now();
      await policyWith(t.adminToken, {
        settings: { requireEncryption: true },
        actions: [
          { type: 'markNoncompliant', afterDays: 3 },
          { type: 'email', afterDays: 0, additionalRecipients: ['security@acme.example'], message: 'Please act before Friday.' },
          { type: 'lock', afterDays: 5 },
        ],
      });

      // Failing, but inside the grace period: the admin sees the reason and the whole schedule.
      let c = await complianceOf(t.adminToken, device.id);
      assert.equal(c.state, 'inGracePeriod');
      assert.equal(c.policy?.state, 'inGracePeriod');
      assert.equal(c.policy?.settings.find((s) => s.setting === 'requireEncryption')?.reason, ENCRYPTION_REASON);
      assert.equal(c.policy?.noncompliantSince, new Date(start).toISOString());
      assert.deepEqual(
        c.policy?.actions.map((a) => [a.type, a.afterDays, a.status, a.dueAt]),
        [
          ['email', 0, 'due', new Date(start).toISOString()],
          ['markNoncompliant', 3, 'scheduled', new Date(start + 3 * DAY_MS).toISOString()],
          ['lock', 5, 'scheduled', new Date(start + 5 * DAY_MS).toISOString()],
        ],
      );

      // The job sends the email: to the device's user and the additional recipient, with the reason.
      const before = smtp.messages.length;
      clock.advance(60_000);
      await runJobs();
      const [mail] = (await smtp.waitFor(before + 1)).slice(before);
      assert.ok(mail);
      assert.deepEqual(mail.to.sort(), ['ada@example.com', 'security@acme.example']);
      assert.match(mail.subject, /laptop-7/);
      assert.match(mail.text, /Please act before Friday\./);
      assert.ok(mail.text.includes(ENCRYPTION_REASON), mail.text);
      assert.match(mail.text, /"Disk encryption"/);
      assert.match(mail.text, /it-help@acme\.example/, 'the tenant support contact');
      c = await complianceOf(t.adminToken, device.id);
      assert.equal(action(c.policy, 'email')?.status, 'done');
      assert.equal(c.state, 'inGracePeriod');

      // After the grace period the job marks it non-compliant (the device did not check in).
      clock.set(start + 3 * DAY_MS + 60_000);
      await runJobs();
      c = await complianceOf(t.adminToken, device.id);
      assert.equal(c.state, 'noncompliant');
      assert.equal(action(c.policy, 'markNoncompliant')?.status, 'done');
      assert.equal(action(c.policy, 'lock')?.status, 'scheduled');
      assert.equal(smtp.messages.length, before + 1, 'the email is not sent again');

      // Day 5: the lock falls due; two runs at once (as two processes would) queue it once.
      clock.set(start + 5 * DAY_MS + 60_000);
      const context = { now: clock.now(), previousSuccessAt: start };
      await Promise.all([job().run(context), job().run(context)]);
      await job().run(context);
      const locks = (await runtime.services.commands.list(SYSTEM, t.tenantId, device.id)).filter((cmd) => cmd.action === 'lock');
      assert.equal(locks.length, 1);
      assert.equal(locks[0]?.createdBy, 'system:scheduler:compliance actions');
      assert.equal(await auditCount(t.tenantId, 'Non-compliance action: lock'), 1);
      assert.equal(await auditCount(t.tenantId, 'Non-compliance action: email'), 1);
      c = await complianceOf(t.adminToken, device.id);
      assert.equal(action(c.policy, 'lock')?.status, 'done');
      assert.match(action(c.policy, 'lock')?.detail ?? '', new RegExp(locks[0]?.id ?? 'none'));
      assert.equal(smtp.messages.length, before + 1);
    });

    test('an email due in two concurrent runs is sent once', async () => {
      const t = await tenant('grace@example.com');
      const device = await enroll(t.enrollmentToken);
      await policyWith(t.adminToken, { settings: { requireEncryption: true }, actions: [{ type: 'email', afterDays: 1 }] });
      const before = smtp.messages.length;
      clock.advance(DAY_MS + 60_000);
      const context = { now: clock.now(), previousSuccessAt: null };
      await Promise.all([job().run(context), job().run(context), runtime.jobScheduler(quietLog).runDue()]);
      await smtp.waitFor(before + 1);
      assert.equal(smtp.messages.filter((m) => m.to.includes('grace@example.com')).length, 1);
      const c = await complianceOf(t.adminToken, device.id);
      assert.equal(c.state, 'noncompliant', 'markNoncompliant defaults to 0 days');
      assert.equal(action(c.policy, 'email')?.status, 'done');
    });

    test('a device that stops checking in turns non-compliant through the job; checking in again makes it compliant', async () => {
      const t = await tenant();
      const device = await enroll(t.enrollmentToken, true);
      await policyWith(t.adminToken, { name: 'Check in weekly', settings: { maxDaysSinceCheckIn: 2 } });
      assert.equal((await complianceOf(t.adminToken, device.id)).state, 'compliant');

      clock.advance(4 * DAY_MS);
      await runJobs();
      let c = await complianceOf(t.adminToken, device.id);
      assert.equal(c.state, 'noncompliant');
      assert.match(c.policy?.settings[0]?.reason ?? '', /last checked in 4 days ago; at most 2/);
      assert.ok(c.policy?.noncompliantSince);

      // Back online: a plain check-in (no new inventory) is enough; the next run evaluates it.
      clock.advance(60_000);
      await resume(device);
      const doc = inventory(true);
      const { res } = await device.checkIn({ inventoryDigest: digestOf(canonicalInventoryJson(doc)) });
      assert.equal(res.statusCode, 200, res.body);
      clock.advance(60_000);
      await runJobs();
      c = await complianceOf(t.adminToken, device.id);
      assert.equal(c.state, 'compliant');
      assert.equal(c.policy?.noncompliantSince, null);
      assert.deepEqual(c.policy?.actions, []);
    });

    test('fixing the device ends the episode; failing again starts a new one whose actions run again', async () => {
      const t = await tenant('fixer@example.com');
      const device = await enroll(t.enrollmentToken);
      await policyWith(t.adminToken, { settings: { requireEncryption: true }, actions: [{ type: 'email', afterDays: 0 }] });
      const sentTo = () => smtp.messages.filter((m) => m.to.includes('fixer@example.com')).length;
      clock.advance(60_000);
      await runJobs();
      await smtp.waitFor(smtp.messages.length);
      assert.equal(sentTo(), 1);

      // The user turns encryption on: compliant at that check-in, and the schedule is gone.
      clock.advance(60_000);
      await resume(device);
      await upload(device, true);
      let c = await complianceOf(t.adminToken, device.id);
      assert.equal(c.state, 'compliant');
      assert.equal(c.policy?.noncompliantSince, null);
      clock.advance(60_000);
      await runJobs();
      assert.equal(sentTo(), 1, 'a compliant device gets no email');

      // It fails again: a new episode, so the email goes out again.
      clock.advance(60_000);
      await resume(device);
      await upload(device, false);
      c = await complianceOf(t.adminToken, device.id);
      assert.equal(c.policy?.noncompliantSince, new Date(clock.now()).toISOString());
      assert.equal(action(c.policy, 'email')?.status, 'due');
      const before = smtp.messages.length;
      clock.advance(60_000);
      await runJobs();
      await smtp.waitFor(before + 1);
      assert.equal(sentTo(), 2);
    });

    test('retire list: confirm queues a retire command, dismiss does not; both need devices.retire', async () => {
      const t = await tenant();
      const first = await enroll(t.enrollmentToken);
      const second = await enroll(t.enrollmentToken);
      const policyId = await policyWith(t.adminToken, {
        settings: { requireEncryption: true },
        actions: [{ type: 'retireList', afterDays: 1 }],
      });
      assert.equal((await call(t.adminToken, 'GET', '/api/v1/compliance/retire-list')).json().items.length, 0);
      clock.advance(DAY_MS + 60_000);
      await runJobs();
      clock.advance(60_000);
      await runJobs(); // a second period adds nothing
      const list = await call(t.adminToken, 'GET', '/api/v1/compliance/retire-list');
      assert.equal(list.statusCode, 200, list.body);
      const items = list.json<{ items: { deviceId: string; policyId: string; policyName: string; userEmail: string }[] }>().items;
      assert.deepEqual(items.map((i) => i.deviceId).sort(), [first.id, second.id].sort());
      assert.equal(items[0]?.policyId, policyId);
      assert.equal(items[0]?.userEmail, 'ada@example.com');

      const forbidden = await call(t.readOnlyToken, 'POST', `/api/v1/compliance/retire-list/${first.id}/confirm`);
      assert.equal(forbidden.statusCode, 403);
      assert.equal((await runtime.services.commands.list(SYSTEM, t.tenantId, first.id)).filter((c) => c.action === 'retire').length, 0);

      const confirmed = await call(t.adminToken, 'POST', `/api/v1/compliance/retire-list/${first.id}/confirm`);
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      const retires = (await runtime.services.commands.list(SYSTEM, t.tenantId, first.id)).filter((c) => c.action === 'retire');
      assert.equal(retires.length, 1);
      assert.equal(confirmed.json().commandId, retires[0]?.id);

      const dismissed = await call(t.adminToken, 'POST', `/api/v1/compliance/retire-list/${second.id}/dismiss`);
      assert.equal(dismissed.statusCode, 200, dismissed.body);
      assert.equal(dismissed.json().commandId, null);
      assert.equal((await runtime.services.commands.list(SYSTEM, t.tenantId, second.id)).filter((c) => c.action === 'retire').length, 0);

      assert.equal((await call(t.adminToken, 'GET', '/api/v1/compliance/retire-list')).json().items.length, 0);
      const again = await call(t.adminToken, 'POST', `/api/v1/compliance/retire-list/${second.id}/confirm`);
      assert.equal(again.statusCode, 404);
      assert.equal(again.json().code, 'not-found');
      assert.equal(await auditCount(t.tenantId, 'Confirm retirement of non-compliant device'), 1);
      assert.equal(await auditCount(t.tenantId, 'Dismiss retirement of non-compliant device'), 1);
      // The job runs on: a decided entry is not put back within the same episode.
      clock.advance(60_000);
      await runJobs();
      assert.equal((await call(t.adminToken, 'GET', '/api/v1/compliance/retire-list')).json().items.length, 0);
    });

    test('without SMTP the email action is skipped and says so in the schedule', async () => {
      const t = await tenant();
      const device = await enroll(t.enrollmentToken);
      await policyWith(t.adminToken, { settings: { requireEncryption: true }, actions: [{ type: 'email', afterDays: 0 }] });
      const withoutMail = new NoncomplianceActions(runtime.services.tenants, runtime.services.commands, undefined, clock);
      const before = smtp.messages.length;
      assert.equal(await withoutMail.runDue(await runtime.services.tenants.data(t.tenantId), device.id), 1);
      const email = action((await complianceOf(t.adminToken, device.id)).policy, 'email');
      assert.equal(email?.status, 'skipped');
      assert.equal(email?.detail, 'no SMTP configured');
      clock.advance(60_000);
      await runJobs();
      assert.equal(smtp.messages.length, before, 'a skipped action is settled; the job does not send it later');
    });

    test('a failed email is retried at the next runs and given up after three attempts; the failure is audited', async () => {
      const t = await tenant();
      const device = await enroll(t.enrollmentToken);
      await policyWith(t.adminToken, { settings: { requireEncryption: true }, actions: [{ type: 'email', afterDays: 0 }] });
      let attempts = 0;
      const failing = new NoncomplianceActions(
        runtime.services.tenants,
        runtime.services.commands,
        {
          send: () => {
            attempts++;
            return Promise.reject(new Error('421 mail.example.com busy'));
          },
        },
        clock,
      );
      const data = await runtime.services.tenants.data(t.tenantId);
      for (let run = 1; run <= 4; run++) {
        clock.advance(60_000);
        await failing.runDue(data, device.id);
        assert.equal(attempts, Math.min(run, 3), `run ${run}`);
      }
      const email = action((await complianceOf(t.adminToken, device.id)).policy, 'email');
      assert.equal(email?.status, 'failed');
      assert.equal(email?.detail, '421 mail.example.com busy');
      const events = await data.audit.list({ activity: 'Non-compliance action: email' }, { limit: 10 });
      assert.deepEqual(
        events.map((e) => e.result),
        ['failure', 'failure', 'failure'],
      );
    });

    test('bad actions are refused with 400 validation-failed and change nothing', async () => {
      const t = await tenant();
      const created = await call(t.adminToken, 'POST', '/api/v1/compliance-policies', {
        name: 'Baseline',
        settings: { requireEncryption: true },
      });
      assert.equal(created.statusCode, 201, created.body);
      const policy = created.json<{ id: string; version: number; actions: unknown[] }>();
      assert.deepEqual(policy.actions, [{ type: 'markNoncompliant', afterDays: 0 }], 'the default action');
      const bad: unknown[] = [
        [{ type: 'selfDestruct', afterDays: 0 }],
        [{ type: 'lock', afterDays: -1 }],
        [{ type: 'lock', afterDays: 1.5 }],
        [
          { type: 'email', afterDays: 0 },
          { type: 'email', afterDays: 2 },
        ],
        [{ type: 'lock', afterDays: 1, additionalRecipients: ['a@example.com'] }],
        [{ type: 'email', afterDays: 1, additionalRecipients: ['not an address'] }],
        [{ type: 'email', afterDays: 1, colour: 'red' }],
      ];
      for (const actions of bad) {
        const put = await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${policy.id}`, {
          name: 'Changed',
          settings: {},
          actions,
        });
        assert.equal(put.statusCode, 400, `${JSON.stringify(actions)}: ${put.body}`);
        assert.equal(put.json().code, 'validation-failed');
        assert.match(String(put.headers['content-type']), /application\/problem\+json/);
        const post = await call(t.adminToken, 'POST', '/api/v1/compliance-policies', { name: 'New', settings: {}, actions });
        assert.equal(post.statusCode, 400, post.body);
        assert.equal(post.json().code, 'validation-failed');
      }
      const duplicate = await call(t.adminToken, 'PUT', `/api/v1/compliance-policies/${policy.id}`, {
        name: 'Changed',
        settings: {},
        actions: [
          { type: 'lock', afterDays: 1 },
          { type: 'lock', afterDays: 2 },
        ],
      });
      assert.match(duplicate.json().detail, /"lock" is listed twice/);
      const after = await call(t.adminToken, 'GET', `/api/v1/compliance-policies/${policy.id}`);
      assert.deepEqual(after.json(), policy, 'the policy is unchanged');
      const listed = await call(t.adminToken, 'GET', '/api/v1/compliance-policies');
      assert.deepEqual(
        listed.json().items.map((p: { id: string }) => p.id),
        [policy.id],
        'no policy was created',
      );
    });

    test('the actions round-trip in order, markNoncompliant added when missing', async () => {
      const t = await tenant();
      const res = await call(t.adminToken, 'POST', '/api/v1/compliance-policies', {
        name: 'Ordered',
        settings: {},
        actions: [
          { type: 'retireList', afterDays: 30 },
          { type: 'email', afterDays: 0, message: 'Hello' },
        ],
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual(res.json().actions, [
        { type: 'markNoncompliant', afterDays: 0 },
        { type: 'email', afterDays: 0, message: 'Hello' },
        { type: 'retireList', afterDays: 30 },
      ]);
    });
  });
}
