#!/usr/bin/env node
// A newcomer's tour, end to end on the embedded default (SQLite, no other service): starts a real
// server in a scratch directory, creates a GB tenant (region eu) and a US tenant (region us), enrolls
// THIS machine with the real agent, syncs, prints what the server stored, and shows that the US
// region's store holds no row of the GB tenant. Run after `npm ci`: node scripts/enroll-this-machine.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_BIN, CUSTOS_BIN, runJson, startServer, storageEnv } from '../e2e/dist/support/processes.js';
import { Storage } from '../packages/server/dist/index.js';

if (process.argv.includes('--help')) {
  console.log(
    'Usage: node scripts/enroll-this-machine.mjs [--keep]\n  --keep  leave the scratch directory (server data and agent state) in place',
  );
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'custos-tour-'));
const config = { kind: 'sqlite', dataDir: join(work, 'data') };
const env = storageEnv(config);
const step = (text) => console.log(`\n== ${text}`);
let server;
try {
  step('Creating a GB tenant and a US tenant');
  const gb = await runJson(
    CUSTOS_BIN,
    ['tenant', 'create', '--name', 'Acme UK', '--country', 'GB', '--admin-email', 'it@acme.example'],
    env,
  );
  const us = await runJson(CUSTOS_BIN, ['tenant', 'create', '--name', 'Acme US', '--country', 'US'], env);
  console.log(`GB tenant ${gb.tenantId} → region ${gb.region}; US tenant ${us.tenantId} → region ${us.region}`);
  const { token: adminToken } = await runJson(
    CUSTOS_BIN,
    ['token', 'create', '--tenant', gb.tenantId, '--role', 'Read Only Operator'],
    env,
  );
  const { token } = await runJson(
    CUSTOS_BIN,
    ['enrollment-token', 'create', '--tenant', gb.tenantId, '--ownership', 'corporate', '--max-uses', '1'],
    env,
  );

  step('Starting custos serve');
  server = await startServer(env);
  console.log(server.url);

  step('Enrolling this machine with custos-agent, then syncing');
  const stateDir = join(work, 'agent');
  const enrolled = await runJson(AGENT_BIN, ['enroll', '--server', server.url, '--token', token, '--state-dir', stateDir, '--yes'], env);
  await runJson(AGENT_BIN, ['sync', '--state-dir', stateDir], env);

  step('What the admin API shows');
  const headers = { authorization: `Bearer ${adminToken}` };
  const device = await (await fetch(`${server.url}/api/v1/devices/${enrolled.deviceId}`, { headers })).json();
  console.log(JSON.stringify(device, null, 2));
  const apps = await (await fetch(`${server.url}/api/v1/devices/${enrolled.deviceId}/apps`, { headers })).json();
  console.log(
    `${apps.items.length} installed apps, e.g. ${apps.items
      .slice(0, 5)
      .map((a) => `${a.name} ${a.version}`)
      .join(', ')}`,
  );

  step('Locality: rows of the GB tenant in each region store');
  const storage = Storage.open(config, ['eu', 'us', 'apac']);
  for (const region of ['eu', 'us', 'apac']) {
    const rows = await storage.inspectRegionStore(region).selectFrom('devices').select('id').where('tenant_id', '=', gb.tenantId).execute();
    console.log(`${region}: ${rows.length} device row(s)`);
  }
  await storage.close();
} finally {
  await server?.stop();
  if (process.argv.includes('--keep')) console.log(`\nKept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
