/**
 * Encryption of configuration profile secrets at rest (a Wi-Fi passphrase, a supplied WireGuard
 * private key): AES-256-GCM under the server secret `profile-key`, a fresh 96-bit IV per value and
 * the tenant id as additional authenticated data, so a value copied into another tenant's row does
 * not decrypt. Format: `v1.<iv>.<tag>.<ciphertext>` (base64url). Only the device receives the
 * plaintext; the admin API says whether a secret is set.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class ProfileSecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('The profile-key server secret must be 32 bytes.');
  }

  seal(tenantId: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(tenantId));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', ...[iv, cipher.getAuthTag(), ciphertext].map((p) => p.toString('base64url'))].join('.');
  }

  open(tenantId: string, sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error('A stored profile secret has an unknown format.');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(tenantId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
