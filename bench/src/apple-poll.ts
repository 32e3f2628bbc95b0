/**
 * The Apple MDM command-poll ratio (issue 7): requests/s of signed `Idle` polls with nothing queued
 * against a real listening Custos server ÷ requests/s of a bare Fastify server answering the same
 * requests with the same empty 200, measured in alternating rounds in the same run. Goal ≥ 0.3.
 * Each Custos poll verifies the device's CMS signature, finds the device bound to that certificate,
 * records the check-in, and finds no command to send.
 */
import type { TestBackend } from '../../packages/server/dist/test-support/backends.js';
import type { AppleMdmServerReady, AppleMdmServerStart } from './apple-mdm-server.js';
import { ApplePollLoad } from './apple-poll-load.js';
import type { LoadResult } from './checkin-load.js';
import { ChildServer } from './child-server.js';
import type { Cleanup } from './cleanup.js';
import type { HelloReady } from './hello-server.js';

export const APPLE_POLL_GOAL = 0.3;

export interface ApplePollSettings {
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  connections: number;
  devices: number;
  storage?: { maxConnections: number };
}

export interface ApplePollRow {
  backend: string;
  metric: string;
  custos: string;
  baseline: string;
  ratio: number;
  goal: string;
  met: boolean;
}

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function failures(label: string, results: LoadResult[]): string | undefined {
  const ok = results.reduce((n, r) => n + r.ok, 0);
  const attempts = results.reduce((n, r) => n + r.total + r.errors, 0);
  if (ok === 0) return `${label}: not a single 200 response`;
  return (attempts - ok) / attempts > 0.01 ? `${label}: ${attempts - ok} of ${attempts} requests did not get a 200` : undefined;
}

export async function measureApplePoll(
  backend: string,
  create: () => Promise<TestBackend>,
  settings: ApplePollSettings,
  cleanup: Cleanup,
  problems: string[],
  notes: string[],
): Promise<ApplePollRow> {
  const store = await create();
  const disposeStore = cleanup.defer(`${backend} apple-mdm store`, () => store.dispose());
  const storage = store.config.kind === 'postgres' && settings.storage ? { ...store.config, ...settings.storage } : store.config;
  log(`${backend}: enrolling ${settings.devices} simulated Apple devices through SCEP`);
  const start: AppleMdmServerStart = { storage, devices: settings.devices };
  const custos = await ChildServer.start<AppleMdmServerReady>(new URL('./apple-mdm-server.js', import.meta.url), start, 'custos server');
  const stopCustos = cleanup.defer(`${backend} custos apple-mdm server`, () => custos.stop());
  const bare = await ChildServer.start<HelloReady>(new URL('./apple-hello-server.js', import.meta.url), {}, 'bare fastify server');
  const stopBare = cleanup.defer('bare fastify apple-mdm server', () => bare.stop());
  const load = new ApplePollLoad(custos.ready.polls);
  const probe = await load.probe(custos.ready.port);
  if (probe.status !== 200 || probe.body !== '')
    throw new Error(`an idle poll should answer an empty 200; got ${probe.status} ${probe.body}`);
  const options = { connections: settings.connections, durationSeconds: settings.durationSeconds, warmupSeconds: settings.warmupSeconds };
  const custosOptions = { ...options, port: custos.ready.port, serverPid: custos.pid };
  const bareOptions = { ...options, port: bare.ready.port, serverPid: bare.pid };
  if (settings.warmupSeconds > 0) {
    await load.warmUp(bareOptions);
    await load.warmUp(custosOptions);
  }
  const rounds: { bare: LoadResult; custos: LoadResult; ratio: number }[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const bareResult = await load.measure(bareOptions);
    const custosResult = await load.measure(custosOptions);
    const ratio = custosResult.okPerSecond / bareResult.okPerSecond;
    rounds.push({ bare: bareResult, custos: custosResult, ratio });
    log(
      `${backend} apple-mdm round ${round}: ratio ${ratio.toFixed(2)} (custos ${custosResult.okPerSecond.toFixed(0)} req/s, ` +
        `bare ${bareResult.okPerSecond.toFixed(0)} req/s)`,
    );
  }
  await stopBare();
  await stopCustos();
  await disposeStore();
  for (const problem of [
    failures(
      `${backend} bare fastify (apple-mdm)`,
      rounds.map((r) => r.bare),
    ),
    failures(
      `${backend} custos apple-mdm poll`,
      rounds.map((r) => r.custos),
    ),
  ]) {
    if (problem) problems.push(problem);
  }
  const ratio = median(rounds.map((r) => r.ratio));
  const chosen = rounds.reduce((best, r) => (Math.abs(r.ratio - ratio) < Math.abs(best.ratio - ratio) ? r : best));
  notes.push(`${backend}: Apple MDM idle-poll ratios per round ${rounds.map((r) => r.ratio.toFixed(2)).join(', ')}.`);
  return {
    backend,
    metric: 'apple-mdm idle poll req/s vs bare Fastify',
    custos: chosen.custos.okPerSecond.toFixed(0),
    baseline: chosen.bare.okPerSecond.toFixed(0),
    ratio: chosen.ratio,
    goal: `>= ${APPLE_POLL_GOAL}`,
    met: chosen.ratio >= APPLE_POLL_GOAL,
  };
}
