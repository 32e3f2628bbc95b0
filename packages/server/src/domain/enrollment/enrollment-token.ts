import type { Ownership, Platform } from '@custos/shared';

export interface EnrollmentTokenRecord {
  id: string;
  secretHash: string;
  ownership: Ownership;
  description: string | null;
  platforms: Platform[] | null;
  maxUses: number | null;
  uses: number;
  deviceLimitPerUser: number;
  /** Stored encrypted (region migration 0016). */
  userEmail: string | null;
  expiresAt: number;
  createdAt: number;
  revokedAt: number | null;
  /** Scope tags every device enrolling with the token gets (region migration 0009). */
  scopeTags?: string[];
}

export interface EnrollmentTokenStore {
  insert(token: EnrollmentTokenRecord): Promise<void>;
  findBySecretHash(secretHash: string): Promise<EnrollmentTokenRecord | undefined>;
  list(): Promise<EnrollmentTokenRecord[]>;
  revoke(id: string, at: number): Promise<boolean>;
  /** Counts one use if the token is still usable at `at`; false when another request took the last use. */
  consumeUse(id: string, at: number): Promise<boolean>;
  /** Re-encrypts one keyset batch of tokens under the current key version (`custos keys rotate`). */
  reencryptBatch(afterId: string | null, limit: number): Promise<{ lastId: string | null; scanned: number; rewritten: number }>;
}
