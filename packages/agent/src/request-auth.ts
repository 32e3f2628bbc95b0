/**
 * The `Authorization` headers of device requests (shared `device-auth.ts`, decision 0001): a
 * signature with the device key to open a session, an HMAC under the session key for everything
 * else. Both cover the method, the path, the sequence number and a hash of the exact body bytes.
 */
import { createHash, createHmac, sign } from 'node:crypto';
import { SESSION_SCHEME, SIGNATURE_SCHEME, formatAuthorization, macInput, signatureInput } from '@custos/shared';

/** base64url SHA-256 of the raw body; hash the very bytes that are sent, not a re-serialization. */
export function bodySha256(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

export interface SignedRequest {
  privateKeyPem: string;
  tenantId: string;
  deviceId: string;
  method: string;
  path: string;
  seq: number;
  timestampMs: number;
  body: string;
}

/** `CustosDeviceSignature ...`: ECDSA P-256 / SHA-256 in IEEE P1363 form (r‖s, 64 bytes), base64url. */
export function signatureAuthorization(request: SignedRequest): string {
  const input = signatureInput({
    method: request.method,
    path: request.path,
    seq: request.seq,
    timestampMs: request.timestampMs,
    bodySha256: bodySha256(request.body),
  });
  const signature = sign('sha256', Buffer.from(input, 'utf8'), { key: request.privateKeyPem, dsaEncoding: 'ieee-p1363' });
  return formatAuthorization(SIGNATURE_SCHEME, {
    device: `${request.tenantId}/${request.deviceId}`,
    seq: request.seq,
    ts: request.timestampMs,
    sig: signature.toString('base64url'),
  });
}

export interface MacRequest {
  sessionToken: string;
  /** base64url, as the server issued it. */
  sessionKey: string;
  method: string;
  path: string;
  seq: number;
  body: string;
}

/** `CustosDevice ...`: HMAC-SHA256 under the decoded session key, base64url. */
export function sessionAuthorization(request: MacRequest): string {
  const input = macInput({ method: request.method, path: request.path, seq: request.seq, bodySha256: bodySha256(request.body) });
  const mac = createHmac('sha256', Buffer.from(request.sessionKey, 'base64url')).update(input, 'utf8').digest('base64url');
  return formatAuthorization(SESSION_SCHEME, { session: request.sessionToken, seq: request.seq, mac });
}
