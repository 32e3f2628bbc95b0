/**
 * The foundation's acceptance, black-box: a real `custos serve` process, the real CLI, and the real
 * agent enrolling this machine — on SQLite and on PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import si from 'systeminformation';
import { normalizeReportedValue } from '@custos/agent';
import { Storage } from '@custos/server';
import { BACKENDS, TEST_REGIONS, type TestBackend } from '@custos/server/test-support/backends';
import { AGENT_BIN, CUSTOS_BIN, runCommand, runJson, startServer, storageEnv, type ServerProcess } from './support/processes.js';

interface DeviceDto {
  id: string;
  serialNumber: string | null;
  model: string | null;
  manufacturer: string | null;
  osVersion: string | null;
  operatingSystem: string | null;
  deviceName: string | null;
  wifiMac: string | null;
  ethernetMac: string | null;
  ownership: string;
  lastCheckInAt: string | null;
}

async function installedDebianPackages(): Promise<string[] | undefined> {
  try {
    const { stdout } = await promisify(execFile)('dpkg-query', ['-W', '-f=${binary:Package}\t${db:Status-Abbrev}\n'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout
      .split('\n')
      .filter((l) => l.split('\t')[1]?.trim() === 'ii')
      .map((l) => l.split('\t')[0] as string);
  } catch {
    return undefined;
  }
}

for (const { name, create } of BACKENDS) {
  describe(`enrolling this machine, on ${name}`, () => {
    let backend: TestBackend;
    let env: NodeJS.ProcessEnv;
    let server: ServerProcess;
    let work: string;
    let gb: { tenantId: string; region: string };
    let us: { tenantId: string; region: string };
    let adminToken: string;

    const api = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
      assert.equal(res.status, 200, `${path}: ${res.status}`);
      return (await res.json()) as T;
    };

    before(async () => {
      backend = await create();
      env = storageEnv(backend.config);
      work = mkdtempSync(join(tmpdir(), 'custos-e2e-'));
      gb = await runJson(CUSTOS_BIN, ['tenant', 'create', '--name', 'Acme UK', '--country', 'GB', '--admin-email', 'it@acme.example'], env);
      us = await runJson(
        CUSTOS_BIN,
        ['tenant', 'create', '--name', 'Acme US', '--country', 'US', '--admin-email', 'it@acme-us.example'],
        env,
      );
      adminToken = (
        await runJson<{ token: string }>(CUSTOS_BIN, ['token', 'create', '--tenant', gb.tenantId, '--role', 'Tenant Administrator'], env)
      ).token;
      server = await startServer(env);
    });

    after(async () => {
      await server?.stop();
      rmSync(work, { recursive: true, force: true });
      await backend?.dispose();
    });

    test('tenants are pinned to the regions of their countries', () => {
      assert.equal(gb.region, 'eu');
      assert.equal(us.region, 'us');
    });

    test('the real agent enrolls this machine and the API shows what systeminformation reports', async () => {
      const { token } = await runJson<{ token: string }>(
        CUSTOS_BIN,
        ['enrollment-token', 'create', '--tenant', gb.tenantId, '--ownership', 'corporate'],
        env,
      );
      const stateDir = join(work, 'corporate');
      const enrolled = await runJson<{ deviceId: string }>(
        AGENT_BIN,
        ['enroll', '--server', server.url, '--token', token, '--state-dir', stateDir],
        env,
      );
      const sync = await runJson<{ inventory: string }>(AGENT_BIN, ['sync', '--state-dir', stateDir], env);
      assert.ok(['stored', 'unchanged'].includes(sync.inventory));

      const list = await api<{ items: DeviceDto[]; nextCursor: string | null }>('/api/v1/devices');
      const device = list.items.find((d) => d.id === enrolled.deviceId);
      assert.ok(device, 'this machine is in the device list');
      assert.ok(device.lastCheckInAt);
      assert.equal(device.ownership, 'corporate');

      const [system, os, interfaces] = await Promise.all([si.system(), si.osInfo(), si.networkInterfaces()]);
      assert.equal(device.serialNumber, normalizeReportedValue(system.serial));
      assert.equal(device.model, normalizeReportedValue(system.model));
      assert.equal(device.manufacturer, normalizeReportedValue(system.manufacturer));
      assert.equal(device.osVersion, normalizeReportedValue(os.release));
      assert.equal(device.operatingSystem, normalizeReportedValue(os.distro));
      const macs = (Array.isArray(interfaces) ? interfaces : [interfaces]).map((i) => i.mac.toLowerCase());
      for (const mac of [device.wifiMac, device.ethernetMac])
        if (mac !== null) assert.ok(macs.includes(mac), `${mac} is one of this machine's MACs`);
      const wired = (Array.isArray(interfaces) ? interfaces : [interfaces]).filter(
        (i) => i.type === 'wired' && !i.internal && !i.virtual && i.mac && i.mac !== '00:00:00:00:00:00',
      );
      if (wired.length > 0) assert.notEqual(device.ethernetMac, null, 'a wired interface is reported');

      const apps = await api<{ items: { name: string; appId: string | null; managed: boolean }[] }>(`/api/v1/devices/${device.id}/apps`);
      const packages = await installedDebianPackages();
      if (packages) {
        assert.equal(apps.items.length, packages.length, 'every installed package of a corporate device is stored');
        assert.ok(apps.items.some((a) => a.appId === 'dpkg'));
      }
      const status = await runCommand(AGENT_BIN, ['status', '--state-dir', stateDir], env);
      assert.equal(status.code, 0);
      assert.match(status.stdout, new RegExp(enrolled.deviceId));
    });

    test('a personal device keeps none of its unmanaged apps — checked in the store itself', async () => {
      const { token } = await runJson<{ token: string }>(
        CUSTOS_BIN,
        ['enrollment-token', 'create', '--tenant', gb.tenantId, '--ownership', 'personal'],
        env,
      );
      const stateDir = join(work, 'personal');
      const enrolled = await runJson<{ deviceId: string }>(
        AGENT_BIN,
        ['enroll', '--server', server.url, '--token', token, '--state-dir', stateDir],
        env,
      );
      const file = join(work, 'personal-inventory.json');
      writeFileSync(
        file,
        JSON.stringify({
          hardware: { deviceName: 'my-own-laptop', osVersion: '12' },
          apps: [
            { name: 'Signal', version: '7', appId: 'org.signal', managed: false },
            { name: 'Company VPN', version: '2', appId: 'com.acme.vpn', managed: true },
          ],
        }),
      );
      await runJson(AGENT_BIN, ['sync', '--state-dir', stateDir, '--inventory-from', file], env);
      const storage = Storage.open(backend.config, TEST_REGIONS);
      try {
        const rows = await storage
          .inspectRegionStore('eu')
          .selectFrom('device_apps')
          .select(['name', 'managed'])
          .where('tenant_id', '=', gb.tenantId)
          .where('device_id', '=', enrolled.deviceId)
          .execute();
        assert.deepEqual(rows, [{ name: 'Company VPN', managed: 1 }]);
      } finally {
        await storage.close();
      }
    });

    test('an inventory with "gpsLocation" gets 422 naming it, and the stored inventory is unchanged', async () => {
      const { token } = await runJson<{ token: string }>(
        CUSTOS_BIN,
        ['enrollment-token', 'create', '--tenant', gb.tenantId, '--ownership', 'corporate'],
        env,
      );
      const stateDir = join(work, 'refused');
      const enrolled = await runJson<{ deviceId: string }>(
        AGENT_BIN,
        ['enroll', '--server', server.url, '--token', token, '--state-dir', stateDir],
        env,
      );
      const before = await api<DeviceDto>(`/api/v1/devices/${enrolled.deviceId}`);
      const appsBefore = await api<{ items: unknown[] }>(`/api/v1/devices/${enrolled.deviceId}/apps`);
      const file = join(work, 'bad-inventory.json');
      writeFileSync(file, JSON.stringify({ hardware: { deviceName: 'renamed', gpsLocation: '51.5,-0.12' }, apps: [] }));
      const result = await runCommand(AGENT_BIN, ['sync', '--state-dir', stateDir, '--inventory-from', file], env);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /gpsLocation/);
      const afterRefusal = await api<DeviceDto>(`/api/v1/devices/${enrolled.deviceId}`);
      assert.deepEqual(afterRefusal, before);
      assert.deepEqual(await api<{ items: unknown[] }>(`/api/v1/devices/${enrolled.deviceId}/apps`), appsBefore);
    });

    test('a reused enrollment token is refused with a clear error', async () => {
      const { token } = await runJson<{ token: string }>(
        CUSTOS_BIN,
        ['enrollment-token', 'create', '--tenant', us.tenantId, '--ownership', 'corporate', '--max-uses', '1'],
        env,
      );
      await runJson(AGENT_BIN, ['enroll', '--server', server.url, '--token', token, '--state-dir', join(work, 'once-1')], env);
      const again = await runCommand(
        AGENT_BIN,
        ['enroll', '--server', server.url, '--token', token, '--state-dir', join(work, 'once-2')],
        env,
      );
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /used up|used as many times/i);
    });

    test("the other regions' stores hold no row of the GB tenant, and none of the US tenant outside us", async () => {
      const storage = Storage.open(backend.config, TEST_REGIONS);
      try {
        for (const region of TEST_REGIONS) {
          const db = storage.inspectRegionStore(region);
          for (const table of ['tenant_settings', 'tenant_ca', 'api_tokens', 'enrollment_tokens', 'devices', 'device_apps'] as const) {
            const gbRows = await db.selectFrom(table).select('tenant_id').where('tenant_id', '=', gb.tenantId).execute();
            const usRows = await db.selectFrom(table).select('tenant_id').where('tenant_id', '=', us.tenantId).execute();
            if (region !== 'eu') assert.equal(gbRows.length, 0, `${region}.${table} holds no GB row`);
            if (region !== 'us') assert.equal(usRows.length, 0, `${region}.${table} holds no US row`);
          }
        }
        const devicesInEu = await storage
          .inspectRegionStore('eu')
          .selectFrom('devices')
          .select('id')
          .where('tenant_id', '=', gb.tenantId)
          .execute();
        assert.ok(devicesInEu.length >= 3);
      } finally {
        await storage.close();
      }
    });
  });
}
