export interface ApiTokenRecord {
  id: string;
  name: string;
  role: string;
  secretHash: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface ApiTokenStore {
  insert(token: ApiTokenRecord): Promise<void>;
  findBySecretHash(secretHash: string): Promise<ApiTokenRecord | undefined>;
  list(): Promise<ApiTokenRecord[]>;
  revoke(id: string, at: number): Promise<boolean>;
}
