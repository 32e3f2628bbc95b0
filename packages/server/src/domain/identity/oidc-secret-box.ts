/** IdP client secrets at rest, under the server secret `idp-key`, bound to the tenant (domain/secret-box.ts). */
import { SecretBox } from '../secret-box.js';

export class OidcSecretBox extends SecretBox {
  constructor(key: Buffer) {
    super(key, 'IdP client secret');
  }
}
