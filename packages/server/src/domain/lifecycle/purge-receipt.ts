/**
 * The purge receipt: what was deleted, where and when, signed with the deployment's Ed25519 key so
 * the customer (or anyone) can check it with nothing but the receipt itself. The signature covers the
 * canonical JSON (sorted keys) of every field but `signature`; `publicKey` (SPKI, base64) travels in
 * the receipt, and operators publish its fingerprint so a receipt signed by another key is spotted.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../audit/audit-chain.js';

export interface PurgeReceiptBody {
  kind: 'custos-purge-receipt';
  version: 1;
  tenantId: string;
  region: string;
  /** ISO 8601. */
  purgedAt: string;
  reason: string;
  /** Rows deleted per table of the region store (every table with a `tenant_id` column). */
  deletedRows: Record<string, number>;
  /** The tenant's data key was destroyed (crypto-shredding: backups of the store are unreadable). */
  keyDestroyed: boolean;
  /** SPKI DER, base64, of the signing key. */
  publicKey: string;
}

export interface PurgeReceipt extends PurgeReceiptBody {
  /** Ed25519 over `canonicalJson(body)`, base64. */
  signature: string;
}

/** PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export class PurgeReceiptSigner {
  private readonly privateKey: KeyObject;
  readonly publicKey: string;

  /** `seed`: 32 random bytes (the `purge-receipt-key` server secret). */
  constructor(seed: Buffer) {
    if (seed.length !== 32) throw new Error('The purge receipt key must be a 32-byte seed.');
    this.privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    this.publicKey = createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' }).toString('base64');
  }

  sign(body: Omit<PurgeReceiptBody, 'kind' | 'version' | 'publicKey'>): PurgeReceipt {
    const full: PurgeReceiptBody = { kind: 'custos-purge-receipt', version: 1, ...body, publicKey: this.publicKey };
    const signature = sign(null, Buffer.from(canonicalJson(full)), this.privateKey).toString('base64');
    return { ...full, signature };
  }
}

/** SHA-256 of the public key, hex: short enough to publish and compare by eye. */
export function publicKeyFingerprint(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('hex');
}

export type ReceiptVerdict = { valid: true; fingerprint: string } | { valid: false; reason: string };

/** Checks the signature against the receipt's own public key (and, if given, that it is the expected key). */
export function verifyPurgeReceipt(receipt: unknown, expectedPublicKey?: string): ReceiptVerdict {
  if (typeof receipt !== 'object' || receipt === null) return { valid: false, reason: 'not a JSON object' };
  const { signature, ...body } = receipt as Record<string, unknown>;
  if (body['kind'] !== 'custos-purge-receipt') return { valid: false, reason: 'not a Custos purge receipt' };
  if (typeof signature !== 'string' || typeof body['publicKey'] !== 'string')
    return { valid: false, reason: 'signature or public key missing' };
  if (expectedPublicKey !== undefined && body['publicKey'] !== expectedPublicKey) {
    return { valid: false, reason: 'signed by a key other than this deployment’s' };
  }
  try {
    const key = createPublicKey({ key: Buffer.from(body['publicKey'], 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') return { valid: false, reason: 'the public key is not Ed25519' };
    const ok = verify(null, Buffer.from(canonicalJson(body)), key, Buffer.from(signature, 'base64'));
    return ok
      ? { valid: true, fingerprint: publicKeyFingerprint(body['publicKey']) }
      : { valid: false, reason: 'the signature does not match the content' };
  } catch (error) {
    return { valid: false, reason: `the public key or signature is malformed (${error instanceof Error ? error.message : String(error)})` };
  }
}
