/**
 * Configuration profiles end to end (SPEC scenario: the admin pushes the office Wi-Fi, the VPN and
 * the company root certificate to all corporate devices; each device reports whether it applied
 * each one): a real `custos serve`, the real agent daemon holding its push channel in root-less
 * mode (`--profile-root`: the files land under a test directory and no system command runs), on
 * SQLite and PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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

interface DeviceProfilesDto {
  items: { profileId: string; status: string; reason: string | null; removing: boolean; publicKey: string | null }[];
}

for (const { name, create } of BACKENDS) {
  describe(`configuration profiles reach the running agent, on ${name}`, () => {
    let backend: TestBackend;
    let env: NodeJS.ProcessEnv;
    let server: ServerProcess | undefined;
    let agent: AgentProcess | undefined;
    let work: string;
    let adminToken: string;
    let enrollmentToken: string;

    const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${server?.url ?? ''}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    };

    /** Polls the device's profiles until `done` holds (fails after a generous guard, never on timing). */
    const until = async (deviceId: string, done: (items: DeviceProfilesDto['items']) => boolean): Promise<DeviceProfilesDto['items']> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { body } = await api<DeviceProfilesDto>('GET', `/api/v1/devices/${deviceId}/profiles`);
        if (done(body.items)) return body.items;
        if (Date.now() > deadline) throw new Error(`profiles never settled: ${JSON.stringify(body.items)}\n${agent?.output() ?? ''}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    before(async () => {
      backend = await create();
      env = { ...storageEnv(backend.config), CUSTOS_AGENT_ACTIONS: 'simulate' };
      work = mkdtempSync(join(tmpdir(), 'custos-e2e-profiles-'));
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
      server = await startServer(env);
    });

    after(async () => {
      await agent?.stop();
      await server?.stop();
      rmSync(work, { recursive: true, force: true });
      await backend.dispose();
    });

    test('Wi-Fi and the tenant root are applied and reported; the root disappears when unassigned', async (t) => {
      const stateDir = join(work, 'device');
      const profileRoot = join(work, 'root');
      const enrolled = await runJson<{ deviceId: string; caCertificate?: string }>(
        AGENT_BIN,
        ['enroll', '--server', server?.url ?? '', '--token', enrollmentToken, '--state-dir', stateDir, '--yes'],
        env,
      );
      agent = startAgent(['run', '--state-dir', stateDir, '--profile-root', profileRoot], env);
      await agent.waitFor(/push channel connected/);
      await agent.waitFor(/check-in ok/);

      const wifi = await api<{ id: string }>('POST', '/api/v1/configuration-profiles', {
        name: 'Office Wi-Fi',
        kind: 'wifi',
        wifi: { ssid: 'Acme Office', security: 'wpa2-personal', passphrase: 'correct horse battery' },
      });
      const root = await api<{ id: string }>('POST', '/api/v1/configuration-profiles', {
        name: 'Acme root',
        kind: 'certificate',
        certificate: { certificateType: 'trustedRoot', trustedRoot: { source: 'tenantCa' } },
      });
      const vpn = await api<{ id: string }>('POST', '/api/v1/configuration-profiles', {
        name: 'Acme VPN',
        kind: 'vpn',
        vpn: {
          vpnType: 'wireguard',
          wireguard: {
            addresses: ['10.8.0.2/32'],
            peers: [
              { publicKey: 'DXoHDDz68FMyrycXsMXDsU1nnR6wM22AkkCKKAZ+g2o=', endpoint: 'vpn.acme.example:51820', allowedIPs: ['10.0.0.0/8'] },
            ],
          },
        },
      });
      assert.equal(wifi.status, 201);
      assert.equal(root.status, 201);
      assert.equal(vpn.status, 201);
      const started = Date.now();
      for (const id of [wifi.body.id, vpn.body.id, root.body.id]) {
        const assigned = await api('PUT', `/api/v1/configuration-profiles/${id}/assignments`, {
          assignments: [{ target: 'allDevices', mode: 'include' }],
        });
        assert.equal(assigned.status, 200);
      }
      const applied = await until(enrolled.deviceId, (items) => items.length === 3 && items.every((i) => i.status === 'succeeded'));
      t.diagnostic(`all three profiles succeeded ${Date.now() - started} ms after the assignment (push channel)`);
      assert.deepEqual(
        applied.map((i) => i.removing),
        [false, false, false],
      );
      // The WireGuard key was generated on the device; the server learns only its public half.
      const publicKey = applied.find((i) => i.profileId === vpn.body.id)?.publicKey ?? '';
      assert.match(publicKey, /^[A-Za-z0-9+/]{43}=$/);
      const tunnel = readFileSync(join(profileRoot, 'etc/NetworkManager/system-connections', `custos-${vpn.body.id}.nmconnection`), 'utf8');
      assert.match(tunnel, /type=wireguard/);
      assert.doesNotMatch(tunnel, new RegExp(publicKey.replace(/[+/]/g, '\\$&')), 'the private key, not the reported public one');

      const anchor = join(profileRoot, 'usr/local/share/ca-certificates', `custos-${root.body.id}.crt`);
      const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as { caCertificatePem: string };
      assert.equal(readFileSync(anchor, 'utf8').trim(), state.caCertificatePem.trim(), "the tenant's root, where the adapter puts it");
      const keyfile = join(profileRoot, 'etc/NetworkManager/system-connections', `custos-${wifi.body.id}.nmconnection`);
      assert.match(readFileSync(keyfile, 'utf8'), /ssid=Acme Office\n/);
      assert.equal(statSync(keyfile).mode & 0o777, 0o600);

      const unassigned = await api('PUT', `/api/v1/configuration-profiles/${root.body.id}/assignments`, { assignments: [] });
      assert.equal(unassigned.status, 200);
      const remaining = await until(enrolled.deviceId, (items) => items.length === 2);
      assert.deepEqual(
        remaining.map((i) => [i.profileId, i.status]).sort(),
        [
          [vpn.body.id, 'succeeded'],
          [wifi.body.id, 'succeeded'],
        ].sort(),
      );
      assert.equal(existsSync(anchor), false, 'the root is gone from the trust store');
      assert.equal(existsSync(keyfile), true, 'the Wi-Fi profile stays');
      const summary = await api<{ counts: Record<string, number> }>('GET', `/api/v1/configuration-profiles/${wifi.body.id}/status`);
      assert.deepEqual(summary.body.counts, { pending: 0, succeeded: 1, failed: 0, notApplicable: 0 });
    });
  });
}
