/**
 * Certificates of configuration profiles: an uploaded root or OpenVPN CA must be one well-formed CA
 * certificate, and a client certificate is issued by the tenant CA from a PKCS#10 request the
 * device made, so its private key never leaves the device. Built on @peculiar/x509 like the CA.
 */
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { DomainError } from '../domain-error.js';
import type { CertificateAuthorityRecord } from '../tenants/tenant-stores.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const CA_SIGNING: webcrypto.RsaHashedImportParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const DAY = 24 * 60 * 60 * 1000;

/**
 * Checks that `pem` holds exactly one X.509 certificate that is a CA (basicConstraints cA=TRUE) and
 * valid now; `field` names it in the 400 otherwise. Returns the certificate re-encoded as PEM.
 */
export function validateCaCertificatePem(pem: string, field: string, now: number): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length !== 1) {
    throw new DomainError('validation-failed', `"${field}" must hold exactly one PEM certificate; it holds ${blocks.length}.`);
  }
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(blocks[0] ?? '');
  } catch {
    throw new DomainError('validation-failed', `"${field}" is not a valid X.509 certificate in PEM.`);
  }
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) throw new DomainError('validation-failed', `"${field}" is not a CA certificate (basicConstraints cA is not true).`);
  if (certificate.notAfter.getTime() < now) {
    throw new DomainError('validation-failed', `"${field}" expired on ${certificate.notAfter.toISOString()}.`);
  }
  return certificate.toString('pem');
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/**
 * Issues a client-authentication certificate for `subject` (an RFC 4514 DN) to the key in `csrPem`:
 * the request must verify (the device holds the key) and the key must be ECDSA P-256 or RSA of at
 * least 2048 bits.
 */
export async function issueClientCertificate(
  ca: CertificateAuthorityRecord,
  csrPem: string,
  subject: string,
  validityDays: number,
  now: number,
): Promise<string> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new DomainError('csr-invalid', 'The CSR is not a PEM-encoded PKCS#10 certificate request.');
  }
  const algorithm = csr.publicKey.algorithm as webcrypto.EcKeyAlgorithm & webcrypto.RsaKeyAlgorithm;
  const ecOk = algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256';
  const rsaOk = algorithm.name === 'RSASSA-PKCS1-v1_5' && algorithm.modulusLength >= 2048;
  if (!ecOk && !rsaOk) throw new DomainError('csr-invalid', 'The key must be ECDSA P-256 or RSA of at least 2048 bits.');
  if (!(await csr.verify()))
    throw new DomainError('csr-invalid', 'The CSR signature does not verify: it was not made with the key it carries.');
  let name: x509.Name;
  try {
    name = new x509.Name(subject);
  } catch {
    throw new DomainError('validation-failed', `The subject "${subject}" is not a valid distinguished name.`);
  }
  const caCert = new x509.X509Certificate(ca.certificatePem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.privateKeyPkcs8), CA_SIGNING, false, ['sign']);
  const publicKey = (await csr.publicKey.export()) as unknown as webcrypto.CryptoKey;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: name,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validityDays * DAY),
    signingKey: caKey,
    publicKey,
    signingAlgorithm: CA_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return certificate.toString('pem');
}
