/**
 * SCEP (RFC 8894) for Apple MDM enrollment: GetCACaps, GetCACert and PKIOperation. A device sends a
 * PKCSReq — a SignedData (by a self-signed certificate for its new key) around an EnvelopedData
 * (encrypted to the tenant CA) around a PKCS#10 request carrying the enrollment's challenge. The
 * challenge, hashed, names the enrollment (domain/apple-mdm/apple-mdm-service.ts serves it in the
 * profile); it issues exactly one identity certificate, which the CertRep returns encrypted to the
 * device's key.
 */
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { recordDeviceAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import { DEVICE_CERTIFICATE_DAYS } from '../enrollment/certificate-authority.js';
import { hashSecret } from '../secrets.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { CertificateAuthorityRecord } from '../tenants/tenant-stores.js';
import {
  certificateFromDer,
  certificatesOnly,
  CmsError,
  envelope,
  envelopeKeyTransport,
  envelopeRecipientIssuer,
  OID,
  openEnvelope,
  rdnValue,
  SCEP_MESSAGE_TYPE,
  signContent,
  verifySignedData,
} from './cms.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OU = '2.5.4.11';
const DAY = 24 * 60 * 60 * 1000;
const RSA_SIGN: webcrypto.RsaHashedImportParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

export const SCEP_CAPABILITIES = ['POSTPKIOperation', 'SHA-256', 'AES', 'SCEPStandard'];

const invalid = (detail: string) => new DomainError('scep-request-invalid', detail);

export function hashChallenge(challenge: string): string {
  return hashSecret(`scep:${challenge}`);
}

export function tenantOfCertificateName(name: string): string | undefined {
  const match = /(?:^|,\s*)OU=([0-9a-f-]{36})(?:,|$)/.exec(name);
  return match && UUID.test(match[1] ?? '') ? match[1] : undefined;
}

export async function caSigner(ca: CertificateAuthorityRecord) {
  return {
    certificate: certificateFromDer(new Uint8Array(x509.PemConverter.decodeFirst(ca.certificatePem))),
    privateKey: await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.privateKeyPkcs8), RSA_SIGN, false, ['sign']),
  };
}

export class ScepService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  capabilities(): string {
    return SCEP_CAPABILITIES.join('\n');
  }

  /** GetCACert: the tenant CA named by the profile's CA identifier (the tenant id), DER. */
  async caCertificate(caIdentifier: string | undefined): Promise<Buffer> {
    const { ca } = await this.tenantCa(caIdentifier);
    return Buffer.from(x509.PemConverter.decodeFirst(ca.certificatePem));
  }

  async pkiOperation(message: Buffer): Promise<Buffer> {
    try {
      return await this.handle(message);
    } catch (error) {
      if (error instanceof CmsError) throw invalid(error.message);
      throw error;
    }
  }

  private async handle(message: Buffer): Promise<Buffer> {
    const outer = await verifySignedData(message);
    const messageType = outer.attributes.get(OID.scepMessageType)?.toString('utf8');
    const transactionId = outer.attributes.get(OID.scepTransactionId)?.toString('utf8');
    const senderNonce = outer.attributes.get(OID.scepSenderNonce);
    if (messageType !== SCEP_MESSAGE_TYPE.pkcsReq) {
      throw invalid(`Only PKCSReq (messageType 19) is supported, not ${messageType ?? 'a message without a type'}.`);
    }
    if (!transactionId || !senderNonce || senderNonce.length !== 16)
      throw invalid('The PKCSReq lacks a transactionID or a 16-byte senderNonce.');

    // The envelope is encrypted to the tenant CA; its recipient names the CA (OU = tenant id).
    const issuer = envelopeRecipientIssuer(outer.content);
    const tenantId = issuer ? rdnValue(issuer, OU) : undefined;
    const { data, ca } = await this.tenantCa(tenantId);
    const caCert = certificateFromDer(new Uint8Array(x509.PemConverter.decodeFirst(ca.certificatePem)));
    const csrDer = await openEnvelope(outer.content, caCert, new Uint8Array(x509.PemConverter.decodeFirst(ca.privateKeyPkcs8)));

    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrDer);
    } catch {
      throw new DomainError('csr-invalid', 'The SCEP envelope does not hold a PKCS#10 certificate request.');
    }
    if (!(await csr.verify())) throw new DomainError('csr-invalid', 'The CSR signature does not verify.');
    // The PKCSReq is signed with the key being certified (RFC 8894 §3.3.1).
    if (Buffer.compare(Buffer.from(csr.publicKey.rawData), Buffer.from(outer.signer.subjectPublicKeyInfo.toSchema().toBER(false))) !== 0) {
      throw invalid('The PKCSReq is not signed with the key in its certificate request.');
    }
    const algorithm = csr.publicKey.algorithm as webcrypto.RsaHashedKeyAlgorithm | webcrypto.EcKeyAlgorithm;
    const rsaOk = algorithm.name === 'RSASSA-PKCS1-v1_5' && (algorithm as webcrypto.RsaHashedKeyAlgorithm).modulusLength >= 2048;
    const ecOk = algorithm.name === 'ECDSA' && (algorithm as webcrypto.EcKeyAlgorithm).namedCurve === 'P-256';
    if (!rsaOk && !ecOk) throw new DomainError('csr-invalid', 'The device key must be RSA (2048 bits or more) or ECDSA P-256.');

    const challenge = csr.getAttribute(OID.challengePassword);
    const password = challenge instanceof x509.ChallengePasswordAttribute ? challenge.password : undefined;
    const refused = new DomainError('forbidden', 'The SCEP challenge is not valid: download the enrollment profile again.');
    if (!password) throw refused;
    const now = this.clock.now();
    const enrollment = await data.appleMdm.findEnrollmentByChallengeHash(hashChallenge(password));
    if (!enrollment || enrollment.expiresAt <= now) throw refused;
    if (enrollment.certificateSerial !== null) {
      throw new DomainError('conflict', 'This enrollment profile already issued its identity certificate; download a new profile.');
    }

    const signer = await caSigner(ca);
    const caX509 = new x509.X509Certificate(ca.certificatePem);
    const publicKey = (await csr.publicKey.export(
      algorithm.name === 'ECDSA' ? { name: 'ECDSA', namedCurve: 'P-256' } : RSA_SIGN,
      ['verify'],
      webcrypto,
    )) as unknown as webcrypto.CryptoKey;
    const serial = randomBytes(16);
    serial[0] = (serial[0] ?? 0) & 0x7f;
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serial.toString('hex'),
      subject: `CN=${enrollment.id}, OU=${data.tenantId}, O=Custos Apple MDM device`,
      issuer: caX509.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + DEVICE_CERTIFICATE_DAYS * DAY),
      signingKey: signer.privateKey,
      publicKey,
      signingAlgorithm: RSA_SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(caX509),
      ],
    });
    await data.transaction(async (trx) => {
      if (!(await trx.appleMdm.setEnrollmentCertificate(enrollment.id, certificate.serialNumber))) {
        throw new DomainError('conflict', 'This enrollment profile already issued its identity certificate; download a new profile.');
      }
      await recordDeviceAudit(trx, { id: enrollment.id, name: `Apple enrollment ${enrollment.id}` }, now, {
        activity: 'Issue Apple MDM identity certificate',
        category: 'Enrollment',
        operation: 'create',
        targets: [
          {
            type: 'appleEnrollment',
            id: enrollment.id,
            modifiedProperties: [{ name: 'certificateSerial', oldValue: null, newValue: certificate.serialNumber }],
          },
        ],
      });
    });

    const issued = certificateFromDer(new Uint8Array(certificate.rawData));
    // Encrypted to the requester the way it encrypted to us (Apple devices: PKCS#1 v1.5).
    const reply = await envelope(certificatesOnly([issued]), outer.signer, envelopeKeyTransport(outer.content));
    return signContent(reply, signer, {
      attributes: [
        { oid: OID.scepMessageType, printable: SCEP_MESSAGE_TYPE.certRep },
        { oid: OID.scepPkiStatus, printable: '0' },
        { oid: OID.scepTransactionId, printable: transactionId },
        { oid: OID.scepRecipientNonce, octets: senderNonce },
        { oid: OID.scepSenderNonce, octets: randomBytes(16) },
      ],
    });
  }

  private async tenantCa(tenantId: string | undefined): Promise<{ data: TenantData; ca: CertificateAuthorityRecord }> {
    const unknown = invalid('The SCEP request names no certificate authority of this server.');
    if (!tenantId || !UUID.test(tenantId)) throw unknown;
    let data: TenantData;
    try {
      data = await this.tenants.data(tenantId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') throw unknown;
      throw error;
    }
    const ca = await data.certificateAuthority.get();
    if (!ca) throw unknown;
    return { data, ca };
  }
}
