/**
 * Load for the Apple MDM command-poll ratio: autocannon sending the `Idle` messages of the enrolled
 * devices (`PUT /mdm/apple/mdm`), round robin, authenticated one of two ways:
 *
 * - `signature`: the `Mdm-Signature` header (detached CMS), verified on every message;
 * - `proxy`: the RFC 9440 `Client-Cert` header a TLS-terminating proxy adds once it has
 *   authenticated the device's TLS client certificate.
 *
 * Apple's protocol has no sequence numbers, so any device's poll may go on any connection. Both the
 * Custos server and the bare Fastify baseline get exactly these requests from this code.
 */
import type { IdlePoll } from './apple-mdm-server.js';
import { measured, runAutocannon, type LoadOptions, type LoadResult, type RunResult } from './load-run.js';

export const POLL_PATH = '/mdm/apple/mdm';

export type PollAuthentication = 'signature' | 'proxy';

function headersOf(poll: IdlePoll, authentication: PollAuthentication): Record<string, string> {
  return authentication === 'signature'
    ? { 'content-type': 'application/x-apple-aspen-mdm', 'mdm-signature': poll.signature }
    : { 'content-type': 'application/x-apple-aspen-mdm', 'client-cert': poll.clientCert };
}

export class ApplePollLoad {
  constructor(
    private readonly polls: readonly IdlePoll[],
    private readonly authentication: PollAuthentication,
  ) {}

  /** One poll outside autocannon: an idle device with nothing queued gets an empty 200. */
  async probe(port: number): Promise<{ status: number; body: string }> {
    const poll = this.polls[0];
    if (!poll) throw new Error('no devices');
    const response = await fetch(`http://127.0.0.1:${port}${POLL_PATH}`, {
      method: 'PUT',
      headers: headersOf(poll, this.authentication),
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
          headers: headersOf(poll, this.authentication),
          body: poll.body,
        };
      },
    });
  }
}
