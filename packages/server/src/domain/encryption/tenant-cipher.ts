/**
 * Encryption of a tenant's sensitive values (privacy catalog `sensitivity: 'sensitive'`) with the
 * tenant's data key: AES-256-GCM, a fresh 96-bit nonce per value, and the tenant id and column name
 * as associated data, so a value copied to another tenant's row or another column fails to decrypt.
 *
 * Stored form: `v1:<keyVersion>:<nonce>:<ciphertext+tag>` (base64url). A value without the `v1:`
 * prefix is plaintext written before encryption existed; it is read as is and re-encrypted by the
 * one-time step after migration 0012 and by `custos keys rotate`.
 *
 * Equality lookups use a keyed hash (HMAC-SHA-256 under a search key derived from the data key with
 * HKDF), so the store never holds the clear value and cannot be searched without the key.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'v1:';

/** A value this process cannot decrypt: its key version is gone (rotated out, destroyed) or it was tampered with. */
export class UndecryptableValueError extends Error {
  constructor(tenantId: string, column: string, reason: string) {
    super(`A ${column} value of tenant ${tenantId} cannot be decrypted (${reason}).`);
    this.name = 'UndecryptableValueError';
  }
}

export interface DataKeyVersion {
  version: number;
  key: Buffer;
}

export function isEncryptedValue(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

/** The key version an encrypted value was written with (undefined for legacy plaintext). */
export function keyVersionOf(stored: string): number | undefined {
  if (!isEncryptedValue(stored)) return undefined;
  const version = Number(stored.slice(PREFIX.length, stored.indexOf(':', PREFIX.length)));
  return Number.isInteger(version) ? version : undefined;
}

export class TenantCipher {
  private readonly keys: ReadonlyMap<number, Buffer>;
  private readonly searchKeys: ReadonlyMap<number, Buffer>;
  /** The version new values are written with: the newest. */
  readonly currentVersion: number;

  constructor(
    readonly tenantId: string,
    versions: readonly DataKeyVersion[],
  ) {
    if (versions.length === 0) throw new Error(`Tenant ${tenantId} has no data key.`);
    this.keys = new Map(versions.map((v) => [v.version, v.key]));
    this.searchKeys = new Map(
      versions.map((v) => [v.version, Buffer.from(hkdfSync('sha256', v.key, Buffer.alloc(0), 'custos search key v1', 32))]),
    );
    this.currentVersion = Math.max(...versions.map((v) => v.version));
  }

  get versions(): number[] {
    return [...this.keys.keys()];
  }

  knows(version: number): boolean {
    return this.keys.has(version);
  }

  private aad(column: string): Buffer {
    return Buffer.from(`${this.tenantId}\u0000${column}`, 'utf8');
  }

  encrypt(column: string, plaintext: string): string {
    const key = this.keys.get(this.currentVersion) as Buffer;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(this.aad(column));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${this.currentVersion}:${nonce.toString('base64url')}:${sealed.toString('base64url')}`;
  }

  encryptNullable(column: string, plaintext: string | null): string | null {
    return plaintext === null ? null : this.encrypt(column, plaintext);
  }

  decrypt(column: string, stored: string): string {
    if (!isEncryptedValue(stored)) return stored;
    const [, version, nonce, sealed] = stored.split(':');
    const key = this.keys.get(Number(version));
    if (!key) throw new UndecryptableValueError(this.tenantId, column, `key version ${version} is not available`);
    const bytes = Buffer.from(sealed ?? '', 'base64url');
    if (bytes.length < 16) throw new UndecryptableValueError(this.tenantId, column, 'malformed value');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce ?? '', 'base64url'));
    decipher.setAAD(this.aad(column));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new UndecryptableValueError(this.tenantId, column, 'authentication failed: wrong tenant, column or key');
    }
  }

  decryptNullable(column: string, stored: string | null): string | null {
    return stored === null ? null : this.decrypt(column, stored);
  }

  /** The keyed hash stored for equality lookups, under the current key version. */
  searchHash(column: string, value: string | null): string | null {
    return value === null ? null : this.hashWith(this.currentVersion, column, value);
  }

  /** The hashes `value` may be stored under while a rotation is in progress (one per key version). */
  searchHashes(column: string, value: string): string[] {
    return this.versions.map((v) => this.hashWith(v, column, value));
  }

  /** True when `stored` must be rewritten to be under the current key version. */
  isStale(stored: string | null): boolean {
    return stored !== null && keyVersionOf(stored) !== this.currentVersion;
  }

  private hashWith(version: number, column: string, value: string): string {
    return createHmac('sha256', this.searchKeys.get(version) as Buffer)
      .update(`${column}\u0000${value}`, 'utf8')
      .digest('base64url');
  }
}

/** A tenant's cipher; `refresh` re-reads the key versions (a value written under a version this process has not seen yet). */
export type CipherSource = (options?: { refresh?: boolean }) => Promise<TenantCipher>;
