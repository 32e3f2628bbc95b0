/**
 * `node bench/dist/export.js` (after `npm run build`): issue 6's "export of 100,000 devices runs in
 * bounded memory". It seeds a fresh SQLite store with one tenant whose devices carry every sensitive
 * field (so each row is decrypted on the way out) and two apps each, inserted through the import
 * path (encrypted, 5,000 devices per transaction). Then a child process that does nothing but the export —
 * `ExportService.exportTo`, the code behind `custos export` and `POST /api/v1/exports` — writes the
 * archive to a file, and reports its time and its peak resident set size (`maxRSS`). The same is
 * done for a store one tenth the size: if memory is bounded the two peaks are close, while the
 * archive grows tenfold. Numbers are reported, never asserted; the run fails only when the archive
 * does not hold the seeded rows.
 *
 * Environment: `BENCH_EXPORT_DEVICES` (default 100000), `BENCH_EXPORT_APPS` (apps per device,
 * default 2). The default run takes about a minute on the 2-core development machine.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openRuntime } from '@custos/server';
import { defaultCountryRegions } from '../../packages/server/dist/domain/tenants/region-map.js';
import { sqliteBackend, TEST_REGIONS } from '../../packages/server/dist/test-support/backends.js';
import { deviceRecord } from '../../packages/server/dist/test-support/device-fixture.js';
import { Cleanup } from './cleanup.js';

const run = promisify(execFile);
const SYSTEM = { type: 'system', id: 'cli', name: 'export bench' } as const;
const DEVICES = Number(process.env['BENCH_EXPORT_DEVICES'] ?? '100000');
const APPS = Number(process.env['BENCH_EXPORT_APPS'] ?? '2');
const SEED_BATCH = 5_000;

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

type StorageConfig = Parameters<typeof openRuntime>[0]['storage'];

function runtimeOf(storage: StorageConfig) {
  return openRuntime({ storage, regions: TEST_REGIONS, regionMap: { countries: defaultCountryRegions(), fallback: 'us' } });
}

interface ChildReport {
  ms: number;
  maxRssMb: number;
  bytes: number;
  devices: number;
  apps: number;
}

/** The child: exports one tenant to a file and reports time and peak RSS on stdout. */
async function exportChild(dataDir: string, tenantId: string, out: string): Promise<void> {
  const runtime = await runtimeOf({ kind: 'sqlite', dataDir });
  try {
    const started = performance.now();
    const { manifest } = await runtime.services.exports.exportTo(SYSTEM, tenantId, createWriteStream(out));
    const ms = performance.now() - started;
    const count = (name: string) => manifest.files.find((f) => f.name === name)?.count ?? -1;
    const report: ChildReport = {
      ms,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      bytes: (await stat(out)).size,
      devices: count('devices.jsonl'),
      apps: count('apps.jsonl'),
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await runtime.close();
  }
}

/** Rows per seeding transaction. */
async function seed(storage: StorageConfig, count: number): Promise<string> {
  const runtime = await runtimeOf(storage);
  try {
    const { tenant } = await runtime.services.tenants.create({ name: 'Export bench', country: 'DE' });
    const data = await runtime.services.tenants.data(tenant.id);
    // Through the import path (`TenantRowStore.insert`, multi-row INSERTs, sensitive values encrypted):
    // seeding row by row through the device repository would take longer than the export itself.
    for (let done = 0; done < count; done += SEED_BATCH) {
      await data.transaction(async (trx) => {
        const devices: Record<string, unknown>[] = [];
        const apps: Record<string, unknown>[] = [];
        for (let i = done; i < Math.min(count, done + SEED_BATCH); i++) {
          const d = deviceRecord();
          devices.push({
            id: d.id,
            platform: d.platform,
            management_channel: d.managementChannel,
            ownership: d.ownership,
            status: d.status,
            compliance_state: d.complianceState,
            app_list_policy: 0,
            device_name: `device-${i}`,
            model: 'ThinkPad X1',
            os_version: '14.2',
            serial_number: `SN${String(i).padStart(8, '0')}`,
            wifi_mac: `02:00:00:${[16, 8, 0].map((shift) => ((i >> shift) & 255).toString(16).padStart(2, '0')).join(':')}`,
            imei: `35${String(i).padStart(13, '0')}`,
            exchange_device_id: `EXCH${i}`,
            user_email: `user${i % 5000}@example.com`,
            consent_statement_version: d.consent.privacyStatementVersion,
            consent_accepted_at: d.consent.acceptedAt,
            consent_method: d.consent.method,
            certificate_pem: d.certificatePem,
            certificate_serial: d.certificateSerial,
            public_key_spki: d.publicKeySpki,
            enrolled_at: d.enrolledAt,
          });
          for (let a = 0; a < APPS; a++) {
            apps.push({
              device_id: d.id,
              app_key: `app-${a}`,
              name: `App ${a}`,
              version: '1.0',
              app_id: `com.example.app${a}`,
              install_location: null,
              size_bytes: 1_000_000,
              managed: 0,
            });
          }
        }
        await trx.tableRows.insert('devices', devices);
        await trx.tableRows.insert('device_apps', apps);
      });
    }
    return tenant.id;
  } finally {
    await runtime.close();
  }
}

async function measure(devices: number, cleanup: Cleanup): Promise<ChildReport> {
  const backend = sqliteBackend();
  cleanup.defer(`store of ${devices} devices`, () => backend.dispose());
  if (backend.config.kind !== 'sqlite') throw new Error('the export bench runs on SQLite');
  const seedStart = performance.now();
  const tenantId = await seed(backend.config, devices);
  log(`seeded ${devices} devices × ${APPS} apps in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
  const out = join(backend.config.dataDir, 'export.tar');
  const { stdout } = await run(process.execPath, [fileURLToPath(import.meta.url), '--child', backend.config.dataDir, tenantId, out], {
    maxBuffer: 1024 * 1024,
  });
  const report = JSON.parse(stdout.trim()) as ChildReport;
  if (report.devices !== devices || report.apps !== devices * APPS) {
    throw new Error(`the archive holds ${report.devices} devices and ${report.apps} apps; ${devices} and ${devices * APPS} were seeded`);
  }
  return report;
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  try {
    const small = await measure(Math.max(1, Math.round(DEVICES / 10)), cleanup);
    const large = await measure(DEVICES, cleanup);
    const row = (label: string, r: ChildReport) =>
      `${label.padEnd(16)} ${(r.ms / 1000).toFixed(1).padStart(8)} s ${(r.bytes / 1024 / 1024).toFixed(1).padStart(9)} MB ${r.maxRssMb.toFixed(0).padStart(10)} MB`;
    process.stdout.write(
      [
        `${'export (sqlite)'.padEnd(16)} ${'time'.padStart(10)} ${'archive'.padStart(12)} ${'peak RSS'.padStart(13)}`,
        row(`${small.devices} devices`, small),
        row(`${large.devices} devices`, large),
        `peak RSS ratio ${(large.maxRssMb / small.maxRssMb).toFixed(2)} for ${(large.bytes / small.bytes).toFixed(1)}× the archive (bounded memory: close to 1)`,
      ].join('\n') + '\n',
    );
  } finally {
    await cleanup.runAll();
  }
}

if (process.argv[2] === '--child') {
  const [, , , dataDir, tenantId, out] = process.argv;
  await exportChild(dataDir as string, tenantId as string, out as string);
} else {
  await main();
}
