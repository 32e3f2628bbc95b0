/** OIDC federation and SCIM provisioning (migration 0008), bound to one tenant. */
import type { Kysely } from 'kysely';
import type {
  FederatedIdentityRecord,
  FederatedIdentityStore,
  IdentityProviderOptions,
  IdentityProviderRecord,
  IdentityProviderStore,
  OidcLoginStateRecord,
  OidcLoginStateStore,
} from '../../domain/identity/oidc-stores.js';
import type { GroupRecord, UserRecord } from '../../domain/identity/identity-stores.js';
import type {
  ScimDirectoryStore,
  ScimGroupFilter,
  ScimTokenRecord,
  ScimTokenStore,
  ScimUserFilter,
} from '../../domain/identity/scim-stores.js';
import type { CipherSource } from '../../domain/encryption/tenant-cipher.js';
import type { RegionDatabase } from '../database.js';
import { openUsers, toGroup } from './identity-repositories.js';
import { lookupHashes, openRows } from './sealed-columns.js';
import { USER_COLUMNS } from './sensitive-identity-columns.js';

export class IdentityProviderRepository implements IdentityProviderStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async get(): Promise<IdentityProviderRecord | undefined> {
    const row = await this.db.selectFrom('identity_providers').selectAll().where('tenant_id', '=', this.tenantId).executeTakeFirst();
    if (!row) return undefined;
    return {
      issuer: row.issuer,
      clientId: row.client_id,
      clientSecretEncrypted: row.client_secret_enc,
      options: JSON.parse(row.options) as IdentityProviderOptions,
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
    };
  }

  async put(r: IdentityProviderRecord): Promise<void> {
    const values = {
      issuer: r.issuer,
      client_id: r.clientId,
      client_secret_enc: r.clientSecretEncrypted,
      options: JSON.stringify(r.options),
      updated_at: r.updatedAt,
    };
    await this.db
      .insertInto('identity_providers')
      .values({ tenant_id: this.tenantId, created_at: r.createdAt, ...values })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values))
      .execute();
  }

  async delete(): Promise<boolean> {
    const r = await this.db.deleteFrom('identity_providers').where('tenant_id', '=', this.tenantId).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }
}

export class OidcLoginStateRepository implements OidcLoginStateStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(r: OidcLoginStateRecord): Promise<void> {
    await this.db
      .insertInto('oidc_login_states')
      .values({
        tenant_id: this.tenantId,
        state_hash: r.stateHash,
        binding_hash: r.bindingHash,
        nonce: r.nonce,
        code_verifier: r.codeVerifier,
        redirect_uri: r.redirectUri,
        return_to: r.returnTo,
        created_at: r.createdAt,
        expires_at: r.expiresAt,
      })
      .execute();
  }

  async take(stateHash: string): Promise<OidcLoginStateRecord | undefined> {
    const row = await this.db
      .deleteFrom('oidc_login_states')
      .where('tenant_id', '=', this.tenantId)
      .where('state_hash', '=', stateHash)
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      stateHash: row.state_hash,
      bindingHash: row.binding_hash,
      nonce: row.nonce,
      codeVerifier: row.code_verifier,
      redirectUri: row.redirect_uri,
      returnTo: row.return_to,
      createdAt: Number(row.created_at),
      expiresAt: Number(row.expires_at),
    };
  }

  async deleteExpired(now: number): Promise<number> {
    const r = await this.db
      .deleteFrom('oidc_login_states')
      .where('tenant_id', '=', this.tenantId)
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

export class FederatedIdentityRepository implements FederatedIdentityStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async find(issuer: string, subject: string): Promise<FederatedIdentityRecord | undefined> {
    const row = await this.db
      .selectFrom('federated_identities')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .executeTakeFirst();
    return (
      row && {
        issuer: row.issuer,
        subject: row.subject,
        userId: row.user_id,
        createdAt: Number(row.created_at),
        lastSignInAt: Number(row.last_sign_in_at),
      }
    );
  }

  async insert(r: FederatedIdentityRecord): Promise<void> {
    await this.db
      .insertInto('federated_identities')
      .values({
        tenant_id: this.tenantId,
        issuer: r.issuer,
        subject: r.subject,
        user_id: r.userId,
        created_at: r.createdAt,
        last_sign_in_at: r.lastSignInAt,
      })
      .execute();
  }

  async touch(issuer: string, subject: string, at: number): Promise<void> {
    await this.db
      .updateTable('federated_identities')
      .set({ last_sign_in_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .execute();
  }
}

export class ScimTokenRepository implements ScimTokenStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(r: ScimTokenRecord): Promise<void> {
    await this.db
      .insertInto('scim_tokens')
      .values({
        tenant_id: this.tenantId,
        id: r.id,
        secret_hash: r.secretHash,
        created_by: r.createdBy,
        created_at: r.createdAt,
        revoked_at: r.revokedAt,
      })
      .execute();
  }

  async findBySecretHash(secretHash: string): Promise<ScimTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('scim_tokens')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('secret_hash', '=', secretHash)
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        secretHash: row.secret_hash,
        createdBy: row.created_by,
        createdAt: Number(row.created_at),
        revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
      }
    );
  }

  async listOpen(): Promise<ScimTokenRecord[]> {
    const rows = await this.db
      .selectFrom('scim_tokens')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      secretHash: row.secret_hash,
      createdBy: row.created_by,
      createdAt: Number(row.created_at),
      revokedAt: null,
    }));
  }

  async revokeAll(at: number): Promise<number> {
    const r = await this.db
      .updateTable('scim_tokens')
      .set({ revoked_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}

export class ScimDirectoryRepository implements ScimDirectoryStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {}

  /** User names and emails are encrypted: they are matched through their keyed hashes (case-insensitively). */
  private async users(filter: ScimUserFilter | undefined) {
    let q = this.db.selectFrom('users').where('tenant_id', '=', this.tenantId);
    if (filter?.attribute === 'userName')
      q = q.where('user_name_hash', 'in', lookupHashes(await this.cipher(), USER_COLUMNS, 'user_name', filter.value));
    if (filter?.attribute === 'emails')
      q = q.where('email_hash', 'in', lookupHashes(await this.cipher(), USER_COLUMNS, 'email', filter.value));
    if (filter?.attribute === 'externalId') q = q.where('external_id', '=', filter.value);
    if (filter?.attribute === 'id') q = q.where('id', '=', filter.value);
    return q;
  }

  private groups(filter: ScimGroupFilter | undefined) {
    let q = this.db.selectFrom('groups').where('tenant_id', '=', this.tenantId);
    if (filter?.attribute === 'displayName') q = q.where('display_name', '=', filter.value);
    if (filter?.attribute === 'externalId') q = q.where('external_id', '=', filter.value);
    if (filter?.attribute === 'id') q = q.where('id', '=', filter.value);
    return q;
  }

  async listUsers(options: { offset: number; limit: number; filter?: ScimUserFilter }): Promise<UserRecord[]> {
    const rows = await (
      await this.users(options.filter)
    )
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .limit(options.limit)
      .offset(options.offset)
      .execute();
    return openUsers(this.cipher, rows);
  }

  async countUsers(filter?: ScimUserFilter): Promise<number> {
    const row = await (await this.users(filter)).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async listGroups(options: { offset: number; limit: number; filter?: ScimGroupFilter }): Promise<GroupRecord[]> {
    const rows = await this.groups(options.filter)
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .limit(options.limit)
      .offset(options.offset)
      .execute();
    return rows.map(toGroup);
  }

  async countGroups(filter?: ScimGroupFilter): Promise<number> {
    const row = await this.groups(filter)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async userNames(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'user_name'])
      .where('tenant_id', '=', this.tenantId)
      .where('id', 'in', [...ids])
      .execute();
    const open = await openRows(this.cipher, USER_COLUMNS, rows);
    return new Map(open.map((r) => [r.id, r.user_name]));
  }
}
