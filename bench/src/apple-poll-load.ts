/**
 * Load for the Apple MDM command-poll ratio: autocannon sending the signed `Idle` messages of the
 * enrolled devices (`PUT /mdm/apple/mdm`, `Mdm-Signature`), round robin. Apple's protocol has no
 * sequence numbers, so any device's poll may go on any connection. Both the Custos server and the
 * bare Fastify baseline get exactly these requests from this code.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { IdlePoll } from './apple-mdm-server.js';
import type { LoadOptions, LoadResult } from './checkin-load.js';
import { cpuSecondsOf } from './process-cpu.js';

export const POLL_PATH = '/mdm/apple/mdm';

export class ApplePollLoad {
  constructor(private readonly polls: readonly IdlePoll[]) {}

  /** One poll outside autocannon: an idle device with nothing queued gets an empty 200. */
  async probe(port: number): Promise<{ status: number; body: string }> {
    const poll = this.polls[0];
    if (!poll) throw new Error('no devices');
    const response = await fetch(`http://127.0.0.1:${port}${POLL_PATH}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-apple-aspen-mdm', 'mdm-signature': poll.signature },
      body: poll.body,
    });
    return { status: response.status, body: await response.text() };
  }

  async warmUp(options: LoadOptions): Promise<void> {
    await this.once(options.port, options.connections, options.warmupSeconds);
  }

  async measure(options: LoadOptions): Promise<LoadResult> {
    const serverCpu = () => (options.serverPid === undefined ? undefined : cpuSecondsOf(options.serverPid));
    const serverBefore = serverCpu();
    const generatorBefore = process.cpuUsage();
    const started = performance.now();
    const result = await this.once(options.port, options.connections, options.durationSeconds);
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

  private async once(
    port: number,
    connections: number,
    durationSeconds: number,
  ): Promise<Omit<LoadResult, 'serverCpuLoad' | 'serverCpuMicrosPerRequest' | 'generatorCpuLoad'>> {
    let next = 0;
    const result = await autocannon({
      url: `http://127.0.0.1:${port}`,
      connections,
      pipelining: 1,
      duration: durationSeconds,
      requests: [
        {
          method: 'PUT',
          path: POLL_PATH,
          setupRequest: (req) => {
            const poll = this.polls[next++ % this.polls.length] as IdlePoll;
            return {
              ...req,
              headers: { 'content-type': 'application/x-apple-aspen-mdm', 'mdm-signature': poll.signature },
              body: poll.body,
            };
          },
        },
      ],
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
}
