/**
 * Who sent an Apple MDM message (SPEC §7): the device identity certificate SCEP issued, proven by
 * the `Mdm-Signature` header (a detached CMS SignedData over the body, made with the identity key)
 * or, behind a TLS-terminating proxy that is trusted to do so, by the client certificate the proxy
 * forwards in the RFC 9440 `Client-Cert` header. Either way the certificate must chain to the
 * tenant CA named in its subject (OU = tenant id) and be within its validity period; which device
 * it may speak for is decided by the caller (the enrollment the certificate first authenticated).
 */
import 'reflect-metadata';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { CmsError, parseDetachedSignature } from './cms.js';
import { tenantOfCertificateName } from './scep-service.js';

export interface AppleMessageCredentials {
  /** The `Mdm-Signature` header: base64 of a detached CMS SignedData over the body. */
  mdmSignature: string | undefined;
  /** The RFC 9440 `Client-Cert` header (`:base64-DER:`), honoured only when the proxy is trusted. */
  clientCert: string | undefined;
  body: Buffer;
}

export interface AppleIdentity {
  tenantId: string;
  data: TenantData;
  /** Serial number (hex) of the identity certificate. */
  serial: string;
  certificatePem: string;
  publicKeySpki: string;
  /** The certificate's end of validity. */
  notAfter: number;
}

const refused = (detail: string) => new DomainError('apple-mdm-signature-invalid', detail);
const CACHE_LIMIT = 50_000;

/** A certificate already shown to chain to its tenant CA, with its parsed key. */
interface KnownCertificate {
  der: Buffer;
  tenantId: string;
  serial: string;
  certificatePem: string;
  publicKeySpki: string;
  key: KeyObject;
  notAfter: number;
  /** The certificate's (or its CA's, if earlier) end of validity. */
  validUntil: number;
}

export class AppleIdentityVerifier {
  /** Signer id (or sha256 of a forwarded certificate) → what the certificate proved; each is parsed and its chain checked once. */
  private readonly known = new Map<string, KnownCertificate>();

  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
    /** Whether a `Client-Cert` header is believed (only behind a proxy that sets it and strips clients' own). */
    private readonly trustClientCertHeader: boolean,
  ) {}

  async identify(credentials: AppleMessageCredentials): Promise<AppleIdentity> {
    let known: KnownCertificate;
    if (this.trustClientCertHeader && credentials.clientCert) {
      const match = /^:([A-Za-z0-9+/=]+):$/.exec(credentials.clientCert.trim());
      if (!match?.[1]) throw refused('The Client-Cert header is not an RFC 9440 byte sequence (":base64:").');
      const der = Buffer.from(match[1], 'base64');
      known = await this.certificate(der, createHash('sha256').update(der).digest('base64url'));
    } else if (credentials.mdmSignature) {
      let signature;
      try {
        signature = parseDetachedSignature(Buffer.from(credentials.mdmSignature, 'base64'), credentials.body);
      } catch (error) {
        if (error instanceof CmsError) throw refused(`The Mdm-Signature is not a usable CMS signature: ${error.message}`);
        throw error;
      }
      known = await this.certificate(signature.certificateDer, `signer:${signature.signerId}`);
      if (!signature.verifyWith(known.key)) throw refused('The Mdm-Signature does not verify over the message.');
    } else {
      throw refused('The message carries no Mdm-Signature header (the enrollment profile asks for SignMessage).');
    }
    let data: TenantData;
    try {
      data = await this.tenants.data(known.tenantId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found')
        throw refused('The identity certificate was not issued by Custos.');
      throw error;
    }
    return {
      tenantId: known.tenantId,
      data,
      serial: known.serial,
      certificatePem: known.certificatePem,
      publicKeySpki: known.publicKeySpki,
      notAfter: known.notAfter,
    };
  }

  /**
   * The certificate, checked against the tenant CA its subject names (once; then from the cache
   * until it expires). `cacheKey` names it cheaply; a cached entry is used only for the very same bytes.
   */
  private async certificate(der: Buffer, cacheKey: string): Promise<KnownCertificate> {
    const now = this.clock.now();
    const cached = this.known.get(cacheKey);
    if (cached && cached.validUntil > now && cached.der.equals(der)) return cached;
    let certificate: x509.X509Certificate;
    try {
      certificate = new x509.X509Certificate(der);
    } catch {
      throw refused('The identity certificate is not valid DER.');
    }
    const tenantId = tenantOfCertificateName(certificate.subject);
    if (!tenantId) throw refused('The identity certificate was not issued by Custos.');
    let data: TenantData;
    try {
      data = await this.tenants.data(tenantId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found')
        throw refused('The identity certificate was not issued by Custos.');
      throw error;
    }
    const ca = await data.certificateAuthority.get();
    if (!ca) throw refused('The tenant has no certificate authority.');
    const caCertificate = new x509.X509Certificate(ca.certificatePem);
    const chains =
      certificate.issuer === caCertificate.subject &&
      (await certificate.verify({ publicKey: caCertificate, date: new Date(now) }).catch(() => false));
    if (!chains) throw refused('The identity certificate does not chain to this tenant’s certificate authority, or it has expired.');
    const spki = Buffer.from(certificate.publicKey.rawData);
    const known: KnownCertificate = {
      der,
      tenantId,
      serial: certificate.serialNumber,
      certificatePem: certificate.toString('pem'),
      publicKeySpki: spki.toString('base64'),
      key: createPublicKey({ key: spki, format: 'der', type: 'spki' }),
      notAfter: certificate.notAfter.getTime(),
      validUntil: Math.min(certificate.notAfter.getTime(), caCertificate.notAfter.getTime()),
    };
    if (this.known.size >= CACHE_LIMIT) this.known.clear();
    this.known.set(cacheKey, known);
    return known;
  }
}
