/**
 * The Apple MDM command-poll ratio (issue 7): requests/s of `Idle` polls with nothing queued against
 * a real listening Custos server ÷ requests/s of a bare Fastify server answering the same requests
 * with the same empty 200, measured in alternating rounds in the same run. Goal ≥ 0.3. Measured for
 * both ways a device is authenticated: its `Mdm-Signature` (an RSA verification per message), and
 * the `Client-Cert` header of a TLS-terminating proxy (the RSA work done once per TLS connection, by
 * the proxy). Each Custos poll authenticates the device, finds the device bound to that
 * certificate, reads its check-in state, and finds no command to send.
 */
import type { TestBackend } from '../../packages/server/dist/test-support/backends.js';
import type { AppleMdmServerReady, AppleMdmServerStart } from './apple-mdm-server.js';
import { ApplePollLoad, type PollAuthentication } from './apple-poll-load.js';
import type { LoadResult } from './checkin-load.js';
import { ChildServer } from './child-server.js';
import type { Cleanup } from './cleanup.js';
import type { HelloReady } from './hello-server.js';
import { describeLoad, loadProblem, median, medianRound } from './load-run.js';

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

const LABELS: Record<PollAuthentication, string> = {
  signature: 'apple-mdm idle poll (Mdm-Signature) req/s vs bare Fastify',
  proxy: 'apple-mdm idle poll (TLS proxy Client-Cert) req/s vs bare Fastify',
};

interface Round {
  bare: LoadResult;
  custos: LoadResult;
  ratio: number;
}

/**
 * Both ways a device can be authenticated, against one Custos server and one bare Fastify server:
 * per round, bare then Custos under each load. One row per way.
 */
export async function measureApplePoll(
  backend: string,
  create: () => Promise<TestBackend>,
  settings: ApplePollSettings,
  cleanup: Cleanup,
  problems: string[],
  notes: string[],
): Promise<ApplePollRow[]> {
  const store = await create();
  const disposeStore = cleanup.defer(`${backend} apple-mdm store`, () => store.dispose());
  const storage = store.config.kind === 'postgres' && settings.storage ? { ...store.config, ...settings.storage } : store.config;
  log(`${backend}: enrolling ${settings.devices} simulated Apple devices through SCEP`);
  const start: AppleMdmServerStart = { storage, devices: settings.devices };
  const custos = await ChildServer.start<AppleMdmServerReady>(new URL('./apple-mdm-server.js', import.meta.url), start, 'custos server');
  const stopCustos = cleanup.defer(`${backend} custos apple-mdm server`, () => custos.stop());
  const bare = await ChildServer.start<HelloReady>(new URL('./apple-hello-server.js', import.meta.url), {}, 'bare fastify server');
  const stopBare = cleanup.defer('bare fastify apple-mdm server', () => bare.stop());
  const modes: PollAuthentication[] = ['signature', 'proxy'];
  const loads = new Map(modes.map((mode) => [mode, new ApplePollLoad(custos.ready.polls, mode)]));
  for (const [mode, load] of loads) {
    const probe = await load.probe(custos.ready.port);
    if (probe.status !== 200 || probe.body !== '')
      throw new Error(`an idle poll (${mode}) should answer an empty 200; got ${probe.status} ${probe.body}`);
  }
  const options = { connections: settings.connections, durationSeconds: settings.durationSeconds, warmupSeconds: settings.warmupSeconds };
  const custosOptions = { ...options, port: custos.ready.port, serverPid: custos.pid };
  const bareOptions = { ...options, port: bare.ready.port, serverPid: bare.pid };
  if (settings.warmupSeconds > 0) {
    for (const load of loads.values()) {
      await load.warmUp(bareOptions);
      await load.warmUp(custosOptions);
    }
  }
  const rounds = new Map<PollAuthentication, Round[]>(modes.map((mode) => [mode, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const [mode, load] of loads) {
      const bareResult = await load.measure(bareOptions);
      const custosResult = await load.measure(custosOptions);
      const ratio = custosResult.okPerSecond / bareResult.okPerSecond;
      rounds.get(mode)?.push({ bare: bareResult, custos: custosResult, ratio });
      log(
        `${backend} apple-mdm (${mode}) round ${round}: ratio ${ratio.toFixed(2)} (custos ${describeLoad(custosResult)}; bare ${describeLoad(bareResult)})`,
      );
    }
  }
  await stopBare();
  await stopCustos();
  await disposeStore();
  return modes.map((mode) => {
    const measured = rounds.get(mode) ?? [];
    for (const problem of [
      loadProblem(
        `${backend} bare fastify (apple-mdm ${mode})`,
        measured.map((r) => r.bare),
      ),
      loadProblem(
        `${backend} custos apple-mdm poll (${mode})`,
        measured.map((r) => r.custos),
      ),
    ]) {
      if (problem) problems.push(problem);
    }
    const chosen = medianRound(measured);
    const cpu = (pick: (r: Round) => number | undefined) => median(measured.map(pick).filter((v): v is number => v !== undefined));
    notes.push(
      `${backend}: Apple MDM idle-poll (${mode}) ratios per round ${measured.map((r) => r.ratio.toFixed(2)).join(', ')}; ` +
        `server CPU per request (median) custos ${cpu((r) => r.custos.serverCpuMicrosPerRequest).toFixed(0)} µs, ` +
        `bare ${cpu((r) => r.bare.serverCpuMicrosPerRequest).toFixed(0)} µs.`,
    );
    return {
      backend,
      metric: LABELS[mode],
      custos: chosen.custos.okPerSecond.toFixed(0),
      baseline: chosen.bare.okPerSecond.toFixed(0),
      ratio: chosen.ratio,
      goal: `>= ${APPLE_POLL_GOAL}`,
      met: chosen.ratio >= APPLE_POLL_GOAL,
    };
  });
}
