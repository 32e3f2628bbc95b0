/**
 * The master key that wraps every tenant's data key (SPEC §9 "Encryption at rest"). A small
 * interface so a KMS (AWS KMS, Vault transit, …) can replace the local key: it only ever sees data
 * keys to wrap or unwrap, never a tenant's values.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KeyProvider {
  /** Names the master key a wrapped key was made with (stored next to it; `keys rewrap` changes it). */
  readonly keyId: string;
  wrap(dataKey: Buffer): Promise<string>;
  unwrap(wrapped: string): Promise<Buffer>;
}

/** Wraps with AES-256-GCM under a 32-byte master key held in this process. */
export class LocalMasterKey implements KeyProvider {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('The master key must be 32 bytes (base64 of 32 random bytes).');
    this.keyId = `local:${createHash('sha256').update(key).digest('base64url').slice(0, 16)}`;
  }

  wrap(dataKey: Buffer): Promise<string> {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const sealed = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    return Promise.resolve(`${nonce.toString('base64url')}.${sealed.toString('base64url')}`);
  }

  unwrap(wrapped: string): Promise<Buffer> {
    const [nonce, sealed] = wrapped.split('.');
    if (!nonce || !sealed) return Promise.reject(new Error('A wrapped tenant key is malformed.'));
    const bytes = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    try {
      return Promise.resolve(Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]));
    } catch {
      return Promise.reject(new Error('A tenant key cannot be unwrapped: the master key is not the one it was wrapped with.'));
    }
  }
}

export function parseMasterKey(text: string, origin: string): LocalMasterKey {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${origin} must hold the base64 encoding of 32 random bytes (openssl rand -base64 32).`);
  return new LocalMasterKey(key);
}

export function readMasterKeyFile(file: string): LocalMasterKey {
  return parseMasterKey(readFileSync(file, 'utf8'), `The master key file ${file}`);
}

/** In-process development key for stores without a data directory (PostgreSQL tests), made once. */
let ephemeralKey: LocalMasterKey | undefined;
let warned = false;

function warn(message: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(message, { code: 'CUSTOS_DEV_MASTER_KEY' });
}

/**
 * The master key of this deployment: `CUSTOS_MASTER_KEY_FILE`, else `CUSTOS_MASTER_KEY`. Without
 * either, development generates `master.key` (mode 0600) in the data directory and warns; with
 * `NODE_ENV=production` it refuses to start instead.
 */
export function masterKeyFromEnvironment(env: NodeJS.ProcessEnv, dataDir: string | undefined): KeyProvider {
  const file = env['CUSTOS_MASTER_KEY_FILE'];
  if (file) return readMasterKeyFile(file);
  const inline = env['CUSTOS_MASTER_KEY'];
  if (inline) return parseMasterKey(inline, 'CUSTOS_MASTER_KEY');
  if (env['NODE_ENV'] === 'production')
    throw new Error('No master key: set CUSTOS_MASTER_KEY_FILE (or CUSTOS_MASTER_KEY) in production; see README "Key management".');
  if (!dataDir) {
    warn('No master key configured (CUSTOS_MASTER_KEY_FILE); using a key that lives only in this process. Development only.');
    return (ephemeralKey ??= new LocalMasterKey(randomBytes(32)));
  }
  const path = join(dataDir, 'master.key');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    } catch (error) {
      // Another process created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  warn(
    `No master key configured: using ${path}, generated for development. In production set CUSTOS_MASTER_KEY_FILE and keep that file out of database backups.`,
  );
  return readMasterKeyFile(path);
}
