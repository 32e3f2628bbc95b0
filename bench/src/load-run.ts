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
