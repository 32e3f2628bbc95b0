/**
 * Storage of OpenID Connect federation (SPEC §5): the tenant's identity provider, sign-ins in
 * flight, and the links from an IdP subject (issuer + `sub`) to a Custos user.
 */

/** Claim mappings and sign-in rules of an identity provider, stored as one JSON document. */
export interface IdentityProviderOptions {
  scopes: string[];
  /** The claim that lists the user's IdP groups (default `groups`). */
  groupsClaim: string;
  groupMappings: { claimValue: string; group: string }[];
  /** Create a mapped Custos group that does not exist yet, instead of skipping it. */
  createMissingGroups: boolean;
  roleMappings: { claimValue: string; role: string }[];
  /** Every sign-in through this IdP counts as multi-factor. */
  trustIdpMfa: boolean;
  /** When `claim` is true, the session's absolute lifetime is `absoluteHours` (≤ 30 days). */
  rememberMe: { claim: string; absoluteHours: number } | null;
}

export interface IdentityProviderRecord {
  issuer: string;
  clientId: string;
  /** AES-256-GCM ciphertext of the client secret (see oidc-secret-box.ts); null for a public client. */
  clientSecretEncrypted: string | null;
  options: IdentityProviderOptions;
  createdAt: number;
  updatedAt: number;
}

export interface IdentityProviderStore {
  get(): Promise<IdentityProviderRecord | undefined>;
  put(record: IdentityProviderRecord): Promise<void>;
  delete(): Promise<boolean>;
}

export interface OidcLoginStateRecord {
  stateHash: string;
  bindingHash: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  returnTo: string;
  createdAt: number;
  expiresAt: number;
}

export interface OidcLoginStateStore {
  insert(record: OidcLoginStateRecord): Promise<void>;
  /** Deletes and returns the record: a state is used at most once, whatever the outcome. */
  take(stateHash: string): Promise<OidcLoginStateRecord | undefined>;
  /** Removes sign-ins that were never completed; returns how many. */
  deleteExpired(now: number): Promise<number>;
}

export interface FederatedIdentityRecord {
  issuer: string;
  subject: string;
  userId: string;
  createdAt: number;
  lastSignInAt: number;
}

export interface FederatedIdentityStore {
  find(issuer: string, subject: string): Promise<FederatedIdentityRecord | undefined>;
  insert(record: FederatedIdentityRecord): Promise<void>;
  touch(issuer: string, subject: string, at: number): Promise<void>;
}
