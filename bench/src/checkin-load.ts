/**
 * Load for the check-in ratio: autocannon sending authenticated no-change check-ins
 * (`POST /api/v1/agent/checkin` with `{"inventoryDigest": <the digest the server holds>}`), each with
 * a fresh sequence number and its HMAC. Both the Custos server and the bare Fastify baseline get
 * exactly these requests, built by the same code, so the load generator's own cost is the same.
 *
 * Sequence numbers must grow per device, and a request whose number was overtaken is refused as a
 * replay. Each connection therefore owns a fixed set of devices: with one request in flight per
 * connection (no pipelining) a device's requests reach the server strictly in order.
 */
import { createHash, createHmac } from 'node:crypto';
import type autocannon from 'autocannon';
import { formatAuthorization, macInput, SESSION_SCHEME } from '@custos/shared';
import type { DeviceCredential } from './checkin-server.js';
import { measured, runAutocannon, type LoadOptions, type LoadResult, type RunResult } from './load-run.js';

export const CHECKIN_PATH = '/api/v1/agent/checkin';

export type { LoadOptions, LoadResult } from './load-run.js';

interface DeviceState {
  credential: DeviceCredential;
  key: Buffer;
  body: string;
  bodySha256: string;
  seq: number;
}

/** Per-connection state; autocannon deep-clones each request per connection, so this object is the connection's own. */
interface ConnectionSlot {
  devices?: DeviceState[];
  next?: number;
}

/** A load generator over a set of devices; keeps their sequence numbers across runs (warm-up, then measured). */
export class CheckInLoad {
  private readonly devices: DeviceState[];

  constructor(credentials: readonly DeviceCredential[]) {
    this.devices = credentials.map((credential) => {
      const body = JSON.stringify({ inventoryDigest: credential.digest });
      return {
        credential,
        key: Buffer.from(credential.sessionKey, 'base64url'),
        body,
        bodySha256: createHash('sha256').update(body).digest('base64url'),
        seq: credential.nextSeq,
      };
    });
  }

  /** Headers and body of the next check-in of `device`. */
  private nextRequest(device: DeviceState): { headers: Record<string, string>; body: string } {
    const seq = device.seq++;
    const mac = createHmac('sha256', device.key)
      .update(macInput({ method: 'POST', path: CHECKIN_PATH, seq, bodySha256: device.bodySha256 }))
      .digest('base64url');
    return {
      headers: {
        authorization: formatAuthorization(SESSION_SCHEME, { session: device.credential.sessionToken, seq, mac }),
        'content-type': 'application/json',
      },
      body: device.body,
    };
  }

  /** One check-in as device 0, outside autocannon: proves the requests are right before measuring. */
  async probe(port: number): Promise<{ status: number; body: string }> {
    const device = this.devices[0];
    if (!device) throw new Error('no devices');
    const { headers, body } = this.nextRequest(device);
    const response = await fetch(`http://127.0.0.1:${port}${CHECKIN_PATH}`, { method: 'POST', headers, body });
    return { status: response.status, body: await response.text() };
  }

  /** A run whose results are discarded: lets the server's JIT and caches settle. */
  async warmUp(options: LoadOptions): Promise<void> {
    await this.once(options.port, options.connections, options.warmupSeconds);
  }

  /** One measured run. */
  measure(options: LoadOptions): Promise<LoadResult> {
    return measured(options, () => this.once(options.port, options.connections, options.durationSeconds));
  }

  private async once(port: number, connections: number, durationSeconds: number): Promise<RunResult> {
    if (this.devices.length < connections) {
      throw new Error(`${connections} connections need at least as many devices (have ${this.devices.length})`);
    }
    let nextConnection = 0;
    const assign = (slot: ConnectionSlot): DeviceState[] => {
      const index = nextConnection++ % connections;
      slot.devices = this.devices.filter((_, i) => i % connections === index);
      slot.next = 0;
      return slot.devices;
    };
    const request: autocannon.Request & { slot: ConnectionSlot } = {
      method: 'POST',
      path: CHECKIN_PATH,
      slot: {},
      setupRequest: (req) => {
        const slot = (req as { slot: ConnectionSlot }).slot;
        const devices = slot.devices ?? assign(slot);
        const n = slot.next ?? 0;
        slot.next = n + 1;
        const { headers, body } = this.nextRequest(devices[n % devices.length] as DeviceState);
        return { ...req, headers, body };
      },
    };
    return runAutocannon(port, connections, durationSeconds, request);
  }
}
