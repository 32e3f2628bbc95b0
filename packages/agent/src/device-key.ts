/**
 * The device's own key pair and certificate request (SPEC §6: the private key never leaves the
 * device). ECDSA P-256, the curve the server's verifier and the tenant CA expect.
 */
import { KeyObject, webcrypto } from 'node:crypto';
import { x509 } from './x509.js';

export interface DeviceKey {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** PKCS#10 PEM, signed with the new key (proof of possession). */
  csrPem: string;
}

export async function generateDeviceKey(): Promise<DeviceKey> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  // Extractable only so the key can be written to the state file; it is never sent anywhere.
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=custos-agent',
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const privateKeyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { privateKeyPem, csrPem: csr.toString('pem') };
}

/** The certificate's expiry, for `status`; undefined when it cannot be read. */
export function certificateExpiry(certificatePem: string): Date | undefined {
  try {
    return new x509.X509Certificate(certificatePem).notAfter;
  } catch {
    return undefined;
  }
}
