/**
 * TOTP secrets at rest, under the server secret `mfa-key`, bound to `tenantId/userId` (domain/secret-box.ts).
 */
import { SecretBox } from '../secret-box.js';

export class MfaSecretBox {
  private readonly box: SecretBox;

  constructor(key: Buffer) {
    this.box = new SecretBox(key, 'TOTP secret');
  }

  seal(tenantId: string, userId: string, plaintext: string): string {
    return this.box.seal(`${tenantId}/${userId}`, plaintext);
  }

  open(tenantId: string, userId: string, sealed: string): string {
    return this.box.open(`${tenantId}/${userId}`, sealed);
  }
}
