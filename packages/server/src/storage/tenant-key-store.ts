/**
 * Where tenants' data keys live: the `tenant_keys` table of the global directory (global migration
 * 0004), holding only keys wrapped by the master key — never in a region store next to the values
 * they protect. Destroying a tenant's keys therefore makes every copy of its region rows, backups
 * included, unreadable (crypto-shredding). A directory backup holds wrapped keys only; the master key
 * must never be stored in the same backup.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { KeyProvider } from '../domain/encryption/key-provider.js';
import { TenantCipher, type DataKeyVersion } from '../domain/encryption/tenant-cipher.js';
import type { GlobalDatabase } from './database.js';

/** How long a process trusts its cached key versions before re-reading them (see `custos keys rotate`). */
export const KEY_CACHE_MS = 30_000;

export class TenantKeyStore {
  private readonly cache = new Map<string, { cipher: Promise<TenantCipher>; loadedAt: number }>();

  constructor(
    private readonly directory: Kysely<GlobalDatabase>,
    private provider: KeyProvider,
  ) {}

  /** The tenant's cipher with every live key version; creates the first data key on first use. */
  cipher(tenantId: string, options: { refresh?: boolean } = {}): Promise<TenantCipher> {
    const cached = this.cache.get(tenantId);
    if (cached && !options.refresh && Date.now() - cached.loadedAt < KEY_CACHE_MS) return cached.cipher;
    const entry = { cipher: this.load(tenantId), loadedAt: Date.now() };
    this.cache.set(tenantId, entry);
    // A failed load is not cached (unless a newer load replaced it meanwhile).
    entry.cipher.catch(() => {
      if (this.cache.get(tenantId) === entry) this.cache.delete(tenantId);
    });
    return entry.cipher;
  }

  private async load(tenantId: string): Promise<TenantCipher> {
    let rows = await this.rows(tenantId);
    if (rows.length === 0) {
      await this.insertVersion(tenantId, 1);
      rows = await this.rows(tenantId);
    }
    const versions: DataKeyVersion[] = [];
    for (const row of rows) versions.push({ version: row.version, key: await this.provider.unwrap(row.wrapped_key) });
    return new TenantCipher(tenantId, versions);
  }

  private rows(tenantId: string) {
    return this.directory.selectFrom('tenant_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('version').execute();
  }

  private async insertVersion(tenantId: string, version: number): Promise<void> {
    // Two processes making the first key at once: the primary key keeps one, both then read it.
    await this.directory
      .insertInto('tenant_keys')
      .values({
        tenant_id: tenantId,
        version,
        wrapped_key: await this.provider.wrap(randomBytes(32)),
        key_id: this.provider.keyId,
        created_at: Date.now(),
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'version']).doNothing())
      .execute();
  }

  /** Adds a data key version that new values are written with from now on; returns it. */
  async addVersion(tenantId: string): Promise<TenantCipher> {
    const current = await this.cipher(tenantId, { refresh: true });
    await this.insertVersion(tenantId, current.currentVersion + 1);
    return this.cipher(tenantId, { refresh: true });
  }

  /** Drops every key version older than `version` (after their values were re-encrypted). */
  async retireVersionsBefore(tenantId: string, version: number): Promise<number> {
    const r = await this.directory
      .deleteFrom('tenant_keys')
      .where('tenant_id', '=', tenantId)
      .where('version', '<', version)
      .executeTakeFirst();
    this.cache.delete(tenantId);
    return Number(r.numDeletedRows);
  }

  /**
   * Destroys every data key of the tenant (crypto-shredding), called by the purge. Its values in
   * the region store and in every backup of it can no longer be decrypted.
   */
  async destroy(tenantId: string): Promise<void> {
    await this.directory.deleteFrom('tenant_keys').where('tenant_id', '=', tenantId).execute();
    this.cache.delete(tenantId);
  }

  async hasKeys(tenantId: string): Promise<boolean> {
    return (await this.rows(tenantId)).length > 0;
  }

  /** Re-wraps every tenant key under `next` (a new master key); the data keys themselves are unchanged. */
  async rewrap(next: KeyProvider): Promise<{ rewrapped: number }> {
    const rows = await this.directory.selectFrom('tenant_keys').selectAll().orderBy('tenant_id').orderBy('version').execute();
    const rewrapped = await this.directory.transaction().execute(async (trx) => {
      let n = 0;
      for (const row of rows) {
        const key = await this.provider.unwrap(row.wrapped_key);
        await trx
          .updateTable('tenant_keys')
          .set({ wrapped_key: await next.wrap(key), key_id: next.keyId })
          .where('tenant_id', '=', row.tenant_id)
          .where('version', '=', row.version)
          .execute();
        n++;
      }
      return n;
    });
    this.provider = next;
    this.cache.clear();
    return { rewrapped };
  }
}
