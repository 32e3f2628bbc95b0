/**
 * Load for the Apple MDM command-poll ratio: autocannon sending the signed `Idle` messages of the
 * enrolled devices (`PUT /mdm/apple/mdm`, `Mdm-Signature`), round robin. Apple's protocol has no
 * sequence numbers, so any device's poll may go on any connection. Both the Custos server and the
 * bare Fastify baseline get exactly these requests from this code.
 */
import type { IdlePoll } from './apple-mdm-server.js';
import { measured, runAutocannon, type LoadOptions, type LoadResult, type RunResult } from './load-run.js';

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

  measure(options: LoadOptions): Promise<LoadResult> {
    return measured(options, () => this.once(options.port, options.connections, options.durationSeconds));
  }

  private once(port: number, connections: number, durationSeconds: number): Promise<RunResult> {
    let next = 0;
    return runAutocannon(port, connections, durationSeconds, {
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
    });
  }
}
