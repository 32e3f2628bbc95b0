/**
 * Users and static groups of a tenant (SPEC §3, §5): cloud-only users with an argon2id password,
 * federated users created just in time by SSO, users provisioned over SCIM. Every change is audited
 * in the same transaction. Deactivating a user revokes their sessions and API tokens at once.
 */
import { randomUUID } from 'node:crypto';
import { authorize, type Actor } from '../access/authorize.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { GroupRecord, UserRecord, UserSource } from './identity-stores.js';
import { checkPasswordPolicy, hashPassword } from './passwords.js';
import { permissionsOfRoleRef } from './principals.js';
import { assertCanDelegate } from './role-service.js';

export interface CreateUserInput {
  userName: string;
  displayName?: string | null;
  email?: string | null;
  phone?: string | null;
  password?: string;
  source?: UserSource;
  externalId?: string | null;
  active?: boolean;
  /** Built-in role names or custom role ids, assigned over every object. */
  roles?: readonly string[];
}

export interface UpdateUserInput {
  userName?: string;
  displayName?: string | null;
  email?: string | null;
  phone?: string | null;
  externalId?: string | null;
  active?: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const MAX_PAGE = 500;

function checkUserName(userName: string): string {
  const trimmed = userName.trim();
  if (trimmed.length === 0 || trimmed.length > 256 || /\s/.test(trimmed)) {
    throw new DomainError('validation-failed', 'The user name must be 1 to 256 characters without spaces (usually an email address).');
  }
  return trimmed;
}

function checkEmail(email: string | null | undefined): string | null {
  if (email === undefined || email === null) return null;
  if (!EMAIL.test(email) || email.length > 320) throw new DomainError('validation-failed', `"${email}" is not an email address.`);
  return email;
}

/** E.164-ish: an optional "+", then 4 to 20 digits, with spaces, dots, dashes or parentheses between them. */
const PHONE = /^\+?[0-9(][0-9 ().-]*[0-9]$/;
const MAX_PHONE_LENGTH = 32;

function checkPhone(phone: string | null | undefined): string | null {
  if (phone === undefined || phone === null) return null;
  const trimmed = phone.trim();
  const digits = trimmed.replace(/\D/g, '').length;
  if (trimmed.length > MAX_PHONE_LENGTH || !PHONE.test(trimmed) || digits < 4 || digits > 20) {
    throw new DomainError(
      'validation-failed',
      'The phone number must be digits with an optional leading "+" (E.164, like +44 20 7946 0958).',
    );
  }
  return trimmed;
}

function encodeCursor(key: readonly [string, string]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string | undefined): [string, string] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string'))
      return [value[0] as string, value[1] as string];
  } catch {
    // fall through to the error below
  }
  throw new DomainError('invalid-cursor', 'The cursor does not belong to this list; start again without a cursor.');
}

/** The user as the audit log and the API may show it: never the password hash. */
export function publicUser(user: UserRecord): Omit<UserRecord, 'passwordHash'> & { hasPassword: boolean } {
  const { passwordHash, ...rest } = user;
  return { ...rest, hasPassword: passwordHash !== null };
}

function auditView(user: UserRecord | undefined): Record<string, unknown> | undefined {
  if (!user) return undefined;
  return {
    userName: user.userName,
    displayName: user.displayName,
    email: user.email,
    phone: user.phone,
    active: user.active,
    externalId: user.externalId,
    password: user.passwordHash,
  };
}

/**
 * The audit log names a user by id only: user names (usually email addresses), emails and phone
 * numbers are stored encrypted, and the audit log must not keep a clear copy. That they changed is
 * recorded, not their values.
 */
export const USER_AUDIT_REDACTED = ['password', 'userName', 'email', 'phone'] as const;

/**
 * Told after a change that can alter which groups a user's devices belong to (membership, deletion,
 * deactivation), so policies and profiles assigned to groups follow. Runs after the change commits.
 */
export type MembershipListener = (tenantId: string, userNames: readonly string[]) => Promise<void>;

export class UserService {
  private membershipListener: MembershipListener | undefined;

  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  onMembershipChange(listener: MembershipListener): void {
    this.membershipListener = listener;
  }

  /** Devices name their user by user name (email), so the listener gets names, not ids. */
  private async membershipChanged(tenantId: string, userNames: readonly string[]): Promise<void> {
    if (this.membershipListener && userNames.length > 0) await this.membershipListener(tenantId, [...new Set(userNames)]);
  }

  private async userNamesOf(data: TenantData, userIds: readonly string[]): Promise<string[]> {
    const names: string[] = [];
    for (const id of new Set(userIds)) {
      const user = await data.users.get(id);
      if (user) names.push(user.userName);
    }
    return names;
  }

  async createUser(actor: Actor, tenantId: string, input: CreateUserInput): Promise<UserRecord> {
    authorize(actor, 'users.write', { tenantId });
    if (input.roles && input.roles.length > 0) authorize(actor, 'roles.write', { tenantId });
    const userName = checkUserName(input.userName);
    const email = checkEmail(input.email ?? (EMAIL.test(userName) ? userName : null));
    const phone = checkPhone(input.phone);
    const settings = await this.tenants.settings(tenantId);
    if (input.password !== undefined) checkPasswordPolicy(input.password, settings.identity.passwordMinLength, userName);
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    const data = await this.tenants.data(tenantId);
    const now = this.clock.now();
    const user: UserRecord = {
      id: randomUUID(),
      userName,
      displayName: input.displayName ?? null,
      email,
      phone,
      source: input.source ?? 'cloud',
      externalId: input.externalId ?? null,
      active: input.active ?? true,
      passwordHash,
      passwordChangedAt: passwordHash === null ? null : now,
      lastSignInAt: null,
      createdAt: now,
      updatedAt: now,
    };
    return data.transaction(async (trx) => {
      if (await trx.users.findByUserName(userName)) throw new DomainError('conflict', `A user named "${userName}" already exists.`);
      await trx.users.insert(user);
      for (const role of input.roles ?? []) {
        const permissions = await permissionsOfRoleRef(trx, role);
        if (!permissions) throw new DomainError('validation-failed', `Unknown role "${role}".`);
        assertCanDelegate(actor, tenantId, permissions, null);
        await trx.roleAssignments.insert({
          id: randomUUID(),
          role,
          principalKind: 'user',
          principalId: user.id,
          scopeTags: null,
          createdAt: now,
        });
      }
      await recordAudit(trx, actor, this.clock, {
        activity: 'Create user',
        category: 'UserManagement',
        operation: 'create',
        targets: [
          {
            type: 'user',
            id: user.id,
            modifiedProperties: [
              ...changedProperties(undefined, auditView(user), USER_AUDIT_REDACTED),
              ...(input.roles?.length ? [{ name: 'roles', oldValue: null, newValue: [...input.roles] }] : []),
            ],
          },
        ],
      });
      return user;
    });
  }

  async getUser(actor: Actor, tenantId: string, id: string): Promise<UserRecord> {
    authorize(actor, 'users.read', { tenantId });
    const user = await (await this.tenants.data(tenantId)).users.get(id);
    if (!user) throw new DomainError('not-found', `No user has the id ${id}.`);
    return user;
  }

  async listUsers(
    actor: Actor,
    tenantId: string,
    query: { limit?: number; cursor?: string; userName?: string },
  ): Promise<Page<UserRecord>> {
    authorize(actor, 'users.read', { tenantId });
    const limit = Math.min(Math.max(query.limit ?? 100, 1), MAX_PAGE);
    const after = decodeCursor(query.cursor);
    const data = await this.tenants.data(tenantId);
    const rows = await data.users.list({
      limit: limit + 1,
      ...(after ? { after } : {}),
      ...(query.userName ? { userNameEquals: query.userName } : {}),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.userName.toLowerCase(), last.id]) : null };
  }

  async updateUser(actor: Actor, tenantId: string, id: string, input: UpdateUserInput): Promise<UserRecord> {
    authorize(actor, 'users.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const updated = await data.transaction(async (trx) => {
      const before = await trx.users.get(id);
      if (!before) throw new DomainError('not-found', `No user has the id ${id}.`);
      const userName = input.userName === undefined ? before.userName : checkUserName(input.userName);
      if (userName.toLowerCase() !== before.userName.toLowerCase() && (await trx.users.findByUserName(userName))) {
        throw new DomainError('conflict', `A user named "${userName}" already exists.`);
      }
      const after: UserRecord = {
        ...before,
        userName,
        displayName: input.displayName === undefined ? before.displayName : input.displayName,
        email: input.email === undefined ? before.email : checkEmail(input.email),
        phone: input.phone === undefined ? before.phone : checkPhone(input.phone),
        externalId: input.externalId === undefined ? before.externalId : input.externalId,
        active: input.active ?? before.active,
        updatedAt: this.clock.now(),
      };
      await trx.users.update(after);
      if (before.active && !after.active) await this.revokeAccess(trx, id);
      await recordAudit(trx, actor, this.clock, {
        activity: before.active && !after.active ? 'Deactivate user' : 'Update user',
        category: 'UserManagement',
        operation: 'update',
        targets: [
          {
            type: 'user',
            id,
            modifiedProperties: changedProperties(auditView(before), auditView(after), USER_AUDIT_REDACTED),
          },
        ],
      });
      return { before, after };
    });
    if (updated.before.active !== updated.after.active || updated.before.userName !== updated.after.userName) {
      await this.membershipChanged(tenantId, [updated.before.userName, updated.after.userName]);
    }
    return updated.after;
  }

  /** An admin sets a user's password (a reset); every session of the user ends. */
  async setPassword(actor: Actor, tenantId: string, id: string, password: string): Promise<void> {
    authorize(actor, 'users.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const user = await data.users.get(id);
    if (!user) throw new DomainError('not-found', `No user has the id ${id}.`);
    const settings = await this.tenants.settings(tenantId);
    checkPasswordPolicy(password, settings.identity.passwordMinLength, user.userName);
    const hash = await hashPassword(password);
    await data.transaction(async (trx) => {
      const now = this.clock.now();
      await trx.users.update({ ...user, passwordHash: hash, passwordChangedAt: now, updatedAt: now });
      await trx.sessions.revokeAllForUser(id, now);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Reset password',
        category: 'UserManagement',
        operation: 'update',
        targets: [
          {
            type: 'user',
            id,
            modifiedProperties: [{ name: 'password', oldValue: '[redacted]', newValue: '[redacted]' }],
          },
        ],
      });
    });
  }

  async deleteUser(actor: Actor, tenantId: string, id: string): Promise<void> {
    authorize(actor, 'users.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const deleted = await data.transaction(async (trx) => {
      const user = await trx.users.get(id);
      if (!user) throw new DomainError('not-found', `No user has the id ${id}.`);
      await this.revokeAccess(trx, id);
      await trx.roleAssignments.deleteForPrincipal('user', id);
      await trx.users.delete(id);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Delete user',
        category: 'UserManagement',
        operation: 'delete',
        targets: [{ type: 'user', id, modifiedProperties: changedProperties(auditView(user), undefined, USER_AUDIT_REDACTED) }],
      });
      return user;
    });
    await this.membershipChanged(tenantId, [deleted.userName]);
  }

  /** Sessions and API tokens of a user stop working at once (deactivation, deletion, SCIM). */
  private async revokeAccess(trx: TenantData, userId: string): Promise<void> {
    const now = this.clock.now();
    await trx.sessions.revokeAllForUser(userId, now);
    await trx.apiTokens.revokeCreatedBy(`user:${userId}`, now);
  }

  // ---- groups ----

  async createGroup(
    actor: Actor,
    tenantId: string,
    input: {
      displayName: string;
      description?: string | null;
      members?: readonly string[];
      source?: 'cloud' | 'scim';
      externalId?: string | null;
    },
  ): Promise<GroupRecord> {
    authorize(actor, 'users.write', { tenantId });
    const displayName = input.displayName.trim();
    if (displayName.length === 0 || displayName.length > 256)
      throw new DomainError('validation-failed', 'The group name must be 1 to 256 characters.');
    const now = this.clock.now();
    const group: GroupRecord = {
      id: randomUUID(),
      displayName,
      description: input.description ?? null,
      source: input.source ?? 'cloud',
      externalId: input.externalId ?? null,
      createdAt: now,
      updatedAt: now,
    };
    const data = await this.tenants.data(tenantId);
    const created = await data.transaction(async (trx) => {
      if (await trx.groups.findByDisplayName(displayName))
        throw new DomainError('conflict', `A group named "${displayName}" already exists.`);
      await trx.groups.insert(group);
      const members = await this.checkMembers(trx, input.members ?? []);
      await trx.groups.addMembers(group.id, members);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Create group',
        category: 'GroupManagement',
        operation: 'create',
        targets: [
          {
            type: 'group',
            id: group.id,
            name: displayName,
            modifiedProperties: [
              { name: 'displayName', oldValue: null, newValue: displayName },
              ...(members.length ? [{ name: 'members', oldValue: null, newValue: members }] : []),
            ],
          },
        ],
      });
      return { group, members };
    });
    await this.membershipChanged(tenantId, await this.userNamesOf(data, created.members));
    return created.group;
  }

  async getGroup(actor: Actor, tenantId: string, id: string): Promise<GroupRecord & { members: string[] }> {
    authorize(actor, 'users.read', { tenantId });
    const data = await this.tenants.data(tenantId);
    const group = await data.groups.get(id);
    if (!group) throw new DomainError('not-found', `No group has the id ${id}.`);
    return { ...group, members: await data.groups.members(id) };
  }

  async listGroups(
    actor: Actor,
    tenantId: string,
    query: { limit?: number; cursor?: string; displayName?: string },
  ): Promise<Page<GroupRecord>> {
    authorize(actor, 'users.read', { tenantId });
    const limit = Math.min(Math.max(query.limit ?? 100, 1), MAX_PAGE);
    const after = decodeCursor(query.cursor);
    const data = await this.tenants.data(tenantId);
    const rows = await data.groups.list({
      limit: limit + 1,
      ...(after ? { after } : {}),
      ...(query.displayName ? { displayNameEquals: query.displayName } : {}),
    });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.displayName, last.id]) : null };
  }

  /** Renames a group and/or changes its members (`members` replaces; `add`/`remove` edit). */
  async updateGroup(
    actor: Actor,
    tenantId: string,
    id: string,
    input: {
      displayName?: string;
      description?: string | null;
      externalId?: string | null;
      members?: readonly string[];
      add?: readonly string[];
      remove?: readonly string[];
    },
  ): Promise<GroupRecord & { members: string[] }> {
    authorize(actor, 'users.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const updated = await data.transaction(async (trx) => {
      const before = await trx.groups.get(id);
      if (!before) throw new DomainError('not-found', `No group has the id ${id}.`);
      const beforeMembers = await trx.groups.members(id);
      const displayName = input.displayName?.trim() ?? before.displayName;
      if (displayName.length === 0 || displayName.length > 256)
        throw new DomainError('validation-failed', 'The group name must be 1 to 256 characters.');
      if (displayName !== before.displayName && (await trx.groups.findByDisplayName(displayName))) {
        throw new DomainError('conflict', `A group named "${displayName}" already exists.`);
      }
      const after: GroupRecord = {
        ...before,
        displayName,
        description: input.description === undefined ? before.description : input.description,
        externalId: input.externalId === undefined ? before.externalId : input.externalId,
        updatedAt: this.clock.now(),
      };
      await trx.groups.update(after);
      if (input.members) await trx.groups.setMembers(id, await this.checkMembers(trx, input.members));
      if (input.add) await trx.groups.addMembers(id, await this.checkMembers(trx, input.add));
      if (input.remove) await trx.groups.removeMembers(id, input.remove);
      const afterMembers = await trx.groups.members(id);
      const modified = changedProperties(
        { displayName: before.displayName, description: before.description, externalId: before.externalId, members: beforeMembers },
        { displayName: after.displayName, description: after.description, externalId: after.externalId, members: afterMembers },
      );
      await recordAudit(trx, actor, this.clock, {
        activity: 'Update group',
        category: 'GroupManagement',
        operation: 'update',
        targets: [{ type: 'group', id, name: displayName, modifiedProperties: modified }],
      });
      const changed = [
        ...beforeMembers.filter((m) => !afterMembers.includes(m)),
        ...afterMembers.filter((m) => !beforeMembers.includes(m)),
      ];
      return { group: { ...after, members: afterMembers }, changed };
    });
    await this.membershipChanged(tenantId, await this.userNamesOf(data, updated.changed));
    return updated.group;
  }

  async deleteGroup(actor: Actor, tenantId: string, id: string): Promise<void> {
    authorize(actor, 'users.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    let formerMembers: string[] = [];
    await data.transaction(async (trx) => {
      const group = await trx.groups.get(id);
      if (!group) throw new DomainError('not-found', `No group has the id ${id}.`);
      formerMembers = await this.userNamesOf(trx, await trx.groups.members(id));
      await trx.roleAssignments.deleteForPrincipal('group', id);
      await trx.groups.delete(id);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Delete group',
        category: 'GroupManagement',
        operation: 'delete',
        targets: [{ type: 'group', id, name: group.displayName }],
      });
    });
    await this.membershipChanged(tenantId, formerMembers);
  }

  /** Refuses member ids that are not users of this tenant (another tenant's ids included). */
  private async checkMembers(trx: TenantData, ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    for (const id of unique) {
      if (!(await trx.users.get(id))) throw new DomainError('validation-failed', `No user of this tenant has the id ${id}.`);
    }
    return unique;
  }
}
