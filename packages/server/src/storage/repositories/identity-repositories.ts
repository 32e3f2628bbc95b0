/**
 * Users, groups, roles, role assignments and portal sessions (migration 0004), bound to one tenant.
 * A user's user name, email and phone are stored encrypted (sensitive-identity-columns.ts).
 */
import type { Kysely } from 'kysely';
import type { Permission } from '@custos/shared';
import type {
  GroupRecord,
  GroupStore,
  RoleAssignmentRecord,
  RoleAssignmentStore,
  RoleRecord,
  RoleStore,
  SessionRecord,
  SessionStore,
  UserRecord,
  UserSource,
  UserStore,
} from '../../domain/identity/identity-stores.js';
import type { CipherSource, TenantCipher } from '../../domain/encryption/tenant-cipher.js';
import type { GroupTable, RegionDatabase, RoleAssignmentTable, RoleTable, UserSessionTable, UserTable } from '../database.js';
import { lookupHashes, openRows, reencryptBatch, sealValues, type ReencryptedBatch } from './sealed-columns.js';
import { USER_COLUMNS } from './sensitive-identity-columns.js';

/** Rows per INSERT: well under SQLite's bound-parameter limit. */
const INSERT_BATCH = 300;

/** The user of a row whose sensitive columns are already decrypted (`openRows`). */
export function toUser(r: UserTable): UserRecord {
  return {
    id: r.id,
    userName: r.user_name,
    displayName: r.display_name,
    email: r.email,
    phone: r.phone,
    source: r.source as UserSource,
    externalId: r.external_id,
    active: r.active === 1,
    passwordHash: r.password_hash,
    passwordChangedAt: r.password_changed_at,
    lastSignInAt: r.last_sign_in_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Decrypts user rows read from the store. */
export async function openUsers(cipher: CipherSource, rows: readonly UserTable[]): Promise<UserRecord[]> {
  return (await openRows(cipher, USER_COLUMNS, rows)).map(toUser);
}

/** The user's row with user name, email and phone encrypted and their lookup hashes set. */
function userRow(cipher: TenantCipher, tenantId: string, u: UserRecord): UserTable {
  return sealValues(cipher, USER_COLUMNS, {
    tenant_id: tenantId,
    id: u.id,
    user_name: u.userName,
    user_name_hash: null,
    display_name: u.displayName,
    email: u.email,
    email_hash: null,
    phone: u.phone,
    source: u.source,
    external_id: u.externalId,
    active: u.active ? 1 : 0,
    password_hash: u.passwordHash,
    password_changed_at: u.passwordChangedAt,
    last_sign_in_at: u.lastSignInAt,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  });
}

export class UserRepository implements UserStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {}

  async insert(user: UserRecord): Promise<void> {
    await this.db
      .insertInto('users')
      .values(userRow(await this.cipher(), this.tenantId, user))
      .execute();
  }

  async update(user: UserRecord): Promise<void> {
    const row = userRow(await this.cipher(), this.tenantId, user);
    const changes: Partial<UserTable> = { ...row };
    delete changes.tenant_id;
    delete changes.id;
    delete changes.created_at;
    await this.db.updateTable('users').set(changes).where('tenant_id', '=', this.tenantId).where('id', '=', user.id).execute();
  }

  private async one(rows: UserTable[]): Promise<UserRecord | undefined> {
    return (await openUsers(this.cipher, rows))[0];
  }

  async get(id: string): Promise<UserRecord | undefined> {
    return this.one(await this.db.selectFrom('users').selectAll().where('tenant_id', '=', this.tenantId).where('id', '=', id).execute());
  }

  /** The hashes a user name may be stored under (one per live key version). */
  private async userNameHashes(userName: string): Promise<string[]> {
    return lookupHashes(await this.cipher(), USER_COLUMNS, 'user_name', userName);
  }

  async findByUserName(userName: string): Promise<UserRecord | undefined> {
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('user_name_hash', 'in', await this.userNameHashes(userName))
      .execute();
    return this.one(rows);
  }

  async findByExternalId(source: UserSource, externalId: string): Promise<UserRecord | undefined> {
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('source', '=', source)
      .where('external_id', '=', externalId)
      .execute();
    return this.one(rows);
  }

  async list(options: { limit: number; after?: readonly [string, string]; userNameEquals?: string }): Promise<UserRecord[]> {
    let q = this.db.selectFrom('users').selectAll().where('tenant_id', '=', this.tenantId);
    if (options.userNameEquals !== undefined) q = q.where('user_name_hash', 'in', await this.userNameHashes(options.userNameEquals));
    // The ciphertext has no order: sort the decrypted names here (bounded by the tenant's size).
    const users = (await openUsers(this.cipher, await q.execute()))
      .map((user) => ({ key: user.userName.toLowerCase(), user }))
      .sort((a, b) => (a.key === b.key ? compare(a.user.id, b.user.id) : compare(a.key, b.key)));
    const after = options.after;
    const start = after ? users.findIndex(({ key, user }) => key > after[0] || (key === after[0] && user.id > after[1])) : 0;
    return start < 0 ? [] : users.slice(start, start + options.limit).map(({ user }) => user);
  }

  async count(options: { userNameEquals?: string }): Promise<number> {
    let q = this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId);
    if (options.userNameEquals !== undefined) q = q.where('user_name_hash', 'in', await this.userNameHashes(options.userNameEquals));
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('users').where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async reencryptBatch(afterId: string | null, limit: number): Promise<ReencryptedBatch> {
    return reencryptBatch(this.db, USER_COLUMNS, this.tenantId, await this.cipher({ refresh: true }), afterId, limit);
  }
}

/** Code-unit order, the same on every platform and locale (what the SQL order by the key was). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function toGroup(r: GroupTable): GroupRecord {
  return {
    id: r.id,
    displayName: r.display_name,
    description: r.description,
    source: r.source === 'scim' ? 'scim' : 'cloud',
    externalId: r.external_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class GroupRepository implements GroupStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(g: GroupRecord): Promise<void> {
    await this.db
      .insertInto('groups')
      .values({
        tenant_id: this.tenantId,
        id: g.id,
        display_name: g.displayName,
        description: g.description,
        source: g.source,
        external_id: g.externalId,
        created_at: g.createdAt,
        updated_at: g.updatedAt,
      })
      .execute();
  }

  async update(g: GroupRecord): Promise<void> {
    await this.db
      .updateTable('groups')
      .set({ display_name: g.displayName, description: g.description, external_id: g.externalId, updated_at: g.updatedAt })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', g.id)
      .execute();
  }

  async get(id: string): Promise<GroupRecord | undefined> {
    const row = await this.db
      .selectFrom('groups')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toGroup(row);
  }

  async findByDisplayName(displayName: string): Promise<GroupRecord | undefined> {
    const row = await this.db
      .selectFrom('groups')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('display_name', '=', displayName)
      .executeTakeFirst();
    return row && toGroup(row);
  }

  async list(options: { limit: number; after?: readonly [string, string]; displayNameEquals?: string }): Promise<GroupRecord[]> {
    let q = this.db.selectFrom('groups').selectAll().where('tenant_id', '=', this.tenantId);
    if (options.displayNameEquals !== undefined) q = q.where('display_name', '=', options.displayNameEquals);
    const after = options.after;
    if (after) {
      q = q.where((eb) => eb.or([eb('display_name', '>', after[0]), eb.and([eb('display_name', '=', after[0]), eb('id', '>', after[1])])]));
    }
    const rows = await q.orderBy('display_name').orderBy('id').limit(options.limit).execute();
    return rows.map(toGroup);
  }

  async count(options: { displayNameEquals?: string }): Promise<number> {
    let q = this.db
      .selectFrom('groups')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId);
    if (options.displayNameEquals !== undefined) q = q.where('display_name', '=', options.displayNameEquals);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('groups').where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async members(groupId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('group_members')
      .select('user_id')
      .where('tenant_id', '=', this.tenantId)
      .where('group_id', '=', groupId)
      .orderBy('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  }

  async setMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    await this.db.deleteFrom('group_members').where('tenant_id', '=', this.tenantId).where('group_id', '=', groupId).execute();
    await this.addMembers(groupId, userIds);
  }

  async addMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    const unique = [...new Set(userIds)];
    for (let i = 0; i < unique.length; i += INSERT_BATCH) {
      await this.db
        .insertInto('group_members')
        .values(unique.slice(i, i + INSERT_BATCH).map((user_id) => ({ tenant_id: this.tenantId, group_id: groupId, user_id })))
        .onConflict((oc) => oc.columns(['tenant_id', 'group_id', 'user_id']).doNothing())
        .execute();
    }
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.db
      .deleteFrom('group_members')
      .where('tenant_id', '=', this.tenantId)
      .where('group_id', '=', groupId)
      .where('user_id', 'in', [...userIds])
      .execute();
  }

  async groupsOfUser(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('group_members')
      .select('group_id')
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .execute();
    return rows.map((r) => r.group_id);
  }

  async existing(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('groups')
      .select('id')
      .where('tenant_id', '=', this.tenantId)
      .where('id', 'in', [...ids])
      .execute();
    return rows.map((r) => r.id);
  }
}

function toRole(r: RoleTable): RoleRecord {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    permissions: JSON.parse(r.permissions) as Permission[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class RoleRepository implements RoleStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(role: RoleRecord): Promise<void> {
    await this.db
      .insertInto('roles')
      .values({
        tenant_id: this.tenantId,
        id: role.id,
        name: role.name,
        description: role.description,
        permissions: JSON.stringify(role.permissions),
        created_at: role.createdAt,
        updated_at: role.updatedAt,
      })
      .execute();
  }

  async update(role: RoleRecord): Promise<void> {
    await this.db
      .updateTable('roles')
      .set({ name: role.name, description: role.description, permissions: JSON.stringify(role.permissions), updated_at: role.updatedAt })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', role.id)
      .execute();
  }

  async get(id: string): Promise<RoleRecord | undefined> {
    const row = await this.db
      .selectFrom('roles')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRole(row);
  }

  async list(): Promise<RoleRecord[]> {
    const rows = await this.db.selectFrom('roles').selectAll().where('tenant_id', '=', this.tenantId).orderBy('name').execute();
    return rows.map(toRole);
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('roles').where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }
}

function toAssignment(r: RoleAssignmentTable): RoleAssignmentRecord {
  return {
    id: r.id,
    role: r.role,
    principalKind: r.principal_kind === 'group' ? 'group' : 'user',
    principalId: r.principal_id,
    scopeTags: r.scope_tags === null ? null : (JSON.parse(r.scope_tags) as string[]),
    createdAt: r.created_at,
  };
}

export class RoleAssignmentRepository implements RoleAssignmentStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(a: RoleAssignmentRecord): Promise<void> {
    await this.db
      .insertInto('role_assignments')
      .values({
        tenant_id: this.tenantId,
        id: a.id,
        role: a.role,
        principal_kind: a.principalKind,
        principal_id: a.principalId,
        scope_tags: a.scopeTags === null ? null : JSON.stringify(a.scopeTags),
        created_at: a.createdAt,
      })
      .execute();
  }

  async get(id: string): Promise<RoleAssignmentRecord | undefined> {
    const row = await this.db
      .selectFrom('role_assignments')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toAssignment(row);
  }

  async list(): Promise<RoleAssignmentRecord[]> {
    const rows = await this.db
      .selectFrom('role_assignments')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toAssignment);
  }

  async forPrincipals(userId: string, groupIds: readonly string[]): Promise<RoleAssignmentRecord[]> {
    const rows = await this.db
      .selectFrom('role_assignments')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where((eb) => {
        const byUser = eb.and([eb('principal_kind', '=', 'user'), eb('principal_id', '=', userId)]);
        return groupIds.length === 0
          ? byUser
          : eb.or([byUser, eb.and([eb('principal_kind', '=', 'group'), eb('principal_id', 'in', [...groupIds])])]);
      })
      .execute();
    return rows.map(toAssignment);
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('role_assignments').where('tenant_id', '=', this.tenantId).where('id', '=', id).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async deleteForPrincipal(kind: 'user' | 'group', id: string): Promise<number> {
    const r = await this.db
      .deleteFrom('role_assignments')
      .where('tenant_id', '=', this.tenantId)
      .where('principal_kind', '=', kind)
      .where('principal_id', '=', id)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteForRole(role: string): Promise<number> {
    const r = await this.db
      .deleteFrom('role_assignments')
      .where('tenant_id', '=', this.tenantId)
      .where('role', '=', role)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

function toSession(r: UserSessionTable): SessionRecord {
  return {
    id: r.id,
    secretHash: r.secret_hash,
    userId: r.user_id,
    method: r.method === 'oidc' ? 'oidc' : 'password',
    mfaSatisfied: r.mfa_satisfied === 1,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    absoluteExpiresAt: r.absolute_expires_at,
    ip: r.ip,
    userAgent: r.user_agent,
    revokedAt: r.revoked_at,
  };
}

export class SessionRepository implements SessionStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(s: SessionRecord): Promise<void> {
    await this.db
      .insertInto('user_sessions')
      .values({
        tenant_id: this.tenantId,
        id: s.id,
        secret_hash: s.secretHash,
        user_id: s.userId,
        method: s.method,
        mfa_satisfied: s.mfaSatisfied ? 1 : 0,
        created_at: s.createdAt,
        last_seen_at: s.lastSeenAt,
        absolute_expires_at: s.absoluteExpiresAt,
        ip: s.ip,
        user_agent: s.userAgent,
        revoked_at: s.revokedAt,
      })
      .execute();
  }

  async findBySecretHash(secretHash: string): Promise<SessionRecord | undefined> {
    const row = await this.db
      .selectFrom('user_sessions')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('secret_hash', '=', secretHash)
      .executeTakeFirst();
    return row && toSession(row);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const row = await this.db
      .selectFrom('user_sessions')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toSession(row);
  }

  async listForUser(userId: string): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('user_sessions')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toSession);
  }

  async touch(id: string, at: number): Promise<void> {
    await this.db
      .updateTable('user_sessions')
      .set({ last_seen_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
  }

  async markMfaSatisfied(id: string): Promise<void> {
    await this.db
      .updateTable('user_sessions')
      .set({ mfa_satisfied: 1 })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('user_sessions')
      .set({ revoked_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async revokeAllForUser(userId: string, at: number): Promise<number> {
    const r = await this.db
      .updateTable('user_sessions')
      .set({ revoked_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
