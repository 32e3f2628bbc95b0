/**
 * What every request-rate benchmark shares: one autocannon run against a listening server, turned
 * into a LoadResult, with the server's and the load generator's CPU measured around it.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { cpuSecondsOf } from './process-cpu.js';

export interface LoadOptions {
  port: number;
  /** The server's process, to report the CPU it used per request. */
  serverPid?: number | undefined;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export interface LoadResult {
  /** 2xx responses per second of the measured run. */
  okPerSecond: number;
  total: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Server CPU seconds per second of the measured run (1 = one core saturated), where measurable. */
  serverCpuLoad: number | undefined;
  /** Server CPU microseconds per 2xx response, where measurable. */
  serverCpuMicrosPerRequest: number | undefined;
  /** The load generator's (this process's) CPU seconds per second of the measured run. */
  generatorCpuLoad: number;
}

/** A run's figures before the CPU accounting of `measured`. */
export type RunResult = Omit<LoadResult, 'serverCpuLoad' | 'serverCpuMicrosPerRequest' | 'generatorCpuLoad'>;

/** Runs `run` and adds the server's CPU (when its pid is known) and this process's CPU to its result. */
export async function measured(options: Pick<LoadOptions, 'serverPid'>, run: () => Promise<RunResult>): Promise<LoadResult> {
  const serverCpu = () => (options.serverPid === undefined ? undefined : cpuSecondsOf(options.serverPid));
  const serverBefore = serverCpu();
  const generatorBefore = process.cpuUsage();
  const started = performance.now();
  const result = await run();
  const wallSeconds = (performance.now() - started) / 1000;
  const generator = process.cpuUsage(generatorBefore);
  const serverAfter = serverCpu();
  const serverSeconds = serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore;
  return {
    ...result,
    serverCpuLoad: serverSeconds === undefined ? undefined : serverSeconds / wallSeconds,
    serverCpuMicrosPerRequest: serverSeconds === undefined || result.ok === 0 ? undefined : (serverSeconds * 1e6) / result.ok,
    generatorCpuLoad: (generator.user + generator.system) / 1e6 / wallSeconds,
  };
}

/** One autocannon run of `request` (no pipelining) against 127.0.0.1:`port`. */
export async function runAutocannon(
  port: number,
  connections: number,
  durationSeconds: number,
  request: autocannon.Request,
): Promise<RunResult> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    pipelining: 1,
    duration: durationSeconds,
    requests: [request],
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count ?? 0;
  const ok = result['2xx'];
  return {
    okPerSecond: ok / result.duration,
    total: ok + result.non2xx,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
  };
}

/** More non-200 answers than this and a requests/s figure means nothing. */
export const MAX_ERROR_FRACTION = 0.01;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The round whose ratio is the median: it stands for the run, so the numbers of its row agree. */
export function medianRound<R extends { ratio: number }>(rounds: readonly R[]): R {
  const ratio = median(rounds.map((r) => r.ratio));
  return rounds.reduce((best, r) => (Math.abs(r.ratio - ratio) < Math.abs(best.ratio - ratio) ? r : best));
}

/** One load result for the log: requests/s, statuses, latency, and CPU where measurable. */
export function describeLoad(r: LoadResult): string {
  const codes = Object.entries(r.statusCodes)
    .map(([code, n]) => `${code}×${n}`)
    .join(' ');
  const cpu =
    r.serverCpuLoad === undefined || r.serverCpuMicrosPerRequest === undefined
      ? ''
      : `, server CPU ${(100 * r.serverCpuLoad).toFixed(0)}% of a core = ${r.serverCpuMicrosPerRequest.toFixed(0)} µs/request`;
  return (
    `${r.okPerSecond.toFixed(0)} req/s (${codes || 'no responses'}, ${r.errors} connection errors), ` +
    `latency p50 ${r.latencyP50Ms} ms p99 ${r.latencyP99Ms} ms${cpu}, load generator CPU ${(100 * r.generatorCpuLoad).toFixed(0)}%`
  );
}

/** Why a series of load results cannot be trusted, if it cannot. */
export function loadProblem(label: string, results: LoadResult[]): string | undefined {
  const ok = results.reduce((n, r) => n + r.ok, 0);
  const attempts = results.reduce((n, r) => n + r.total + r.errors, 0);
  if (ok === 0) return `${label}: not a single 200 response`;
  const bad = attempts - ok;
  if (bad / attempts > MAX_ERROR_FRACTION) {
    const codes: Record<string, number> = {};
    for (const r of results) for (const [code, n] of Object.entries(r.statusCodes)) codes[code] = (codes[code] ?? 0) + n;
    return `${label}: ${bad} of ${attempts} requests (${((100 * bad) / attempts).toFixed(1)}%) did not get a 200 (statuses ${JSON.stringify(codes)})`;
  }
  return undefined;
}
