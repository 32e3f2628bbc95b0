export interface ApiTokenRecord {
  id: string;
  name: string;
  role: string;
  secretHash: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
  /** The scope tags the token's role applies to; null is every object. */
  scopeTags: readonly string[] | null;
  /** Who created it (`user:<id>`, `cli`...), for the access review. */
  createdBy: string | null;
}

export interface ApiTokenStore {
  insert(token: ApiTokenRecord): Promise<void>;
  findBySecretHash(secretHash: string): Promise<ApiTokenRecord | undefined>;
  list(): Promise<ApiTokenRecord[]>;
  revoke(id: string, at: number): Promise<boolean>;
  /** Revokes every open token created by `createdBy` (a deactivated user's tokens); returns how many. */
  revokeCreatedBy(createdBy: string, at: number): Promise<number>;
  get(id: string): Promise<ApiTokenRecord | undefined>;
  /** Records a use of the token (for the access review). */
  touch(id: string, at: number): Promise<void>;
}
