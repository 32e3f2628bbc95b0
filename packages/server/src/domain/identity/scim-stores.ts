/**
 * Storage behind the SCIM 2.0 endpoints (RFC 7644): the tenant's provisioning token, and the
 * index-based paging SCIM lists use (`startIndex`/`count`), which the cursor-paged user and group
 * stores do not offer.
 */
import type { GroupRecord, UserRecord } from './identity-stores.js';

export interface ScimTokenRecord {
  id: string;
  secretHash: string;
  createdBy: string | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface ScimTokenStore {
  insert(record: ScimTokenRecord): Promise<void>;
  findBySecretHash(secretHash: string): Promise<ScimTokenRecord | undefined>;
  /** Every token not revoked (for the access review). */
  listOpen(): Promise<ScimTokenRecord[]>;
  /** Revokes every open token; returns how many. */
  revokeAll(at: number): Promise<number>;
}

/** One `attribute eq "value"` comparison; SCIM compares these attributes case-sensitively except userName and emails. */
export type ScimUserFilter = { attribute: 'userName' | 'emails' | 'externalId' | 'id'; value: string };
export type ScimGroupFilter = { attribute: 'displayName' | 'externalId' | 'id'; value: string };

export interface ScimDirectoryStore {
  /** Users ordered by creation, then id; `offset` is `startIndex - 1`. */
  listUsers(options: { offset: number; limit: number; filter?: ScimUserFilter }): Promise<UserRecord[]>;
  countUsers(filter?: ScimUserFilter): Promise<number>;
  listGroups(options: { offset: number; limit: number; filter?: ScimGroupFilter }): Promise<GroupRecord[]>;
  countGroups(filter?: ScimGroupFilter): Promise<number>;
  /** Display names of the given users' ids that exist, for group `members[].display`. */
  userNames(ids: readonly string[]): Promise<Map<string, string>>;
}
