/**
 * The relying-party side of OpenID Connect (https://openid.net/specs/openid-connect-core-1_0.html),
 * through `openid-client`: discovery of a tenant's IdP and a short-lived cache of the result, so a
 * sign-in does not fetch the discovery document and the JWKS every time.
 *
 * Issuers must be https. Plain http is accepted only for a loopback host (a provider on the same
 * machine, as in development and the tests), never over a network.
 */
import * as client from 'openid-client';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';

/** A discovered provider is reused this long, then discovered again (key rotation, new endpoints). */
const CACHE_MS = 10 * 60_000;
const DISCOVERY_TIMEOUT_SECONDS = 10;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Checks the issuer's form: an absolute https URL (http on loopback only) without query or fragment. */
export function checkIssuerUrl(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new DomainError('validation-failed', `The issuer "${issuer}" is not an absolute URL.`);
  }
  const loopback = LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new DomainError('validation-failed', 'The issuer must be an https URL (http only on a loopback address).');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new DomainError('validation-failed', 'The issuer URL must not carry a query, a fragment or credentials.');
  }
  return url;
}

export interface OidcClientSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
}

/** Discovers providers and keeps each tenant's configuration for a few minutes. */
export class OidcProviders {
  private readonly cache = new Map<string, { key: string; at: number; config: client.Configuration }>();

  constructor(private readonly clock: Clock) {}

  /**
   * Fetches the issuer's discovery document and checks that it names exactly this issuer (OIDC
   * Discovery §4.3). Any failure is `idp-discovery-failed` with the reason.
   */
  async discover(settings: OidcClientSettings): Promise<client.Configuration> {
    const url = checkIssuerUrl(settings.issuer);
    const auth = settings.clientSecret === null ? client.None() : client.ClientSecretBasic(settings.clientSecret);
    try {
      return await client.discovery(url, settings.clientId, undefined, auth, {
        timeout: DISCOVERY_TIMEOUT_SECONDS,
        ...(url.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
      });
    } catch (error) {
      throw new DomainError(
        'idp-discovery-failed',
        `The OpenID configuration of ${settings.issuer} could not be read: ${describeError(error)}. Check the issuer URL; nothing was stored.`,
      );
    }
  }

  /** The tenant's configuration, from the cache when `version` (the stored record's) is unchanged. */
  async configuration(tenantId: string, version: string, settings: OidcClientSettings): Promise<client.Configuration> {
    const now = this.clock.now();
    const cached = this.cache.get(tenantId);
    if (cached && cached.key === version && now - cached.at < CACHE_MS) return cached.config;
    const config = await this.discover(settings);
    this.cache.set(tenantId, { key: version, at: now, config });
    return config;
  }

  forget(tenantId: string): void {
    this.cache.delete(tenantId);
  }
}

/** A short reason from openid-client/oauth4webapi errors, without stack or response bodies. */
export function describeError(error: unknown): string {
  if (error instanceof client.ResponseBodyError) return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  if (error instanceof client.AuthorizationResponseError) {
    return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
