import type { Kysely } from 'kysely';
import type { Ownership, Platform } from '@custos/shared';
import type { EnrollmentTokenRecord, EnrollmentTokenStore } from '../../domain/enrollment/enrollment-token.js';
import type { ApiTokenRecord, ApiTokenStore } from '../../domain/tokens/api-token.js';
import type { CipherSource } from '../../domain/encryption/tenant-cipher.js';
import type { ApiTokenTable, EnrollmentTokenTable, RegionDatabase } from '../database.js';
import { openRows, reencryptBatch, type ReencryptedBatch } from './sealed-columns.js';
import { ENROLLMENT_TOKEN_COLUMNS } from './sensitive-identity-columns.js';

/** Revokes an unrevoked token of either kind; false when there was none to revoke. */
async function revokeToken(
  db: Kysely<RegionDatabase>,
  table: 'api_tokens' | 'enrollment_tokens',
  tenantId: string,
  id: string,
  at: number,
): Promise<boolean> {
  const r = await db
    .updateTable(table)
    .set({ revoked_at: at })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

function toApiToken(r: ApiTokenTable): ApiTokenRecord {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    secretHash: r.secret_hash,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
    scopeTags: r.scope_tags === null ? null : (JSON.parse(r.scope_tags) as string[]),
    createdBy: r.created_by,
  };
}

export class ApiTokenRepository implements ApiTokenStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(t: ApiTokenRecord): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({
        tenant_id: this.tenantId,
        id: t.id,
        name: t.name,
        role: t.role,
        secret_hash: t.secretHash,
        created_at: t.createdAt,
        expires_at: t.expiresAt,
        revoked_at: t.revokedAt,
        last_used_at: t.lastUsedAt,
        scope_tags: t.scopeTags === null ? null : JSON.stringify(t.scopeTags),
        created_by: t.createdBy,
      })
      .execute();
  }

  async findBySecretHash(secretHash: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('secret_hash', '=', secretHash)
      .executeTakeFirst();
    return row && toApiToken(row);
  }

  async list(): Promise<ApiTokenRecord[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().where('tenant_id', '=', this.tenantId).orderBy('created_at').execute();
    return rows.map(toApiToken);
  }

  revoke(id: string, at: number): Promise<boolean> {
    return revokeToken(this.db, 'api_tokens', this.tenantId, id, at);
  }

  async get(id: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toApiToken(row);
  }

  async touch(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('tenant_id', '=', this.tenantId).where('id', '=', id).execute();
  }

  async revokeCreatedBy(createdBy: string, at: number): Promise<number> {
    const r = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('created_by', '=', createdBy)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}

function toEnrollmentToken(r: EnrollmentTokenTable): EnrollmentTokenRecord {
  return {
    id: r.id,
    secretHash: r.secret_hash,
    ownership: r.ownership as Ownership,
    description: r.description,
    platforms: r.platforms === null ? null : (JSON.parse(r.platforms) as Platform[]),
    maxUses: r.max_uses,
    uses: r.uses,
    deviceLimitPerUser: r.device_limit_per_user,
    userEmail: r.user_email,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    scopeTags: r.scope_tags === null ? [] : (JSON.parse(r.scope_tags) as string[]),
  };
}

/** The user email a token is bound to is stored encrypted (sensitive-identity-columns.ts). */
export class EnrollmentTokenRepository implements EnrollmentTokenStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {}

  private async open(rows: EnrollmentTokenTable[]): Promise<EnrollmentTokenRecord[]> {
    return (await openRows(this.cipher, ENROLLMENT_TOKEN_COLUMNS, rows)).map(toEnrollmentToken);
  }

  async insert(t: EnrollmentTokenRecord): Promise<void> {
    const cipher = await this.cipher();
    await this.db
      .insertInto('enrollment_tokens')
      .values({
        tenant_id: this.tenantId,
        id: t.id,
        secret_hash: t.secretHash,
        ownership: t.ownership,
        description: t.description,
        platforms: t.platforms === null ? null : JSON.stringify(t.platforms),
        max_uses: t.maxUses,
        uses: t.uses,
        device_limit_per_user: t.deviceLimitPerUser,
        user_email: cipher.encryptNullable(ENROLLMENT_TOKEN_COLUMNS.context('user_email'), t.userEmail),
        expires_at: t.expiresAt,
        created_at: t.createdAt,
        revoked_at: t.revokedAt,
        scope_tags: t.scopeTags?.length ? JSON.stringify(t.scopeTags) : null,
      })
      .execute();
  }

  async findBySecretHash(secretHash: string): Promise<EnrollmentTokenRecord | undefined> {
    const rows = await this.db
      .selectFrom('enrollment_tokens')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('secret_hash', '=', secretHash)
      .execute();
    return (await this.open(rows))[0];
  }

  async list(): Promise<EnrollmentTokenRecord[]> {
    const rows = await this.db
      .selectFrom('enrollment_tokens')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .orderBy('created_at')
      .execute();
    return this.open(rows);
  }

  async reencryptBatch(afterId: string | null, limit: number): Promise<ReencryptedBatch> {
    return reencryptBatch(this.db, ENROLLMENT_TOKEN_COLUMNS, this.tenantId, await this.cipher({ refresh: true }), afterId, limit);
  }

  revoke(id: string, at: number): Promise<boolean> {
    return revokeToken(this.db, 'enrollment_tokens', this.tenantId, id, at);
  }

  async consumeUse(id: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('enrollment_tokens')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }
}
