/**
 * CMS (RFC 5652) for Apple MDM, on pkijs + asn1js: SignedData for the enrollment profile, detached
 * SignedData for `Mdm-Signature`, and the SCEP (RFC 8894) message layers — a SignedData whose
 * content is an EnvelopedData, with the SCEP authenticated attributes.
 */
import 'reflect-metadata';
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  verify as cryptoVerify,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto });
pkijs.setEngine('node', engine);

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  challengePassword: '1.2.840.113549.1.9.7',
  scepMessageType: '2.16.840.1.113733.1.9.2',
  scepPkiStatus: '2.16.840.1.113733.1.9.3',
  scepFailInfo: '2.16.840.1.113733.1.9.4',
  scepSenderNonce: '2.16.840.1.113733.1.9.5',
  scepRecipientNonce: '2.16.840.1.113733.1.9.6',
  scepTransactionId: '2.16.840.1.113733.1.9.7',
  signingTime: '1.2.840.113549.1.9.5',
} as const;

export const SCEP_MESSAGE_TYPE = { certRep: '3', pkcsReq: '19', renewalReq: '17' } as const;

export class CmsError extends Error {}

function toArrayBuffer(data: Uint8Array): ArrayBuffer {
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}

export function certificateFromDer(der: Uint8Array): pkijs.Certificate {
  return pkijs.Certificate.fromBER(toArrayBuffer(der));
}

export function certificateToDer(certificate: pkijs.Certificate): Buffer {
  return Buffer.from(certificate.toSchema(true).toBER(false));
}

export interface Signer {
  certificate: pkijs.Certificate;
  privateKey: webcrypto.CryptoKey;
  /** More certificates to carry (a chain). */
  extra?: pkijs.Certificate[];
}

/** One attribute whose single value is a PrintableString or an OCTET STRING. */
export type ScepAttribute = { oid: string; printable: string } | { oid: string; octets: Uint8Array };

/**
 * A SignedData over `content` with contentType and messageDigest signed attributes (plus a
 * signingTime, as iOS devices put in their `Mdm-Signature`, and `attributes`). `detached`: the
 * content is left out (an `Mdm-Signature`). Returns the ContentInfo DER.
 */
export async function signContent(
  content: Uint8Array,
  signer: Signer,
  options: { detached?: boolean; attributes?: ScepAttribute[]; signingTime?: Date } = {},
): Promise<Buffer> {
  const digest = createHash('sha256').update(content).digest();
  const attributes = [
    new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
    new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: toArrayBuffer(digest) })] }),
    ...(options.signingTime
      ? [new pkijs.Attribute({ type: OID.signingTime, values: [new asn1js.UTCTime({ valueDate: options.signingTime })] })]
      : []),
    ...(options.attributes ?? []).map(
      (a) =>
        new pkijs.Attribute({
          type: a.oid,
          values: [
            'printable' in a
              ? new asn1js.PrintableString({ value: a.printable })
              : new asn1js.OctetString({ valueHex: toArrayBuffer(a.octets) }),
          ],
        }),
    ),
  ];
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: OID.data,
      ...(options.detached ? {} : { eContent: new asn1js.OctetString({ valueHex: toArrayBuffer(content) }) }),
    }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.certificate.issuer, serialNumber: signer.certificate.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes }),
      }),
    ],
    certificates: [signer.certificate, ...(signer.extra ?? [])],
  });
  await signedData.sign(signer.privateKey, 0, 'SHA-256', options.detached ? toArrayBuffer(content) : undefined);
  const info = new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.SIGNED_DATA, content: signedData.toSchema(true) });
  return Buffer.from(info.toSchema().toBER(false));
}

function parseSignedData(der: Uint8Array): pkijs.SignedData {
  try {
    const info = pkijs.ContentInfo.fromBER(toArrayBuffer(der));
    if (info.contentType !== pkijs.ContentInfo.SIGNED_DATA) throw new CmsError('The CMS message is not SignedData.');
    return new pkijs.SignedData({ schema: info.content });
  } catch (error) {
    if (error instanceof CmsError) throw error;
    throw new CmsError('The CMS message is not valid DER.');
  }
}

export interface VerifiedSignedData {
  /** The certificate whose key made the signature (carried in the message). */
  signer: pkijs.Certificate;
  /** The signed content (the detached content when one was given). */
  content: Buffer;
  /** Signed attributes by OID: the first value's bytes (PrintableString text as UTF-8). */
  attributes: Map<string, Buffer>;
}

/**
 * Verifies the first signer of a SignedData with the certificate it carries; `detachedContent` for
 * a detached signature. Says nothing about who the signer is: the caller checks the certificate.
 */
export async function verifySignedData(der: Uint8Array, detachedContent?: Uint8Array): Promise<VerifiedSignedData> {
  const signedData = parseSignedData(der);
  const signerInfo = signedData.signerInfos[0];
  if (!signerInfo) throw new CmsError('The SignedData has no signer.');
  let content: Buffer;
  if (detachedContent) content = Buffer.from(detachedContent);
  else {
    const e = signedData.encapContentInfo.eContent;
    if (!e) throw new CmsError('The SignedData carries no content.');
    content = Buffer.from(e.getValue());
  }
  let result: pkijs.SignedDataVerifyResult;
  try {
    result = await signedData.verify({
      signer: 0,
      checkChain: false,
      extendedMode: true,
      ...(detachedContent ? { data: toArrayBuffer(detachedContent) } : {}),
    });
  } catch {
    throw new CmsError('The CMS signature does not verify.');
  }
  if (!result.signatureVerified || !result.signerCertificate) throw new CmsError('The CMS signature does not verify.');
  const attributes = new Map<string, Buffer>();
  for (const attribute of signerInfo.signedAttrs?.attributes ?? []) {
    const value = attribute.values[0] as asn1js.BaseBlock | undefined;
    if (!value) continue;
    if (value instanceof asn1js.OctetString) attributes.set(attribute.type, Buffer.from(value.valueBlock.valueHexView));
    else if (value instanceof asn1js.PrintableString || value instanceof asn1js.Utf8String)
      attributes.set(attribute.type, Buffer.from(value.valueBlock.value, 'utf8'));
  }
  return { signer: result.signerCertificate, content, attributes };
}

/** Encrypts `content` to `recipient` (RSAES-OAEP key transport, AES-256-CBC); ContentInfo DER. */
/**
 * How an EnvelopedData's content key is encrypted to its RSA recipient: RSAES-OAEP, or PKCS#1 v1.5
 * (`rsaEncryption`), which Apple's SCEP client uses. A SCEP reply uses the request's.
 */
export type KeyTransport = 'oaep' | 'pkcs1';

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const CONTENT_CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
const AES_256_CBC = '2.16.840.1.101.3.4.1.42';

export async function envelope(content: Uint8Array, recipient: pkijs.Certificate, keyTransport: KeyTransport = 'oaep'): Promise<Buffer> {
  if (keyTransport === 'pkcs1') return envelopePkcs1(content, recipient);
  const enveloped = new pkijs.EnvelopedData();
  enveloped.addRecipientByCertificate(recipient, { oaepHashAlgorithm: 'SHA-256' }, 1);
  await enveloped.encrypt({ name: 'AES-CBC', length: 256 }, toArrayBuffer(content));
  const info = new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.ENVELOPED_DATA, content: enveloped.toSchema() });
  return Buffer.from(info.toSchema().toBER(false));
}

function parseEnvelopedData(der: Uint8Array): pkijs.EnvelopedData {
  try {
    const info = pkijs.ContentInfo.fromBER(toArrayBuffer(der));
    if (info.contentType !== pkijs.ContentInfo.ENVELOPED_DATA) throw new CmsError('The SCEP message content is not EnvelopedData.');
    return new pkijs.EnvelopedData({ schema: info.content });
  } catch (error) {
    if (error instanceof CmsError) throw error;
    throw new CmsError('The EnvelopedData is not valid DER.');
  }
}

/** The issuer DN (as pkijs holds it) of the first recipient of an EnvelopedData. */
export function envelopeRecipientIssuer(der: Uint8Array): pkijs.RelativeDistinguishedNames | undefined {
  const recipient = parseEnvelopedData(der).recipientInfos[0];
  if (!recipient || recipient.variant !== 1) return undefined;
  const rid = (recipient.value as pkijs.KeyTransRecipientInfo).rid;
  return rid instanceof pkijs.IssuerAndSerialNumber ? rid.issuer : undefined;
}

/** The key transport of an EnvelopedData's first recipient. */
export function envelopeKeyTransport(der: Uint8Array): KeyTransport {
  const recipient = parseEnvelopedData(der).recipientInfos[0];
  const algorithm = recipient?.variant === 1 ? (recipient.value as pkijs.KeyTransRecipientInfo).keyEncryptionAlgorithm.algorithmId : '';
  return algorithm === RSA_ENCRYPTION ? 'pkcs1' : 'oaep';
}

/** PKCS#1 v1.5 key transport with AES-256-CBC content (WebCrypto has no RSAES-PKCS1-v1_5; Node encrypts it). */
function envelopePkcs1(content: Uint8Array, recipient: pkijs.Certificate): Buffer {
  const key = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(content), cipher.final()]);
  const publicKey = createPublicKey({
    key: Buffer.from(recipient.subjectPublicKeyInfo.toSchema().toBER(false)),
    format: 'der',
    type: 'spki',
  });
  const encryptedKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, key);
  const enveloped = new pkijs.EnvelopedData({
    version: 0,
    recipientInfos: [
      new pkijs.RecipientInfo({
        variant: 1,
        value: new pkijs.KeyTransRecipientInfo({
          version: 0,
          rid: new pkijs.IssuerAndSerialNumber({ issuer: recipient.issuer, serialNumber: recipient.serialNumber }),
          keyEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: RSA_ENCRYPTION, algorithmParams: new asn1js.Null() }),
          encryptedKey: new asn1js.OctetString({ valueHex: toArrayBuffer(encryptedKey) }),
        }),
      }),
    ],
    encryptedContentInfo: new pkijs.EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: AES_256_CBC,
        algorithmParams: new asn1js.OctetString({ valueHex: toArrayBuffer(iv) }),
      }),
      encryptedContent: new asn1js.OctetString({ valueHex: toArrayBuffer(ciphertext) }),
    }),
  });
  const info = new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.ENVELOPED_DATA, content: enveloped.toSchema() });
  return Buffer.from(info.toSchema().toBER(false));
}

/** The bytes of an OCTET STRING as parsed (primitive, or constructed from segments as BER allows). */
function octetsOf(block: asn1js.BaseBlock): Buffer {
  const value = block.valueBlock as unknown as { valueHexView?: Uint8Array; value?: asn1js.BaseBlock[] };
  if (block.idBlock.isConstructed && Array.isArray(value.value)) return Buffer.concat(value.value.map(octetsOf));
  return Buffer.from(value.valueHexView ?? new Uint8Array());
}

/**
 * Opens a PKCS#1 v1.5 key transport. Node refuses RSA_PKCS1_PADDING decryption (CVE-2023-46809),
 * so the block is decrypted raw and unpadded here; a malformed block yields a random key instead of
 * an error (implicit rejection), so the only failure is the content's, whatever the cause — no
 * padding oracle.
 */
function openPkcs1(enveloped: pkijs.EnvelopedData, recipient: pkijs.KeyTransRecipientInfo, privateKeyPkcs8: Uint8Array): Buffer {
  const info = enveloped.encryptedContentInfo;
  const cipher = CONTENT_CIPHERS[info.contentEncryptionAlgorithm.algorithmId];
  const params = info.contentEncryptionAlgorithm.algorithmParams as unknown;
  if (!cipher || !(params instanceof asn1js.OctetString)) throw new CmsError('Unsupported content encryption algorithm.');
  const encrypted = info.encryptedContent;
  if (!encrypted) throw new CmsError('The EnvelopedData carries no content.');
  const key = createPrivateKey({ key: Buffer.from(privateKeyPkcs8), format: 'der', type: 'pkcs8' });
  const block = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, Buffer.from(recipient.encryptedKey.valueBlock.valueHexView));
  // EM = 0x00 || 0x02 || PS (at least 8 non-zero bytes) || 0x00 || M.
  const separator = block.indexOf(0, 2);
  const wellFormed = block[0] === 0 && block[1] === 2 && separator >= 10 && block.length - separator - 1 === cipher.keyLength;
  const contentKey = wellFormed ? block.subarray(separator + 1) : randomBytes(cipher.keyLength);
  try {
    const decipher = createDecipheriv(cipher.name, contentKey, Buffer.from(params.valueBlock.valueHexView));
    return Buffer.concat([decipher.update(octetsOf(encrypted)), decipher.final()]);
  } catch {
    throw new CmsError('The EnvelopedData could not be decrypted with this certificate authority’s key.');
  }
}

export async function openEnvelope(der: Uint8Array, certificate: pkijs.Certificate, privateKeyPkcs8: Uint8Array): Promise<Buffer> {
  const enveloped = parseEnvelopedData(der);
  const recipient = enveloped.recipientInfos[0];
  if (recipient?.variant === 1) {
    const transport = recipient.value as pkijs.KeyTransRecipientInfo;
    if (transport.keyEncryptionAlgorithm.algorithmId === RSA_ENCRYPTION) return openPkcs1(enveloped, transport, privateKeyPkcs8);
  }
  try {
    return Buffer.from(
      await enveloped.decrypt(0, { recipientCertificate: certificate, recipientPrivateKey: toArrayBuffer(privateKeyPkcs8) }),
    );
  } catch {
    throw new CmsError('The EnvelopedData could not be decrypted with this certificate authority’s key.');
  }
}

/** A "degenerate" SignedData: no signers, only certificates (SCEP's certificate reply). */
export function certificatesOnly(certificates: pkijs.Certificate[]): Buffer {
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    signerInfos: [],
    certificates,
  });
  const info = new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.SIGNED_DATA, content: signedData.toSchema(true) });
  return Buffer.from(info.toSchema().toBER(false));
}

export function certificatesOf(der: Uint8Array): pkijs.Certificate[] {
  return (parseSignedData(der).certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
}

/** The value of one RDN attribute (e.g. `2.5.4.11`, OU) of a pkijs name. */
export function rdnValue(name: pkijs.RelativeDistinguishedNames, oid: string): string | undefined {
  const found = name.typesAndValues.find((t) => t.type === oid);
  return found ? String(found.value.valueBlock.value) : undefined;
}

export interface DetachedSignature {
  /** DER of the signer's certificate (the first certificate whose issuer and serial match the signer). */
  certificateDer: Buffer;
  /** The signer's identifier (issuer and serial number, DER in base64): a cheap key for the certificate. */
  signerId: string;
  /** Verifies the signature with the signer's public key; false when the content or signature does not match. */
  verifyWith(publicKey: KeyObject): boolean;
}

const DIGESTS: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.3.14.3.2.26': 'sha1',
};

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first value byte. */
  valueStart: number;
  /** Offset just past the value. */
  end: number;
}

/** One DER TLV at `offset` (definite lengths only, as DER requires). */
function tlv(buf: Buffer, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new CmsError('The CMS message is truncated.');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new CmsError('The CMS message uses a multi-byte tag.');
  let length = buf[offset + 1] as number;
  let valueStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new CmsError('The CMS message is not DER (indefinite or oversized length).');
    if (valueStart + count > limit) throw new CmsError('The CMS message is truncated.');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[valueStart + i] as number);
    valueStart += count;
  }
  const end = valueStart + length;
  if (end > limit) throw new CmsError('The CMS message is truncated.');
  return { tag, start: offset, valueStart, end };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.valueStart; at < parent.end;) {
    const child = tlv(buf, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

function oidText(buf: Buffer, t: Tlv): string {
  if (t.tag !== 0x06 || t.end === t.valueStart) throw new CmsError('Expected an object identifier.');
  const parts: number[] = [];
  let value = 0;
  for (let i = t.valueStart; i < t.end; i++) {
    const byte = buf[i] as number;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

const raw = (buf: Buffer, t: Tlv) => buf.subarray(t.start, t.end);

/** The raw issuer Name and serialNumber INTEGER of a certificate's DER. */
function issuerAndSerialOf(buf: Buffer, certificate: Tlv): { issuer: Buffer; serial: Buffer } {
  const [tbs] = children(buf, certificate);
  if (!tbs || tbs.tag !== 0x30) throw new CmsError('A carried certificate is not valid DER.');
  const fields = children(buf, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const serial = fields[offset];
  const issuer = fields[offset + 2];
  if (!serial || !issuer) throw new CmsError('A carried certificate is not valid DER.');
  return { issuer: raw(buf, issuer), serial: raw(buf, serial) };
}

/**
 * The hot path of `Mdm-Signature`: walks a detached SignedData's DER once (no ASN.1 object model:
 * asn1js takes milliseconds per message) and verifies it with Node's crypto against a public key the
 * caller caches per certificate. Signed attributes are required, as Apple devices send them: the
 * messageDigest must be the content's digest and the signature is over the DER SET of the attributes.
 */
export function parseDetachedSignature(der: Uint8Array, content: Uint8Array): DetachedSignature {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const contentInfo = tlv(buf, 0, buf.length);
  const [type, explicit] = contentInfo.tag === 0x30 ? children(buf, contentInfo) : [];
  if (!type || !explicit || oidText(buf, type) !== OID.signedData || explicit.tag !== 0xa0)
    throw new CmsError('The CMS message is not SignedData.');
  const [signedData] = children(buf, explicit);
  if (!signedData || signedData.tag !== 0x30) throw new CmsError('The SignedData is not valid DER.');
  const fields = children(buf, signedData);
  const certificates = fields.find((f) => f.tag === 0xa0);
  const signerInfos = fields.at(-1);
  if (!signerInfos || signerInfos.tag !== 0x31) throw new CmsError('The SignedData has no signerInfos.');
  const [signerInfo] = children(buf, signerInfos);
  if (!signerInfo) throw new CmsError('The SignedData has no signer.');
  const [, sid, digestAlgorithm, attrs, , signatureValue] = children(buf, signerInfo);
  if (!sid || sid.tag !== 0x30 || !digestAlgorithm || !attrs || attrs.tag !== 0xa0 || !signatureValue || signatureValue.tag !== 0x04) {
    throw new CmsError('The signer must name its certificate by issuer and serial and carry signed attributes.');
  }
  const digestOid = children(buf, digestAlgorithm)[0];
  const hash = digestOid ? DIGESTS[oidText(buf, digestOid)] : undefined;
  if (!hash) throw new CmsError('Unsupported digest algorithm.');
  let digest: Buffer | undefined;
  for (const attribute of children(buf, attrs)) {
    const [attrType, values] = children(buf, attribute);
    if (attrType && values && oidText(buf, attrType) === OID.messageDigest) {
      const value = children(buf, values)[0];
      if (value?.tag === 0x04) digest = buf.subarray(value.valueStart, value.end);
    }
  }
  if (!digest) throw new CmsError('The signature has no messageDigest attribute.');
  const [sidIssuer, sidSerial] = children(buf, sid);
  if (!sidIssuer || !sidSerial) throw new CmsError('The signer identifier is not valid DER.');
  const signer = (certificates ? children(buf, certificates) : []).find((c) => {
    const { issuer, serial } = issuerAndSerialOf(buf, c);
    return issuer.equals(raw(buf, sidIssuer)) && serial.equals(raw(buf, sidSerial));
  });
  if (!signer) throw new CmsError('The SignedData does not carry the signer’s certificate.');
  const digestOk = createHash(hash).update(content).digest().equals(digest);
  // The signature covers the attributes' DER with the SET tag, not the [0] IMPLICIT tag they carry.
  const signedBytes = Buffer.from(raw(buf, attrs));
  signedBytes[0] = 0x31;
  const signature = buf.subarray(signatureValue.valueStart, signatureValue.end);
  return {
    certificateDer: Buffer.from(raw(buf, signer)),
    signerId: raw(buf, sid).toString('base64'),
    verifyWith: (publicKey) => {
      if (!digestOk) return false;
      try {
        return cryptoVerify(hash, signedBytes, publicKey, signature);
      } catch {
        return false;
      }
    },
  };
}
