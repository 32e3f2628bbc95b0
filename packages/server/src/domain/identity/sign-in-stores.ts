/**
 * Storage for signing in (SPEC §5): login throttling, second factors (TOTP, recovery codes,
 * passkeys with their WebAuthn challenges) and password reset tokens. Bound to one tenant like every
 * other `TenantData` store.
 */

export interface ThrottleState {
  failures: number;
  windowStartedAt: number;
  lockedUntil: number | null;
}

export interface SignInThrottleStore {
  get(key: string): Promise<ThrottleState | undefined>;
  /**
   * Counts one failure for `key` atomically (several processes may count at once): a window older
   * than `windowStartedBefore` starts again at one. Returns the state after the count.
   */
  recordFailure(key: string, at: number, windowStartedBefore: number): Promise<ThrottleState>;
  /** Locks `key` until `until` and starts a fresh window (the lockout itself is the penalty). */
  lock(key: string, until: number, at: number): Promise<void>;
  clear(key: string): Promise<void>;
}

export interface TotpRecord {
  userId: string;
  /** The base32 secret, sealed with AES-256-GCM (mfa-secret-box.ts). */
  secretSealed: string;
  /** null until the user proved the authenticator app with a first code. */
  confirmedAt: number | null;
  /** The RFC 6238 time step of the last accepted code: a code of that step or earlier is refused. */
  lastUsedStep: number | null;
  createdAt: number;
}

export interface TotpStore {
  get(userId: string): Promise<TotpRecord | undefined>;
  /** Inserts or replaces the user's TOTP record. */
  put(record: TotpRecord): Promise<void>;
  confirm(userId: string, at: number, step: number): Promise<void>;
  /** Records `step` as used only if it is later than the last used step; false when it was not. */
  useStep(userId: string, step: number): Promise<boolean>;
  delete(userId: string): Promise<boolean>;
}

export interface RecoveryCodeStore {
  /** Replaces every recovery code of the user. */
  replace(userId: string, codeHashes: readonly string[]): Promise<void>;
  /** Marks the code used if it exists and is unused; false otherwise. */
  use(userId: string, codeHash: string, at: number): Promise<boolean>;
  countUnused(userId: string): Promise<number>;
  deleteForUser(userId: string): Promise<void>;
}

export interface PasskeyRecord {
  /** The WebAuthn credential id (base64url). */
  id: string;
  userId: string;
  name: string;
  /** The COSE public key (base64url). */
  publicKey: string;
  counter: number;
  transports: string[];
  createdAt: number;
  lastUsedAt: number | null;
}

export type WebAuthnPurpose = 'registration' | 'authentication';

export interface PasskeyStore {
  insert(passkey: PasskeyRecord): Promise<void>;
  get(id: string): Promise<PasskeyRecord | undefined>;
  listForUser(userId: string): Promise<PasskeyRecord[]>;
  recordUse(id: string, counter: number, at: number): Promise<void>;
  delete(userId: string, id: string): Promise<boolean>;
  /** Keeps one outstanding challenge per session and purpose (a new one replaces the old). */
  putChallenge(sessionId: string, purpose: WebAuthnPurpose, challenge: string, expiresAt: number): Promise<void>;
  /** Returns and deletes the challenge: each can be answered once. */
  takeChallenge(sessionId: string, purpose: WebAuthnPurpose): Promise<{ challenge: string; expiresAt: number } | undefined>;
}

export interface PasswordResetRecord {
  tokenHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface PasswordResetStore {
  insert(record: PasswordResetRecord): Promise<void>;
  get(tokenHash: string): Promise<PasswordResetRecord | undefined>;
  /** Marks the token used if it is still unused; false when someone used it first. */
  use(tokenHash: string, at: number): Promise<boolean>;
  /** Every other outstanding link of the user stops working (after a reset). */
  expireAllForUser(userId: string, at: number): Promise<void>;
  countSince(userId: string, since: number): Promise<number>;
}
