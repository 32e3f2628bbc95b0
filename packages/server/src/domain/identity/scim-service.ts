/**
 * SCIM 2.0 provisioning (RFC 7643, RFC 7644) of a tenant's users and groups by its identity provider.
 * Every change goes through `UserService` with the SCIM actor, so it is authorized and audited like
 * an admin's; deactivating a user (`active: false` by PUT or PATCH) or deleting one ends their
 * sessions and API tokens in the same transaction. PATCH is applied with `scim-patch` to the
 * resource as SCIM shows it, and the result is stored like a PUT.
 *
 * Attribute names are case-insensitive (RFC 7643 §2.1); Custos keeps userName, displayName (or
 * name.formatted, or given + family name), the primary email, one work or mobile phone number
 * (the primary one, else the first; after a PATCH, the one that changed), externalId and active of a User, and
 * displayName, externalId and members of a Group. Passwords sent over SCIM are ignored: provisioned
 * users sign in through the IdP.
 */
import { patchBodyValidation, scimPatch, ScimError as ScimPatchError, type ScimPatchOperation, type ScimResource } from 'scim-patch';
import { authorize, type Actor } from '../access/authorize.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { GroupRecord, UserRecord } from './identity-stores.js';
import { ScimError } from './scim-errors.js';
import { parseScimFilter } from './scim-filter.js';
import { SCIM_MAX_RESULTS, toScimGroup, toScimUser } from './scim-resources.js';
import type { UserService } from './user-service.js';

export interface ScimListQuery {
  filter?: string;
  startIndex?: number;
  count?: number;
}

export interface ScimList<T> {
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
}

type Body = Record<string, unknown>;

/** The body's members under lower-cased names. */
function lowerKeys(value: unknown, what: string): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ScimError(400, `The ${what} must be a JSON object.`, 'invalidSyntax');
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
}

function optionalString(body: Body, name: string): string | null | undefined {
  const value = body[name.toLowerCase()];
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'string') throw new ScimError(400, `"${name}" must be a string.`, 'invalidValue');
  return value.trim() === '' ? null : value;
}

/** SCIM booleans; Entra ID sends `"True"`/`"False"` strings in PATCH values. */
function optionalBoolean(body: Body, name: string): boolean | undefined {
  const value = body[name.toLowerCase()];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new ScimError(400, `"${name}" must be true or false.`, 'invalidValue');
}

interface UserFields {
  userName: string;
  displayName: string | null;
  email: string | null;
  phone: string | null;
  externalId: string | null;
  active: boolean | undefined;
}

const PHONE_TYPES = new Set(['work', 'mobile']);

/**
 * The phone number Custos keeps from `phoneNumbers`: of the work and mobile (or untyped) entries,
 * one not equal to `previous` when there is one (a PATCH that adds or replaces a number of another
 * type must win over the number Custos showed), else the last primary one, else the first.
 */
function readPhone(body: Body, previous: string | null): string | null {
  const numbers = body['phonenumbers'];
  if (numbers === undefined || numbers === null) return null;
  if (!Array.isArray(numbers)) throw new ScimError(400, '"phoneNumbers" must be an array.', 'invalidValue');
  const entries = numbers
    .map((e) => lowerKeys(e, 'phone number'))
    .filter((e) => {
      const type = optionalString(e, 'type');
      return type === undefined || type === null || PHONE_TYPES.has(type.toLowerCase());
    })
    .flatMap((e) => {
      const value = optionalString(e, 'value');
      return value ? [{ value, primary: optionalBoolean(e, 'primary') === true }] : [];
    });
  const changed = previous === null ? undefined : entries.findLast((e) => e.value !== previous);
  return (changed ?? entries.findLast((e) => e.primary) ?? entries[0])?.value ?? null;
}

function readUser(value: unknown, previousPhone: string | null = null): UserFields {
  const body = lowerKeys(value, 'User');
  const userName = optionalString(body, 'userName');
  if (!userName) throw new ScimError(400, '"userName" is required.', 'invalidValue');
  let displayName = optionalString(body, 'displayName') ?? null;
  if (displayName === null && body['name'] !== undefined && body['name'] !== null) {
    const name = lowerKeys(body['name'], 'name');
    displayName =
      optionalString(name, 'formatted') ??
      ([optionalString(name, 'givenName'), optionalString(name, 'familyName')]
        .filter((p): p is string => typeof p === 'string')
        .join(' ') ||
        null);
  }
  let email: string | null = null;
  const emails = body['emails'];
  if (emails !== undefined && emails !== null) {
    if (!Array.isArray(emails)) throw new ScimError(400, '"emails" must be an array.', 'invalidValue');
    const entries = emails.map((e) => lowerKeys(e, 'email'));
    // A PATCH that adds a primary address leaves the old one marked primary too: the last one wins.
    const chosen = entries.findLast((e) => optionalBoolean(e, 'primary') === true) ?? entries[0];
    email = chosen ? (optionalString(chosen, 'value') ?? null) : null;
  }
  return {
    userName,
    displayName,
    email,
    phone: readPhone(body, previousPhone),
    externalId: optionalString(body, 'externalId') ?? null,
    active: optionalBoolean(body, 'active'),
  };
}

interface GroupFields {
  displayName: string;
  externalId: string | null;
  members: string[] | undefined;
}

function readGroup(value: unknown): GroupFields {
  const body = lowerKeys(value, 'Group');
  const displayName = optionalString(body, 'displayName');
  if (!displayName) throw new ScimError(400, '"displayName" is required.', 'invalidValue');
  const members = body['members'];
  let ids: string[] | undefined;
  if (members !== undefined && members !== null) {
    if (!Array.isArray(members)) throw new ScimError(400, '"members" must be an array.', 'invalidValue');
    ids = members.map((m) => {
      const id = optionalString(lowerKeys(m, 'member'), 'value');
      if (!id) throw new ScimError(400, 'Every member needs a "value" (the user id).', 'invalidValue');
      return id;
    });
  }
  return { displayName, externalId: optionalString(body, 'externalId') ?? null, members: ids };
}

/** Applies PATCH operations (RFC 7644 §3.5.2) to a resource document with `scim-patch`. */
function patched<T extends object>(resource: T, body: unknown): Body {
  const request = lowerKeys(body, 'PATCH request');
  const operations = request['operations'];
  try {
    patchBodyValidation({ schemas: request['schemas'], Operations: operations } as Parameters<typeof patchBodyValidation>[0]);
    // scim-patch works on a copy; its ScimResource type wants Date values in meta, which it never reads here.
    return scimPatch(resource as unknown as ScimResource, operations as ScimPatchOperation[], {
      mutateDocument: false,
      treatMissingAsAdd: true,
    }) as unknown as Body;
  } catch (error) {
    if (error instanceof ScimPatchError) {
      const type =
        error.scimCode === 'noTarget' || error.scimCode === 'invalidPath' || error.scimCode === 'invalidValue'
          ? error.scimCode
          : 'invalidSyntax';
      throw new ScimError(400, error.message, type);
    }
    throw error;
  }
}

function page(query: ScimListQuery): { startIndex: number; count: number } {
  const startIndex = Math.max(1, Math.trunc(query.startIndex ?? 1));
  const count = Math.min(Math.max(0, Math.trunc(query.count ?? 100)), SCIM_MAX_RESULTS);
  return { startIndex, count };
}

export class ScimService {
  /** The SCIM base URL (`<public URL>/scim/v2`) that resource locations start with. */
  readonly base: string;

  constructor(
    private readonly tenants: TenantService,
    private readonly users: UserService,
    publicUrl: string,
  ) {
    this.base = `${publicUrl}/scim/v2`;
  }

  // ---- Users ----

  async listUsers(actor: Actor, tenantId: string, query: ScimListQuery): Promise<ScimList<ReturnType<typeof toScimUser>>> {
    authorize(actor, 'users.read', { tenantId });
    const parsed = parseScimFilter(query.filter, ['userName', 'emails', 'emails.value', 'externalId', 'id'] as const);
    const filter = parsed && {
      attribute: parsed.attribute === 'emails.value' ? ('emails' as const) : parsed.attribute,
      value: parsed.value,
    };
    const { startIndex, count } = page(query);
    const data = await this.tenants.data(tenantId);
    const totalResults = await data.scimDirectory.countUsers(filter);
    const users =
      count === 0 ? [] : await data.scimDirectory.listUsers({ offset: startIndex - 1, limit: count, ...(filter ? { filter } : {}) });
    return { totalResults, startIndex, itemsPerPage: users.length, Resources: users.map((u) => toScimUser(u, this.base)) };
  }

  async getUser(actor: Actor, tenantId: string, id: string) {
    return toScimUser(await this.users.getUser(actor, tenantId, id), this.base);
  }

  async createUser(actor: Actor, tenantId: string, body: unknown) {
    const fields = readUser(body);
    const user = await this.users.createUser(actor, tenantId, {
      userName: fields.userName,
      displayName: fields.displayName,
      email: fields.email,
      phone: fields.phone,
      externalId: fields.externalId,
      source: 'scim',
      active: fields.active ?? true,
    });
    return toScimUser(user, this.base);
  }

  /** PUT: every attribute Custos keeps is replaced; an absent `active` keeps the current state. */
  async replaceUser(actor: Actor, tenantId: string, id: string, body: unknown) {
    const fields = readUser(body);
    return toScimUser(await this.storeUser(actor, tenantId, id, fields), this.base);
  }

  async patchUser(actor: Actor, tenantId: string, id: string, body: unknown) {
    const current = await this.users.getUser(actor, tenantId, id);
    const fields = readUser(patched(toScimUser(current, this.base), body), current.phone);
    return toScimUser(await this.storeUser(actor, tenantId, id, fields), this.base);
  }

  async deleteUser(actor: Actor, tenantId: string, id: string): Promise<void> {
    await this.users.deleteUser(actor, tenantId, id);
  }

  private storeUser(actor: Actor, tenantId: string, id: string, fields: UserFields): Promise<UserRecord> {
    return this.users.updateUser(actor, tenantId, id, {
      userName: fields.userName,
      displayName: fields.displayName,
      email: fields.email,
      phone: fields.phone,
      externalId: fields.externalId,
      ...(fields.active === undefined ? {} : { active: fields.active }),
    });
  }

  // ---- Groups ----

  async listGroups(
    actor: Actor,
    tenantId: string,
    query: ScimListQuery & { excludeMembers?: boolean },
  ): Promise<ScimList<ReturnType<typeof toScimGroup>>> {
    authorize(actor, 'users.read', { tenantId });
    const filter = parseScimFilter(query.filter, ['displayName', 'externalId', 'id'] as const);
    const { startIndex, count } = page(query);
    const data = await this.tenants.data(tenantId);
    const totalResults = await data.scimDirectory.countGroups(filter);
    const groups =
      count === 0 ? [] : await data.scimDirectory.listGroups({ offset: startIndex - 1, limit: count, ...(filter ? { filter } : {}) });
    const resources = [];
    for (const group of groups) {
      resources.push(
        toScimGroup(
          group,
          query.excludeMembers ? undefined : await this.membersOf(tenantId, await data.groups.members(group.id)),
          this.base,
        ),
      );
    }
    return { totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
  }

  async getGroup(actor: Actor, tenantId: string, id: string, excludeMembers = false) {
    const group = await this.users.getGroup(actor, tenantId, id);
    return toScimGroup(group, excludeMembers ? undefined : await this.membersOf(tenantId, group.members), this.base);
  }

  async createGroup(actor: Actor, tenantId: string, body: unknown) {
    const fields = readGroup(body);
    const group = await this.users.createGroup(actor, tenantId, {
      displayName: fields.displayName,
      externalId: fields.externalId,
      members: fields.members ?? [],
      source: 'scim',
    });
    return this.groupResource(tenantId, group, fields.members ?? []);
  }

  async replaceGroup(actor: Actor, tenantId: string, id: string, body: unknown) {
    const fields = readGroup(body);
    const group = await this.users.updateGroup(actor, tenantId, id, {
      displayName: fields.displayName,
      externalId: fields.externalId,
      members: fields.members ?? [],
    });
    return this.groupResource(tenantId, group, group.members);
  }

  /** Member adds and removes (`members[value eq "…"]`) as Entra ID and Okta send them. */
  async patchGroup(actor: Actor, tenantId: string, id: string, body: unknown) {
    const current = await this.users.getGroup(actor, tenantId, id);
    const fields = readGroup(
      patched(
        toScimGroup(
          current,
          current.members.map((m) => ({ id: m, userName: undefined })),
          this.base,
        ),
        body,
      ),
    );
    const group = await this.users.updateGroup(actor, tenantId, id, {
      displayName: fields.displayName,
      externalId: fields.externalId,
      members: fields.members ?? [],
    });
    return this.groupResource(tenantId, group, group.members);
  }

  async deleteGroup(actor: Actor, tenantId: string, id: string): Promise<void> {
    await this.users.deleteGroup(actor, tenantId, id);
  }

  private async groupResource(tenantId: string, group: GroupRecord, members: readonly string[]) {
    return toScimGroup(group, await this.membersOf(tenantId, members), this.base);
  }

  private async membersOf(tenantId: string, ids: readonly string[]): Promise<{ id: string; userName: string | undefined }[]> {
    const names = await (await this.tenants.data(tenantId)).scimDirectory.userNames(ids);
    return ids.map((id) => ({ id, userName: names.get(id) }));
  }
}
