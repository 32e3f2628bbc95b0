/**
 * Secrets Custos must read back (TOTP seeds, IdP client secrets, Wi-Fi passphrases…) are sealed with
 * AES-256-GCM under a 32-byte server key: a fresh 96-bit IV per value, and additional authenticated
 * data naming where the value belongs (the tenant, or tenant/user), so a sealed value copied into
 * another row does not open. Format: `v1.<iv>.<tag>.<ciphertext>` (base64url). One implementation
 * for every such secret; each kind of secret has its own key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class SecretBox {
  constructor(
    private readonly key: Buffer,
    /** What this box holds, for error messages ("TOTP secret", "IdP client secret"…). */
    private readonly what: string,
  ) {
    if (key.length !== 32) throw new Error(`The key for ${what}s must be 32 bytes.`);
  }

  seal(boundTo: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(boundTo));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', ...[iv, cipher.getAuthTag(), ciphertext].map((p) => p.toString('base64url'))].join('.');
  }

  open(boundTo: string, sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error(`A stored ${this.what} has an unknown format.`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(boundTo));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
