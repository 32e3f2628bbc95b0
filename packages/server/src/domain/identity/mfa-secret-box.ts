/**
 * Encryption of TOTP secrets at rest: AES-256-GCM under the server secret `mfa-key`, a fresh 96-bit
 * IV per value, and `tenantId/userId` as additional authenticated data, so a sealed secret copied to
 * another user's row does not open. Format: `v1.<iv>.<tag>.<ciphertext>` (base64url). The one place
 * that knows the key: a later issue swaps it for per-tenant data keys here.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class MfaSecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('The mfa-key server secret must be 32 bytes.');
  }

  seal(tenantId: string, userId: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${tenantId}/${userId}`));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', ...[iv, cipher.getAuthTag(), ciphertext].map((p) => p.toString('base64url'))].join('.');
  }

  open(tenantId: string, userId: string, sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error('The stored TOTP secret has an unknown format.');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(`${tenantId}/${userId}`));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
