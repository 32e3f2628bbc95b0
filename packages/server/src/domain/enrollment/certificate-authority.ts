/**
 * The per-tenant certificate authority. RSA-2048 with SHA-256, because Apple's SCEP (SPEC §7) needs
 * an RSA CA to encrypt to; devices' own keys may be ECDSA. Built on @peculiar/x509 over WebCrypto.
 */
// @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { DomainError } from '../domain-error.js';
import type { CertificateAuthorityRecord } from '../tenants/tenant-stores.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const RSA: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};
const DAY = 24 * 60 * 60 * 1000;
/** Device certificates live two years; renewal before expiry comes with certificate rotation. */
export const DEVICE_CERTIFICATE_DAYS = 730;
const CA_YEARS = 20;

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive INTEGER
  return bytes.toString('hex');
}

function pkcs8Pem(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function createCertificateAuthority(tenantId: string, tenantName: string, now: number): Promise<CertificateAuthorityRecord> {
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const name = `CN=${escapeDn(tenantName)} Custos Device CA, O=${escapeDn(tenantName)}, OU=${tenantId}`;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_YEARS * 365 * DAY),
    keys,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPkcs8: pkcs8Pem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    createdAt: now,
  };
}

function escapeDn(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`);
}

export interface IssuedDeviceCertificate {
  certificatePem: string;
  serial: string;
  /** The device's public key, SubjectPublicKeyInfo DER in base64. */
  publicKeySpki: string;
}

/**
 * Checks a device's PKCS#10 request (well-formed, self-signature valid — the device holds the
 * private key —, ECDSA P-256) and issues its identity certificate.
 */
export async function issueDeviceCertificate(
  ca: CertificateAuthorityRecord,
  csrPem: string,
  subject: { tenantId: string; deviceId: string },
  now: number,
): Promise<IssuedDeviceCertificate> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new DomainError('csr-invalid', 'The CSR is not a PEM-encoded PKCS#10 certificate request.');
  }
  const algorithm = csr.publicKey.algorithm as webcrypto.EcKeyAlgorithm;
  if (algorithm.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256') {
    throw new DomainError('csr-invalid', 'The device key must be an ECDSA P-256 key.');
  }
  if (!(await csr.verify()))
    throw new DomainError('csr-invalid', 'The CSR signature does not verify: it was not made with the key it carries.');

  const caCert = new x509.X509Certificate(ca.certificatePem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.privateKeyPkcs8), RSA, false, ['sign']);
  const serial = serialNumber();
  // x509's typings name the DOM's CryptoKey, which a Node build does not declare.
  const publicKey = (await csr.publicKey.export()) as unknown as webcrypto.CryptoKey;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${subject.deviceId}, OU=${subject.tenantId}, O=Custos managed device`,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + DEVICE_CERTIFICATE_DAYS * DAY),
    signingKey: caKey,
    publicKey,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    serial,
    publicKeySpki: Buffer.from(csr.publicKey.rawData).toString('base64'),
  };
}
