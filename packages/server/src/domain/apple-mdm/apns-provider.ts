/**
 * APNs provider for MDM wake-ups (SPEC §7): HTTP/2 (`node:http2`) to Apple's push service,
 * authenticated with the tenant's MDM push certificate (mutual TLS), `POST /3/device/<token>` with
 * `apns-topic` = the certificate's topic, `apns-push-type: mdm` and `{"mdm": PushMagic}`. The device
 * then connects to the command endpoint. One HTTP/2 session per tenant, reused.
 *
 * Errors: `Unregistered` (410) and `BadDeviceToken` (400) mark the device token invalid until the
 * device sends a new one (TokenUpdate); `TooManyRequests` (429) backs the tenant off, doubling up to
 * a minute; anything else is logged by the caller and costs only latency — the command waits in the
 * queue for the device's next connection either way.
 */
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import type { Clock } from '../clock.js';
import type { DeviceWakeups } from '../commands/device-wakeups.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { AppleMdmService } from './apple-mdm-service.js';

export const APNS_PRODUCTION_URL = 'https://api.push.apple.com';
const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
const REQUEST_TIMEOUT_MS = 10_000;

export interface ApnsOptions {
  /** `https://api.push.apple.com` (production); a test points it at its own server. */
  url: string;
  /** Extra trusted CA certificates (PEM) for the APNs server; tests only. */
  ca?: string;
}

export interface ApnsResult {
  deviceId: string;
  status: number;
  reason?: string;
}

export class ApnsProvider {
  private readonly sessions = new Map<string, { session: ClientHttp2Session; certificatePem: string }>();
  private readonly backoff = new Map<string, { until: number; ms: number }>();

  constructor(
    private readonly tenants: TenantService,
    private readonly appleMdm: AppleMdmService,
    private readonly clock: Clock,
    private readonly options: ApnsOptions,
  ) {}

  /** Pushes every Apple MDM device among `deviceIds` that has a valid token; others are skipped. */
  async push(tenantId: string, deviceIds: readonly string[]): Promise<ApnsResult[]> {
    const backoff = this.backoff.get(tenantId);
    if (backoff && backoff.until > this.clock.now()) return [];
    const data = await this.tenants.data(tenantId);
    const targets = [];
    for (const id of deviceIds) {
      const device = await data.appleMdm.getDevice(id);
      if (device?.pushToken && device.pushMagic && device.pushTokenInvalidAt === null) targets.push(device);
    }
    if (targets.length === 0) return [];
    const credentials = await this.appleMdm.pushCredentials(data);
    if (!credentials) return [];
    const session = this.session(tenantId, credentials);
    const results: ApnsResult[] = [];
    for (const device of targets) {
      const result = await this.send(session, credentials.topic, device.pushToken ?? '', device.pushMagic ?? '');
      results.push({ deviceId: device.deviceId, ...result });
      if (result.reason === 'Unregistered' || result.reason === 'BadDeviceToken') {
        await data.appleMdm.markPushTokenInvalid(device.deviceId, this.clock.now());
      } else if (result.status === 429) {
        const ms = Math.min(MAX_BACKOFF_MS, (this.backoff.get(tenantId)?.ms ?? MIN_BACKOFF_MS / 2) * 2);
        this.backoff.set(tenantId, { until: this.clock.now() + ms, ms });
        break;
      } else if (result.status === 200) {
        this.backoff.delete(tenantId);
      }
    }
    return results;
  }

  close(): void {
    for (const { session } of this.sessions.values()) session.close();
    this.sessions.clear();
  }

  private session(tenantId: string, credentials: { certificatePem: string; privateKeyPem: string }): ClientHttp2Session {
    const existing = this.sessions.get(tenantId);
    if (existing && !existing.session.closed && !existing.session.destroyed && existing.certificatePem === credentials.certificatePem) {
      return existing.session;
    }
    existing?.session.close();
    const session = connect(this.options.url, {
      cert: credentials.certificatePem,
      key: credentials.privateKeyPem,
      ...(this.options.ca ? { ca: this.options.ca } : {}),
    });
    const forget = () => {
      if (this.sessions.get(tenantId)?.session === session) this.sessions.delete(tenantId);
    };
    session.on('error', forget);
    session.on('close', forget);
    session.on('goaway', forget);
    // An idle provider does not keep the process alive.
    session.unref();
    this.sessions.set(tenantId, { session, certificatePem: credentials.certificatePem });
    return session;
  }

  private send(session: ClientHttp2Session, topic: string, token: string, pushMagic: string): Promise<{ status: number; reason?: string }> {
    return new Promise((resolve) => {
      let request;
      try {
        request = session.request({
          [constants.HTTP2_HEADER_METHOD]: 'POST',
          [constants.HTTP2_HEADER_PATH]: `/3/device/${token}`,
          'apns-topic': topic,
          'apns-push-type': 'mdm',
          'apns-priority': '10',
          'content-type': 'application/json',
        });
      } catch {
        resolve({ status: 0, reason: 'ConnectionFailed' });
        return;
      }
      let status = 0;
      const chunks: Buffer[] = [];
      request.setTimeout(REQUEST_TIMEOUT_MS, () => request.close(constants.NGHTTP2_CANCEL));
      request.on('response', (headers) => (status = Number(headers[constants.HTTP2_HEADER_STATUS] ?? 0)));
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('error', () => resolve({ status: 0, reason: 'ConnectionFailed' }));
      request.on('close', () => {
        if (status === 200 || status === 0) {
          resolve(status === 0 ? { status, reason: 'ConnectionFailed' } : { status });
          return;
        }
        let reason: string | undefined;
        try {
          reason = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reason?: string }).reason;
        } catch {
          reason = undefined;
        }
        resolve(reason === undefined ? { status } : { status, reason });
      });
      request.end(JSON.stringify({ mdm: pushMagic }));
    });
  }
}

/**
 * Device wake-ups that also push Apple MDM devices through APNs: the process that queues a command
 * (and publishes its wake-up) sends the push, once, whatever the number of processes.
 */
export class ApplePushHook {
  provider: ApnsProvider | undefined;
  /** Told of each failed push attempt (default: ignored; the command waits in the queue). */
  onError: (error: unknown) => void = () => undefined;

  wrap(wakeups: DeviceWakeups): DeviceWakeups {
    return {
      publish: async (tenantId, deviceIds) => {
        await wakeups.publish(tenantId, deviceIds);
        // Not awaited: the admin's request does not wait for Apple; a lost push costs only latency.
        void this.push(tenantId, deviceIds);
      },
      subscribe: (listener) => wakeups.subscribe(listener),
      close: async () => {
        this.provider?.close();
        await wakeups.close();
      },
    };
  }

  async push(tenantId: string, deviceIds: readonly string[]): Promise<void> {
    try {
      await this.provider?.push(tenantId, deviceIds);
    } catch (error) {
      this.onError(error);
    }
  }
}
