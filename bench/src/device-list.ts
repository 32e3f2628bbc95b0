/**
 * `node bench/dist/device-list.js` (after `npm run build`): issue 5's "the device table stays
 * responsive with 100,000 seeded devices". For each size (1,000 as the baseline, then 100,000) it
 * seeds a fresh SQLite store — a tenant made by the real `custos tenant create`, the devices inserted
 * through the storage layer (the device repository, 5,000 per transaction) — starts a real
 * `custos serve` on it, signs an admin in, and in Debian's Chromium (playwright-core) measures:
 *
 * - first rows: from navigation start of `/devices` until the table shows its first page of rows
 *   (the page's own `performance.now()`: HTML, bundle, session, the list request, render);
 * - next page: from the click on "Next" until the first row shows another device.
 *
 * Each is the median of several rounds (a fresh page load per round; several "Next" clicks per
 * round). The report gives both sizes and the ratio 100,000 ÷ 1,000. Numbers are reported, never
 * asserted; the run fails only when a measurement would mean nothing (a page without the expected
 * rows, a store without the seeded devices). Environment: `BENCH_LIST_SIZES` (default
 * "1000,100000"), `BENCH_LIST_ROUNDS` (default 5), `CUSTOS_CHROMIUM` (default /usr/bin/chromium).
 */
import { execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openRuntime } from '@custos/server';
import { defaultCountryRegions } from '../../packages/server/dist/domain/tenants/region-map.js';
import { sqliteBackend, TEST_REGIONS } from '../../packages/server/dist/test-support/backends.js';
import { deviceRecord } from '../../packages/server/dist/test-support/device-fixture.js';
import { Cleanup } from './cleanup.js';
import { median } from './load-run.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CUSTOS_BIN = join(ROOT, 'packages', 'server', 'bin', 'custos.js');
const CHROMIUM = process.env['CUSTOS_CHROMIUM'] ?? '/usr/bin/chromium';
const SIZES = (process.env['BENCH_LIST_SIZES'] ?? '1000,100000').split(',').map((s) => Number(s.trim()));
const ROUNDS = Number(process.env['BENCH_LIST_ROUNDS'] ?? '5');
const NEXT_CLICKS = 3;
const PAGE_ROWS = 50;
const SEED_BATCH = 5_000;
const PLATFORMS = ['linux', 'macos', 'windows', 'ios', 'android'] as const;

const run = promisify(execFile);
const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

interface Measurement {
  devices: number;
  seedMs: number;
  firstRowsMs: number[];
  nextPageMs: number[];
}

async function cli<T>(args: string[], env: NodeJS.ProcessEnv): Promise<T> {
  const { stdout } = await run(process.execPath, [CUSTOS_BIN, ...args, '--json'], { env, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as T;
}

/** `custos serve` on a free loopback port; resolves with its URL and a stop function. */
async function serve(env: NodeJS.ProcessEnv): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CUSTOS_BIN, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /custos: listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Inserts `count` devices through the tenant's device repository; returns the milliseconds it took. */
async function seed(config: Parameters<typeof openRuntime>[0]['storage'], tenantId: string, count: number): Promise<number> {
  const runtime = await openRuntime({
    storage: config,
    regions: TEST_REGIONS,
    regionMap: { countries: defaultCountryRegions(), fallback: 'us' },
  });
  try {
    const data = await runtime.services.tenants.data(tenantId);
    const started = performance.now();
    const now = Date.now();
    for (let from = 0; from < count; from += SEED_BATCH) {
      await data.transaction(async (trx) => {
        for (let i = from; i < Math.min(count, from + SEED_BATCH); i++) {
          const platform = PLATFORMS[i % PLATFORMS.length] as (typeof PLATFORMS)[number];
          await trx.devices.insert(
            deviceRecord({
              platform,
              ownership: i % 4 === 0 ? 'personal' : 'corporate',
              complianceState: i % 3 === 0 ? 'noncompliant' : 'compliant',
              userEmail: `user${i}@bench.example`,
              hardware: {
                deviceName: `device-${String(i).padStart(6, '0')}`,
                manufacturer: 'Bench',
                model: `Model ${i % 17}`,
                operatingSystem: platform,
                osVersion: `${10 + (i % 5)}.${i % 10}`,
                serialNumber: `SN${String(i).padStart(8, '0')}`,
              },
              lastCheckInAt: now - (i % 1000) * 60_000,
              enrolledAt: now - i * 1000,
            }),
          );
        }
      });
      if ((from / SEED_BATCH) % 5 === 4) log(`  seeded ${Math.min(count, from + SEED_BATCH)} of ${count}`);
    }
    const elapsed = performance.now() - started;
    const stored = await runtime.storage
      .inspectRegionStore('eu')
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    if (Number(stored.n) !== count) throw new Error(`the store holds ${String(stored.n)} devices, not ${count}`);
    return elapsed;
  } finally {
    await runtime.close();
  }
}

const firstRowText = (page: Page) => page.locator('table tbody tr').first().innerText();

/** One round: a fresh load of the list, then NEXT_CLICKS pages. */
async function round(page: Page, url: string): Promise<{ firstRows: number; next: number[] }> {
  await page.goto(`${url}/devices`, { waitUntil: 'commit' });
  await page
    .locator('table tbody tr')
    .nth(PAGE_ROWS - 1)
    .waitFor({ timeout: 60_000 });
  const firstRows = await page.evaluate(() => (globalThis as unknown as { performance: { now(): number } }).performance.now());
  const next: number[] = [];
  for (let click = 0; click < NEXT_CLICKS; click++) {
    const before = await firstRowText(page);
    const started = performance.now();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForFunction(
      (text) => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): { innerText: string } | null } }).document;
        const row = doc.querySelector('table tbody tr');
        return row !== null && row.innerText !== text;
      },
      before,
      { timeout: 60_000 },
    );
    next.push(performance.now() - started);
    const rows = await page.locator('table tbody tr').count();
    if (rows !== PAGE_ROWS) throw new Error(`a page shows ${rows} rows, not ${PAGE_ROWS}`);
  }
  return { firstRows, next };
}

async function measure(devices: number, browser: Browser, cleanup: Cleanup): Promise<Measurement> {
  const backend = sqliteBackend();
  const dispose = cleanup.defer(`store of ${devices}`, () => backend.dispose());
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CUSTOS_LOG_LEVEL: 'warn',
      CUSTOS_REGIONS: TEST_REGIONS.join(','),
      CUSTOS_DATABASE: 'sqlite',
      CUSTOS_DATA_DIR: backend.config.kind === 'sqlite' ? backend.config.dataDir : '',
    };
    const tenant = await cli<{ tenantId: string; adminUserName: string; adminInitialPassword: string }>(
      ['tenant', 'create', '--name', 'Bench Corp', '--country', 'GB', '--admin-email', 'it@bench.example'],
      env,
    );
    const token = (await cli<{ token: string }>(['token', 'create', '--tenant', tenant.tenantId, '--role', 'Tenant Administrator'], env))
      .token;
    log(`seeding ${devices} devices`);
    const seedMs = await seed(backend.config, tenant.tenantId, devices);
    log(`  ${devices} devices in ${(seedMs / 1000).toFixed(1)} s`);
    const server = await serve(env);
    const stop = cleanup.defer(`server of ${devices}`, () => server.stop());
    try {
      // The bench signs in with a password only: the admin's second factor is not what is measured.
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const current = await (await fetch(`${server.url}/api/v1/tenant/identity-settings`, { headers: auth })).json();
      const changed = await fetch(`${server.url}/api/v1/tenant/identity-settings`, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ ...(current as object), mfaRequiredForAdmins: false }),
      });
      if (!changed.ok) throw new Error(`identity settings: ${changed.status} ${await changed.text()}`);
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      try {
        const login = await context.request.post(`${server.url}/api/v1/auth/login`, {
          data: { tenantId: tenant.tenantId, userName: tenant.adminUserName, password: tenant.adminInitialPassword },
        });
        if (!login.ok()) throw new Error(`sign-in: ${login.status()} ${await login.text()}`);
        const page = await context.newPage();
        await round(page, server.url); // warm-up: the server's statement caches, the browser's bundle cache
        const firstRowsMs: number[] = [];
        const nextPageMs: number[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          const result = await round(page, server.url);
          firstRowsMs.push(result.firstRows);
          nextPageMs.push(...result.next);
          log(`  round ${r + 1}: first rows ${result.firstRows.toFixed(0)} ms, next ${result.next.map((n) => n.toFixed(0)).join('/')} ms`);
        }
        return { devices, seedMs, firstRowsMs, nextPageMs };
      } finally {
        await context.close();
      }
    } finally {
      await stop();
    }
  } finally {
    await dispose();
  }
}

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  const interrupt = () => void cleanup.runAll().finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  cleanup.defer('chromium', () => browser.close());
  try {
    const results: Measurement[] = [];
    for (const size of SIZES) results.push(await measure(size, browser, cleanup));
    const base = results[0] as Measurement;
    const fmt = (n: number) => `${n.toFixed(0)} ms`;
    const lines = [
      'backend  devices   seed      first rows (median)  next page (median)  first rows ratio  next page ratio',
      ...results.map((m) => {
        const first = median(m.firstRowsMs);
        const next = median(m.nextPageMs);
        return [
          'sqlite  ',
          String(m.devices).padEnd(9),
          `${(m.seedMs / 1000).toFixed(1)} s`.padEnd(9),
          fmt(first).padEnd(20),
          fmt(next).padEnd(19),
          (first / median(base.firstRowsMs)).toFixed(2).padEnd(17),
          (next / median(base.nextPageMs)).toFixed(2),
        ].join(' ');
      }),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    process.stdout.write(
      `\nratios are against ${base.devices} devices; first rows: navigation start to ${PAGE_ROWS} rows shown; ` +
        `next page: click to the next page's first row; medians of ${ROUNDS} loads and ${ROUNDS * NEXT_CLICKS} clicks\n`,
    );
  } finally {
    await cleanup.runAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
