/**
 * `npm run bench`: the speed ratios of SPEC §1.7, on SQLite and PostgreSQL, each measured side by
 * side with its baseline in the same run (bench/README.md says what each one measures and why the
 * baseline is fair):
 *
 * - check-in: requests/s of authenticated no-change device check-ins against a real listening
 *   Custos server ÷ requests/s of a bare Fastify hello-world under the same load. Goal ≥ 0.5.
 * - ingest: time to store N devices × M apps through CheckInService.checkIn ÷ the time the bare
 *   driver takes to write the same rows. Goal ≤ 2.0.
 * - apple-mdm: requests/s of Apple MDM `Idle` polls with nothing queued ÷ a bare Fastify server
 *   answering the same requests, for signed messages and behind a TLS proxy
 *   (bench/src/apple-poll.ts). Goal ≥ 0.3.
 *
 * The ratios are reported, not asserted. The run fails (exit 1) only when a measurement is
 * meaningless: more than 1% of the requests did not get a 200, or the stores did not end up
 * holding what was sent.
 */
import type { TestBackend } from '../../packages/server/dist/test-support/backends.js';
import { postgresBackend, sqliteBackend } from '../../packages/server/dist/test-support/backends.js';
import { CheckInLoad, type LoadResult } from './checkin-load.js';
import type { CheckInServerReady, CheckInServerStart } from './checkin-server.js';
import { ChildServer } from './child-server.js';
import { Cleanup } from './cleanup.js';
import type { HelloReady } from './hello-server.js';
import { buildWorkload, measureIngest, type IngestWorkload } from './ingest.js';
import { measureApplePoll } from './apple-poll.js';
import { describeLoad, loadProblem, median, medianRound } from './load-run.js';

const CHECKIN_GOAL = 0.5;
const INGEST_GOAL = 2.0;
/** Above this the load generator, not the bare server, bounded the baseline. */
const GENERATOR_SATURATED = 0.9;
/** `custos serve`'s default PostgreSQL pool size (CUSTOS_DATABASE_MAX_CONNECTIONS). */
const SERVE_POOL_SIZE = 10;

function intFromEnv(name: string, fallback: number, min: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, not "${text}"`);
  return value;
}

const settings = {
  durationSeconds: intFromEnv('BENCH_DURATION_SECONDS', 5, 1),
  warmupSeconds: intFromEnv('BENCH_WARMUP_SECONDS', 1, 0),
  rounds: intFromEnv('BENCH_ROUNDS', 3, 1),
  connections: intFromEnv('BENCH_CONNECTIONS', 10, 1),
  checkInDevices: intFromEnv('BENCH_CHECKIN_DEVICES', 50, 1),
  devices: intFromEnv('BENCH_DEVICES', 1000, 1),
  apps: intFromEnv('BENCH_APPS', 200, 0),
  ingestRounds: intFromEnv('BENCH_INGEST_ROUNDS', 2, 1),
  backends: (process.env['BENCH_BACKENDS'] ?? 'sqlite,postgres').split(',').map((b) => b.trim()),
};

const BACKENDS: Record<string, () => Promise<TestBackend>> = {
  sqlite: () => Promise.resolve(sqliteBackend()),
  postgres: postgresBackend,
};

interface Row {
  backend: string;
  metric: string;
  custos: string;
  baseline: string;
  ratio: number;
  goal: string;
  met: boolean;
}

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

async function measureCheckIn(
  backend: string,
  create: () => Promise<TestBackend>,
  cleanup: Cleanup,
  problems: string[],
  notes: string[],
): Promise<Row> {
  const store = await create();
  const disposeStore = cleanup.defer(`${backend} check-in store`, () => store.dispose());
  const storage = store.config.kind === 'postgres' ? { ...store.config, maxConnections: SERVE_POOL_SIZE } : store.config;
  log(`${backend}: seeding ${settings.checkInDevices} enrolled devices with ${settings.apps} apps each`);
  const start: CheckInServerStart = { storage, devices: settings.checkInDevices, apps: settings.apps };
  const custos = await ChildServer.start<CheckInServerReady>(new URL('./checkin-server.js', import.meta.url), start, 'custos server');
  const stopCustos = cleanup.defer(`${backend} custos server`, () => custos.stop());
  const bare = await ChildServer.start<HelloReady>(new URL('./hello-server.js', import.meta.url), {}, 'bare fastify server');
  const stopBare = cleanup.defer('bare fastify server', () => bare.stop());

  const custosLoad = new CheckInLoad(custos.ready.devices);
  // The baseline gets the same requests from the same code (its own sequence numbers; it ignores them).
  const bareLoad = new CheckInLoad(custos.ready.devices);
  const probe = await custosLoad.probe(custos.ready.port);
  if (probe.status !== 200 || !probe.body.includes('"inventory":"unchanged"')) {
    throw new Error(`a no-change check-in should answer 200 with inventory "unchanged"; got ${probe.status} ${probe.body}`);
  }
  const load = { connections: settings.connections, durationSeconds: settings.durationSeconds, warmupSeconds: settings.warmupSeconds };
  const custosOptions = { ...load, port: custos.ready.port, serverPid: custos.pid };
  const bareOptions = { ...load, port: bare.ready.port, serverPid: bare.pid };
  log(
    `${backend}: check-ins, ${settings.connections} connections, ${settings.rounds} rounds of ${settings.durationSeconds} s ` +
      `per server after ${settings.warmupSeconds} s warm-up each`,
  );
  if (settings.warmupSeconds > 0) {
    await bareLoad.warmUp(bareOptions);
    await custosLoad.warmUp(custosOptions);
  }
  // Alternating rounds: a slow patch of the machine hits both sides of a round alike.
  const rounds: { bare: LoadResult; custos: LoadResult; ratio: number }[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const bareResult = await bareLoad.measure(bareOptions);
    const custosResult = await custosLoad.measure(custosOptions);
    const ratio = custosResult.okPerSecond / bareResult.okPerSecond;
    rounds.push({ bare: bareResult, custos: custosResult, ratio });
    log(`${backend} round ${round}: ratio ${ratio.toFixed(2)}`);
    log(`  bare fastify     ${describeLoad(bareResult)}`);
    log(`  custos check-in  ${describeLoad(custosResult)}`);
  }
  await stopBare();
  await stopCustos();
  await disposeStore();

  for (const problem of [
    loadProblem(
      `${backend} bare fastify`,
      rounds.map((r) => r.bare),
    ),
    loadProblem(
      `${backend} custos check-in`,
      rounds.map((r) => r.custos),
    ),
  ]) {
    if (problem) problems.push(problem);
  }
  // The round with the median ratio stands for the run, so the three numbers of its row agree.
  const chosen = medianRound(rounds);
  if (rounds.some((r) => r.bare.generatorCpuLoad >= GENERATOR_SATURATED)) {
    notes.push(
      `${backend}: the load generator used ≥ ${100 * GENERATOR_SATURATED}% of a core during the bare Fastify runs, so it, not Fastify, ` +
        `bounded the baseline; the true check-in ratio is lower than shown.`,
    );
  }
  const cpu = (results: LoadResult[]) => median(results.map((r) => r.serverCpuMicrosPerRequest ?? Number.NaN));
  const custosCpu = cpu(rounds.map((r) => r.custos));
  const bareCpu = cpu(rounds.map((r) => r.bare));
  if (Number.isFinite(custosCpu) && Number.isFinite(bareCpu)) {
    notes.push(
      `${backend}: server CPU per request (median of rounds): custos ${custosCpu.toFixed(0)} µs, bare Fastify ${bareCpu.toFixed(0)} µs ` +
        `(ratio ${(bareCpu / custosCpu).toFixed(2)}); per-round check-in ratios ${rounds.map((r) => r.ratio.toFixed(2)).join(', ')}.`,
    );
  }
  return {
    backend,
    metric: 'check-in req/s vs bare Fastify',
    custos: chosen.custos.okPerSecond.toFixed(0),
    baseline: chosen.bare.okPerSecond.toFixed(0),
    ratio: chosen.ratio,
    goal: `>= ${CHECKIN_GOAL}`,
    met: chosen.ratio >= CHECKIN_GOAL,
  };
}

async function measureIngestRow(
  backend: string,
  create: () => Promise<TestBackend>,
  workload: IngestWorkload,
  cleanup: Cleanup,
  notes: string[],
): Promise<Row> {
  log(
    `${backend}: ingesting ${settings.devices} devices × ${settings.apps} apps, ${settings.ingestRounds} round(s) each of custos and the raw driver`,
  );
  const timing = await measureIngest(create, workload, cleanup, settings.ingestRounds);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const custosMs = sum(timing.custosMs) / timing.custosMs.length;
  const rawMs = sum(timing.rawMs) / timing.rawMs.length;
  const seconds = (values: number[]) => values.map((ms) => (ms / 1000).toFixed(2)).join(', ');
  notes.push(`${backend}: ingest runs in seconds: custos ${seconds(timing.custosMs)}; raw driver ${seconds(timing.rawMs)}.`);
  const ratio = custosMs / rawMs;
  return {
    backend,
    metric: `ingest ${settings.devices}x${settings.apps} vs raw INSERT`,
    custos: `${(custosMs / 1000).toFixed(2)} s`,
    baseline: `${(rawMs / 1000).toFixed(2)} s`,
    ratio,
    goal: `<= ${INGEST_GOAL.toFixed(1)}`,
    met: ratio <= INGEST_GOAL,
  };
}

function printTable(rows: Row[]): void {
  const header = ['backend', 'metric', 'custos', 'baseline', 'ratio', 'goal', 'met'];
  const cells = rows.map((r) => [r.backend, r.metric, r.custos, r.baseline, r.ratio.toFixed(2), r.goal, r.met ? 'yes' : 'NO']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('   ')
      .trimEnd();
  process.stdout.write(`\n${[line(header), ...cells.map(line)].join('\n')}\n`);
}

async function main(cleanup: Cleanup): Promise<number> {
  const unknown = settings.backends.filter((b) => !(b in BACKENDS));
  if (unknown.length > 0) throw new Error(`unknown backend(s) in BENCH_BACKENDS: ${unknown.join(', ')} (have sqlite, postgres)`);
  const problems: string[] = [];
  const notes: string[] = [];
  const rows: Row[] = [];
  const workload = buildWorkload(settings.devices, settings.apps);
  for (const backend of settings.backends) {
    const create = BACKENDS[backend] as () => Promise<TestBackend>;
    rows.push(await measureCheckIn(backend, create, cleanup, problems, notes));
    rows.push(await measureIngestRow(backend, create, workload, cleanup, notes));
    rows.push(
      ...(await measureApplePoll(
        backend,
        create,
        { ...settings, devices: settings.checkInDevices, storage: { maxConnections: SERVE_POOL_SIZE } },
        cleanup,
        problems,
        notes,
      )),
    );
  }
  printTable(rows);
  process.stdout.write(
    `\ncheck-in: ${settings.connections} connections, ${settings.checkInDevices} devices, median of ${settings.rounds} alternating ` +
      `rounds of ${settings.durationSeconds} s per server; ingest: ${settings.devices} devices × ${settings.apps} apps, ` +
      `one transaction per device, mean of ${settings.ingestRounds} round(s)\n`,
  );
  if (notes.length > 0) process.stdout.write(`\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
  if (problems.length > 0) {
    process.stdout.write(`\nFAIL: these measurements are not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

const cleanup = new Cleanup();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup.runAll().finally(() => process.exit(130));
  });
}
try {
  process.exitCode = await main(cleanup);
} catch (error) {
  process.stderr.write(`\nFAIL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await cleanup.runAll();
}
