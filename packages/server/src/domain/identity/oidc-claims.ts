/**
 * What Custos reads from a verified ID token (and the userinfo response): the user's profile, the
 * IdP groups the mappings match, whether the sign-in was multi-factor (RFC 8176 `amr` values), and
 * whether the user asked to be remembered.
 */
import type { IdentityProviderOptions } from './oidc-stores.js';

export type Claims = Readonly<Record<string, unknown>>;

/** Authentication methods (RFC 8176 §2) that are a second factor or a phishing-resistant key. */
const MFA_AMR = new Set(['mfa', 'otp', 'hwk', 'sms', 'sc', 'fpt', 'face', 'iris', 'retina', 'vbm', 'swk']);
/** The OpenID PAPE multi-factor policy, still sent as `acr` by some providers. */
const MFA_ACR = new Set(['http://schemas.openid.net/pape/policies/2007/06/multi-factor', 'mfa']);

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined;
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || (typeof value === 'string' && ['true', '1', 'yes'].includes(value.toLowerCase()));
}

/** The IdP says the sign-in used more than a password. */
export function assertsMfa(claims: Claims): boolean {
  const amr = Array.isArray(claims['amr']) ? claims['amr'] : [];
  if (amr.some((m) => typeof m === 'string' && MFA_AMR.has(m))) return true;
  const acr = text(claims['acr']);
  return acr !== undefined && MFA_ACR.has(acr);
}

/** The user chose "remember me" at the IdP, by the tenant's rule; the lifetime in ms, else undefined. */
export function rememberMeLifetime(options: IdentityProviderOptions, claims: Claims): number | undefined {
  const rule = options.rememberMe;
  if (!rule || !truthy(claims[rule.claim])) return undefined;
  return rule.absoluteHours * 3_600_000;
}

/** The values of the groups claim (an array of strings, or one string). */
export function groupValues(options: IdentityProviderOptions, claims: Claims): Set<string> {
  const raw = claims[options.groupsClaim];
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return new Set(values.filter((v): v is string => typeof v === 'string'));
}

export interface FederatedProfile {
  /** A user name without spaces: `preferred_username`, else a verified `email`, else the subject. */
  userName: string;
  displayName: string | null;
  email: string | null;
}

export function profileOf(claims: Claims, subject: string): FederatedProfile {
  const emailVerified = claims['email_verified'] !== false && claims['email_verified'] !== 'false';
  const claimed = emailVerified ? text(claims['email']) : undefined;
  const email = claimed !== undefined && EMAIL.test(claimed) && claimed.length <= 320 ? claimed : undefined;
  const preferred = text(claims['preferred_username']);
  const candidates = [preferred, email, subject].filter((c): c is string => c !== undefined && !/\s/.test(c) && c.length <= 256);
  const name = text(claims['name']) ?? ([text(claims['given_name']), text(claims['family_name'])].filter(Boolean).join(' ') || undefined);
  return { userName: candidates[0] ?? subject, displayName: name ?? null, email: email ?? null };
}
