/**
 * Device request authentication (docs/decisions/0001-device-authentication.md).
 *
 * A session starts with a request signed by the device's own key (ECDSA P-256 over method, path,
 * sequence number, time and body hash), checked against the public key of the certificate the
 * device was issued at enrollment. The session key the device then receives is derived, not
 * stored: HMAC(server secret, session token), so any `custos serve` process sharing the directory
 * can check a request without a lookup. Each request's sequence number is recorded in the same
 * statement that checks the device is still active, which makes replay protection and revocation
 * one atomic step.
 */
import { createHash, createHmac, createPublicKey, verify, type KeyObject } from 'node:crypto';
import {
  macInput,
  parseAuthorization,
  SESSION_SCHEME,
  SIGNATURE_CLOCK_SKEW_MS,
  SIGNATURE_SCHEME,
  signatureInput,
  type DeviceSession,
} from '@custos/shared';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import { constantTimeEqual } from '../secrets.js';
import type { CheckInTarget } from '../devices/device-store.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';

export const DEVICE_SESSION_SECONDS = 60 * 60;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export interface DeviceRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  rawBody: Buffer;
}

/** A request whose MAC verified; its sequence number is not yet recorded (see `record`). */
export interface AuthenticatedDevice {
  tenantId: string;
  deviceId: string;
  seq: number;
  data: TenantData;
  /** When the session the request came under ends (epoch ms), if it came under one; a push channel closes then. */
  sessionExpiresAt?: number;
}

function bodyHash(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64url');
}

function parseSeq(text: string | undefined): number | undefined {
  if (!text || !/^[0-9]{1,16}$/.test(text)) return undefined;
  const seq = Number(text);
  return seq > 0 && seq <= MAX_SEQ ? seq : undefined;
}

const authFailed = (detail: string) => new DomainError('device-auth-failed', detail);

export class DeviceAuthenticator {
  /** Parsed device public keys by SPKI text; keys never change for a device, so no expiry needed. */
  private readonly keys = new Map<string, KeyObject>();

  constructor(
    private readonly tenants: TenantService,
    private readonly sessionSecret: Buffer,
    private readonly clock: Clock,
  ) {}

  async startSession(request: DeviceRequest): Promise<DeviceSession> {
    const auth = parseAuthorization(request.authorization);
    if (!auth || auth.scheme !== SIGNATURE_SCHEME)
      throw authFailed(`Expected an Authorization header with the ${SIGNATURE_SCHEME} scheme.`);
    const [tenantId, deviceId, extra] = (auth.params['device'] ?? '').split('/');
    const seq = parseSeq(auth.params['seq']);
    const ts = parseSeq(auth.params['ts']);
    const sig = auth.params['sig'];
    if (!tenantId || !deviceId || extra !== undefined || !UUID.test(tenantId) || !UUID.test(deviceId) || !seq || !ts || !sig) {
      throw authFailed('The device signature header is incomplete.');
    }
    const now = this.clock.now();
    if (Math.abs(now - ts) > SIGNATURE_CLOCK_SKEW_MS) throw authFailed("The request's timestamp is too far from the server's clock.");
    const data = await this.tenantData(tenantId);
    const credential = await data.devices.findActiveCredential(deviceId);
    if (!credential) throw await this.rejection(data, deviceId);
    const input = signatureInput({
      method: request.method,
      path: request.path,
      seq,
      timestampMs: ts,
      bodySha256: bodyHash(request.rawBody),
    });
    const signature = Buffer.from(sig, 'base64url');
    if (!verify('sha256', Buffer.from(input), { key: this.publicKey(credential.publicKeySpki), dsaEncoding: 'ieee-p1363' }, signature)) {
      throw authFailed('The device signature does not verify.');
    }
    await this.record({ tenantId, deviceId, seq, data }, false);
    const expiresAt = now + DEVICE_SESSION_SECONDS * 1000;
    const sessionToken = `${tenantId}.${deviceId}.${expiresAt}.${createHash('sha256').update(signature).digest('base64url').slice(0, 16)}`;
    return { sessionToken, sessionKey: this.sessionKey(sessionToken).toString('base64url'), expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Checks the MAC of a session request. Cheap: no database access. */
  async authenticate(request: DeviceRequest): Promise<AuthenticatedDevice> {
    const auth = parseAuthorization(request.authorization);
    if (!auth || auth.scheme !== SESSION_SCHEME) throw authFailed(`Expected an Authorization header with the ${SESSION_SCHEME} scheme.`);
    const token = auth.params['session'] ?? '';
    const seq = parseSeq(auth.params['seq']);
    const mac = auth.params['mac'];
    const [tenantId, deviceId, expiresText] = token.split('.');
    const expiresAt = parseSeq(expiresText);
    if (!tenantId || !deviceId || !UUID.test(tenantId) || !UUID.test(deviceId) || !expiresAt || !seq || !mac) {
      throw authFailed('The device session header is incomplete.');
    }
    const expected = createHmac('sha256', this.sessionKey(token))
      .update(macInput({ method: request.method, path: request.path, seq, bodySha256: bodyHash(request.rawBody) }))
      .digest('base64url');
    if (!constantTimeEqual(expected, mac)) throw authFailed('The request MAC does not verify.');
    if (expiresAt <= this.clock.now()) throw new DomainError('device-session-expired', 'Start a new session with a signed request.');
    return { tenantId, deviceId, seq, data: await this.tenantData(tenantId), sessionExpiresAt: expiresAt };
  }

  /**
   * Records the request's sequence number; refuses a replayed request or a retired device. With
   * `checkIn` it also records the check-in time, in the same statement.
   */
  async record(device: AuthenticatedDevice, checkIn: boolean): Promise<CheckInTarget> {
    const target = await device.data.devices.recordRequest(device.deviceId, device.seq, this.clock.now(), checkIn);
    if (!target) throw await this.rejection(device.data, device.deviceId);
    return target;
  }

  private async rejection(data: TenantData, deviceId: string): Promise<DomainError> {
    const device = await data.devices.get(deviceId);
    if (!device) return authFailed('Unknown device.');
    if (device.status !== 'active')
      return new DomainError('device-not-active', 'This device was retired; its credential is revoked. Enroll it again.');
    return new DomainError('device-request-replayed', 'The sequence number was already used; a request is never accepted twice.');
  }

  private async tenantData(tenantId: string): Promise<TenantData> {
    try {
      return await this.tenants.data(tenantId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') throw authFailed('Unknown device.');
      throw error;
    }
  }

  private sessionKey(token: string): Buffer {
    return createHmac('sha256', this.sessionSecret).update(token).digest();
  }

  private publicKey(spki: string): KeyObject {
    let key = this.keys.get(spki);
    if (!key) {
      key = createPublicKey({ key: Buffer.from(spki, 'base64'), format: 'der', type: 'spki' });
      if (this.keys.size > 100_000) this.keys.clear();
      this.keys.set(spki, key);
    }
    return key;
  }
}
