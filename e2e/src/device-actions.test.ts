/**
 * Device actions end to end: a real `custos serve`, the real agent daemon holding its push channel
 * (in simulate mode: nothing is locked or rebooted on this machine), and an admin's action reaching
 * it within seconds although its schedule is minutes to hours away. On PostgreSQL the action is
 * posted to one server process while the agent is connected to another, so the wake-up has to
 * cross processes (LISTEN/NOTIFY).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS, type TestBackend } from '@custos/server/test-support/backends';
import {
  AGENT_BIN,
  CUSTOS_BIN,
  runJson,
  startAgent,
  startServer,
  storageEnv,
  type AgentProcess,
  type ServerProcess,
} from './support/processes.js';

interface CommandDto {
  id: string;
  action: string;
  state: string;
  result: { status: string; detail: string | null } | null;
}

for (const { name, create } of BACKENDS) {
  describe(`device actions reach the running agent, on ${name}`, () => {
    let backend: TestBackend;
    let env: NodeJS.ProcessEnv;
    let servers: ServerProcess[] = [];
    let agent: AgentProcess | undefined;
    let work: string;
    let adminToken: string;
    let enrollmentToken: string;

    const api = async <T>(server: ServerProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as T };
    };

    /** Polls the command history until `commandId` reaches a final state. */
    const settled = async (server: ServerProcess, deviceId: string, commandId: string, timeoutMs: number): Promise<CommandDto> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await api<{ items: CommandDto[] }>(server, 'GET', `/api/v1/devices/${deviceId}/commands`);
        const command = body.items.find((c) => c.id === commandId);
        if (command && !['pending', 'sent'].includes(command.state)) return command;
        if (Date.now() > deadline) throw new Error(`command ${commandId} still ${command?.state ?? 'missing'} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    const enroll = async (server: ServerProcess, stateDir: string) =>
      runJson<{ deviceId: string; schedule: { initialIntervalSeconds: number } }>(
        AGENT_BIN,
        ['enroll', '--server', server.url, '--token', enrollmentToken, '--state-dir', stateDir, '--yes'],
        env,
      );

    before(async () => {
      backend = await create();
      // Simulate mode for every agent this test starts, whatever the flags: never a real lock or reboot here.
      env = { ...storageEnv(backend.config), CUSTOS_AGENT_ACTIONS: 'simulate' };
      work = mkdtempSync(join(tmpdir(), 'custos-e2e-actions-'));
      const tenant = await runJson<{ tenantId: string }>(
        CUSTOS_BIN,
        ['tenant', 'create', '--name', 'Acme UK', '--country', 'GB', '--admin-email', 'it@acme.example'],
        env,
      );
      adminToken = (
        await runJson<{ token: string }>(
          CUSTOS_BIN,
          ['token', 'create', '--tenant', tenant.tenantId, '--role', 'Tenant Administrator'],
          env,
        )
      ).token;
      enrollmentToken = (
        await runJson<{ token: string }>(
          CUSTOS_BIN,
          ['enrollment-token', 'create', '--tenant', tenant.tenantId, '--ownership', 'corporate'],
          env,
        )
      ).token;
      servers.push(await startServer(env));
      // A second process on the same databases; on SQLite there is only ever one.
      if (name === 'postgres') servers.push(await startServer(env));
    });

    after(async () => {
      await agent?.stop();
      for (const server of servers) await server.stop();
      servers = [];
      rmSync(work, { recursive: true, force: true });
      await backend.dispose();
    });

    test('custos-agent run acknowledges a lock within seconds, through the push channel', async (t) => {
      const receiving = servers[servers.length - 1] as ServerProcess;
      const posting = servers[0] as ServerProcess;
      const stateDir = join(work, 'lock');
      const enrolled = await enroll(receiving, stateDir);
      // The schedule is minutes away (hours after the first 15 minutes): only the push can be this quick.
      assert.ok(enrolled.schedule.initialIntervalSeconds >= 60);
      agent = startAgent(['run', '--state-dir', stateDir, '--actions', 'simulate'], env);
      await agent.waitFor(/push channel connected/);
      await agent.waitFor(/check-in ok/);

      const started = Date.now();
      const queued = await api<CommandDto>(posting, 'POST', `/api/v1/devices/${enrolled.deviceId}/actions/lock`);
      assert.equal(queued.status, 202);
      const done = await settled(posting, enrolled.deviceId, queued.body.id, 10_000);
      const elapsed = Date.now() - started;
      assert.equal(done.state, 'acknowledged', JSON.stringify(done));
      assert.ok(elapsed < 5000, `acknowledged after ${elapsed} ms`);
      t.diagnostic(`lock acknowledged ${elapsed} ms after the POST (${servers.length} server process(es))`);

      const log = readFileSync(join(stateDir, 'simulated-actions.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { action: string; commandId: string });
      assert.deepEqual(
        log.map((l) => [l.action, l.commandId]),
        [['lock', queued.body.id]],
      );

      // A rename and a wipe (not enabled on this agent) are reported too; the daemon keeps running.
      const rename = await api<CommandDto>(posting, 'POST', `/api/v1/devices/${enrolled.deviceId}/actions/rename`, {
        deviceName: 'e2e-box',
      });
      const wipe = await api<CommandDto>(posting, 'POST', `/api/v1/devices/${enrolled.deviceId}/actions/wipe`);
      assert.equal((await settled(posting, enrolled.deviceId, rename.body.id, 10_000)).state, 'acknowledged');
      const refused = await settled(posting, enrolled.deviceId, wipe.body.id, 10_000);
      assert.equal(refused.state, 'error');
      assert.match(refused.result?.detail ?? '', /--allow-wipe/);

      // Retire: acknowledged, the record retired on the server, the agent's key and state gone.
      const retire = await api<CommandDto>(posting, 'POST', `/api/v1/devices/${enrolled.deviceId}/actions/retire`);
      assert.equal((await settled(posting, enrolled.deviceId, retire.body.id, 10_000)).state, 'acknowledged');
      await agent.waitFor(/retired by the server/);
      const device = await api<{ status: string }>(posting, 'GET', `/api/v1/devices/${enrolled.deviceId}`);
      assert.equal(device.body.status, 'retired');
      assert.throws(() => readFileSync(join(stateDir, 'state.json')), /ENOENT/);
    });

    test('custos-agent sync carries out what is queued and reports each result', async () => {
      const server = servers[0] as ServerProcess;
      const stateDir = join(work, 'sync');
      const enrolled = await enroll(server, stateDir);
      const inventory = await api<CommandDto>(server, 'POST', `/api/v1/devices/${enrolled.deviceId}/actions/collect-inventory`);
      const restart = await api<CommandDto>(server, 'POST', `/api/v1/devices/${enrolled.deviceId}/actions/restart`);
      const sync = await runJson<{ sent: string; outcomes: { id: string; action: string; status: string; reported: boolean }[] }>(
        AGENT_BIN,
        ['sync', '--state-dir', stateDir, '--actions', 'simulate'],
        env,
      );
      assert.deepEqual(
        sync.outcomes.map((o) => [o.id, o.status, o.reported]),
        [
          [inventory.body.id, 'acknowledged', true],
          [restart.body.id, 'acknowledged', true],
        ],
      );
      assert.equal(sync.sent, 'full', 'collect-inventory sent the whole inventory');
      const states = await api<{ items: CommandDto[] }>(server, 'GET', `/api/v1/devices/${enrolled.deviceId}/commands`);
      assert.deepEqual(
        states.body.items.map((c) => [c.action, c.state]),
        [
          ['restart', 'acknowledged'],
          ['collect-inventory', 'acknowledged'],
        ],
      );
      const log = readFileSync(join(stateDir, 'simulated-actions.jsonl'), 'utf8');
      assert.match(log, /"action":"restart"/);
    });
  });
}
