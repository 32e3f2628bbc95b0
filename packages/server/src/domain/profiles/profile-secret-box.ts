/**
 * Configuration profile secrets at rest (a Wi-Fi passphrase, a supplied WireGuard private key), under
 * the server secret `profile-key`, bound to the tenant (domain/secret-box.ts). Only the device receives
 * the plaintext; the admin API says whether a secret is set.
 */
import { SecretBox } from '../secret-box.js';

export class ProfileSecretBox extends SecretBox {
  constructor(key: Buffer) {
    super(key, 'profile secret');
  }
}
