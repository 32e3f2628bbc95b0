/**
 * Users, groups, custom roles, role assignments and portal sessions of one tenant (SPEC §3, §5). The
 * stores are bound to their tenant like every other `TenantData` store.
 */
import type { Permission } from '@custos/shared';

export type UserSource = 'cloud' | 'federated' | 'scim';

export interface UserRecord {
  id: string;
  /** Unique in the tenant, compared case-insensitively; usually the user's email address. */
  userName: string;
  displayName: string | null;
  email: string | null;
  /** The catalog's `userPhone`: from SCIM `phoneNumbers` or the admin API. */
  phone: string | null;
  source: UserSource;
  /** The IdP's subject (federated) or SCIM `externalId`. */
  externalId: string | null;
  active: boolean;
  /** argon2id (PHC string); null for users who sign in only through the IdP. */
  passwordHash: string | null;
  passwordChangedAt: number | null;
  lastSignInAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface UserPage {
  items: UserRecord[];
  nextCursor: string | null;
}

export interface UserStore {
  insert(user: UserRecord): Promise<void>;
  update(user: UserRecord): Promise<void>;
  get(id: string): Promise<UserRecord | undefined>;
  findByUserName(userName: string): Promise<UserRecord | undefined>;
  findByExternalId(source: UserSource, externalId: string): Promise<UserRecord | undefined>;
  /**
   * Ordered by lower-cased user name, then id; `after` is the previous page's last
   * `[lower-cased user name, id]`. User names are stored encrypted, so without `userNameEquals` the
   * tenant's users are decrypted and sorted in memory (bounded by the tenant's size).
   */
  list(options: { limit: number; after?: readonly [string, string]; userNameEquals?: string }): Promise<UserRecord[]>;
  count(options: { userNameEquals?: string }): Promise<number>;
  delete(id: string): Promise<boolean>;
  /** Re-encrypts one keyset batch of users under the current key version (`custos keys rotate`). */
  reencryptBatch(afterId: string | null, limit: number): Promise<{ lastId: string | null; scanned: number; rewritten: number }>;
}

export interface GroupRecord {
  id: string;
  displayName: string;
  description: string | null;
  source: 'cloud' | 'scim';
  externalId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface GroupStore {
  insert(group: GroupRecord): Promise<void>;
  update(group: GroupRecord): Promise<void>;
  get(id: string): Promise<GroupRecord | undefined>;
  findByDisplayName(displayName: string): Promise<GroupRecord | undefined>;
  list(options: { limit: number; after?: readonly [string, string]; displayNameEquals?: string }): Promise<GroupRecord[]>;
  count(options: { displayNameEquals?: string }): Promise<number>;
  delete(id: string): Promise<boolean>;
  members(groupId: string): Promise<string[]>;
  /** Replaces the member list; ids that are not users of the tenant are refused by the caller first. */
  setMembers(groupId: string, userIds: readonly string[]): Promise<void>;
  addMembers(groupId: string, userIds: readonly string[]): Promise<void>;
  removeMembers(groupId: string, userIds: readonly string[]): Promise<void>;
  groupsOfUser(userId: string): Promise<string[]>;
  /** The ids among `ids` that are groups of this tenant. */
  existing(ids: readonly string[]): Promise<string[]>;
}

export interface RoleRecord {
  id: string;
  name: string;
  description: string | null;
  permissions: Permission[];
  createdAt: number;
  updatedAt: number;
}

export interface RoleStore {
  insert(role: RoleRecord): Promise<void>;
  update(role: RoleRecord): Promise<void>;
  get(id: string): Promise<RoleRecord | undefined>;
  list(): Promise<RoleRecord[]>;
  delete(id: string): Promise<boolean>;
}

export interface RoleAssignmentRecord {
  id: string;
  /** A built-in role's name or a custom role's id. */
  role: string;
  principalKind: 'user' | 'group';
  principalId: string;
  /** null is every object; otherwise the scope tags the role applies to. */
  scopeTags: string[] | null;
  createdAt: number;
}

export interface RoleAssignmentStore {
  insert(assignment: RoleAssignmentRecord): Promise<void>;
  get(id: string): Promise<RoleAssignmentRecord | undefined>;
  list(): Promise<RoleAssignmentRecord[]>;
  /** Assignments to any of the given principals. */
  forPrincipals(userId: string, groupIds: readonly string[]): Promise<RoleAssignmentRecord[]>;
  delete(id: string): Promise<boolean>;
  deleteForPrincipal(kind: 'user' | 'group', id: string): Promise<number>;
  deleteForRole(role: string): Promise<number>;
}

export interface SessionRecord {
  id: string;
  secretHash: string;
  userId: string;
  method: 'password' | 'oidc';
  /** False until the user completed MFA where their roles require it. */
  mfaSatisfied: boolean;
  createdAt: number;
  lastSeenAt: number;
  absoluteExpiresAt: number;
  ip: string | null;
  userAgent: string | null;
  revokedAt: number | null;
}

export interface SessionStore {
  insert(session: SessionRecord): Promise<void>;
  findBySecretHash(secretHash: string): Promise<SessionRecord | undefined>;
  get(id: string): Promise<SessionRecord | undefined>;
  listForUser(userId: string): Promise<SessionRecord[]>;
  touch(id: string, at: number): Promise<void>;
  markMfaSatisfied(id: string): Promise<void>;
  revoke(id: string, at: number): Promise<boolean>;
  /** Revokes every open session of the user; returns how many. */
  revokeAllForUser(userId: string, at: number): Promise<number>;
}
