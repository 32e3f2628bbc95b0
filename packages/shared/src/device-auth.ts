/**
 * How a device authenticates its requests (see docs/decisions/0001-device-authentication.md).
 *
 * The agent's private key never leaves the device. It signs a session request with that key
 * (ECDSA P-256, SHA-256) and receives a short-lived session key; every later request carries an
 * HMAC-SHA256 under that key. Both kinds of request carry a per-device sequence number that must
 * grow, so a captured request cannot be replayed. Everything travels in the `Authorization`
 * header, so it works unchanged behind a TLS-terminating proxy.
 *
 * This module only builds and parses the texts; the server and the agent bring their own crypto.
 */

/** `Authorization: CustosDeviceSignature device="<tenantId>/<deviceId>", seq="<n>", ts="<ms>", sig="<b64url>"` */
export const SIGNATURE_SCHEME = 'CustosDeviceSignature';
/** `Authorization: CustosDevice session="<token>", seq="<n>", mac="<b64url>"` */
export const SESSION_SCHEME = 'CustosDevice';

/** How far a signed request's timestamp may be from the server's clock. */
export const SIGNATURE_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface SignedRequestParts {
  method: string;
  /** Path and query exactly as sent, e.g. `/api/v1/agent/session`. */
  path: string;
  seq: number;
  timestampMs: number;
  /** base64url SHA-256 of the raw body (of the empty string when there is none). */
  bodySha256: string;
}

export function signatureInput(p: SignedRequestParts): string {
  return ['custos-device-signature-v1', p.method.toUpperCase(), p.path, String(p.seq), String(p.timestampMs), p.bodySha256].join('\n');
}

export interface MacRequestParts {
  method: string;
  path: string;
  seq: number;
  bodySha256: string;
}

export function macInput(p: MacRequestParts): string {
  return ['custos-device-mac-v1', p.method.toUpperCase(), p.path, String(p.seq), p.bodySha256].join('\n');
}

export function formatAuthorization(scheme: string, params: Record<string, string | number>): string {
  return `${scheme} ${Object.entries(params)
    .map(([k, v]) => `${k}="${String(v)}"`)
    .join(', ')}`;
}

/** Parses `Scheme k="v", k2="v2"`; returns undefined for anything else. Values never contain quotes. */
export function parseAuthorization(header: string | undefined): { scheme: string; params: Record<string, string> } | undefined {
  if (!header || header.length > 4096) return undefined;
  const space = header.indexOf(' ');
  if (space <= 0) return undefined;
  const scheme = header.slice(0, space);
  const params: Record<string, string> = {};
  const rest = header.slice(space + 1);
  const re = /\s*([a-z]+)="([^"]*)"\s*(?:,|$)/gy;
  let consumed = 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    params[m[1] as string] = m[2] as string;
    consumed = re.lastIndex;
  }
  if (consumed !== rest.length) return undefined;
  return { scheme, params };
}
