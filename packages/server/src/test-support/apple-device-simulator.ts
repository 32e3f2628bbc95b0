/**
 * A simulated iPhone, iPad or Mac speaking Apple's MDM protocols the way a real device does: it
 * downloads the enrollment profile and checks its signature, enrolls through SCEP (its own RSA
 * key, a self-signed certificate for the PKCSReq, the challenge from the profile), then sends
 * check-in and command messages signed with its identity key (`Mdm-Signature`) and answers
 * commands with realistic property lists. Used by the tests and the load benchmark.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { build, parse, type PlistValue } from 'plist';
import {
  certificateFromDer,
  certificatesOf,
  envelope,
  type KeyTransport,
  OID,
  openEnvelope,
  SCEP_MESSAGE_TYPE,
  signContent,
  verifySignedData,
} from '../domain/apple-mdm/cms.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type Dict = { [key: string]: PlistValue };

export interface SimRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}
export interface SimResponse {
  status: number;
  contentType: string;
  body: Buffer;
}
export type SimTransport = (request: SimRequest) => Promise<SimResponse>;

/** Requests through Fastify's `inject` (no sockets). */
export function injectTransport(app: {
  inject(o: object): Promise<{ statusCode: number; headers: Record<string, unknown>; rawPayload: Buffer }>;
}): SimTransport {
  return async (r) => {
    const res = await app.inject({ method: r.method, url: r.url, headers: r.headers, ...(r.body ? { payload: r.body } : {}) });
    return {
      status: res.statusCode,
      contentType: typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : '',
      body: res.rawPayload,
    };
  };
}

/** Requests over HTTP to a listening server. */
export function httpTransport(baseUrl: string): SimTransport {
  return async (r) => {
    const res = await fetch(new URL(r.url, baseUrl), { method: r.method, headers: r.headers, ...(r.body ? { body: r.body } : {}) });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
  };
}

export interface SimulatedApp {
  Identifier: string;
  Name: string;
  ShortVersion: string;
  BundleSize: number;
  /** Installed by the organization (what `ManagedAppsOnly` returns). */
  managed: boolean;
}

export interface DeviceProfile {
  udid: string;
  serialNumber: string;
  productName: string;
  model: string;
  modelName: string;
  deviceName: string;
  osVersion: string;
  buildVersion: string;
  wifiMac: string;
  imei?: string;
  capacityGb: number;
  availableGb: number;
  passcodePresent: boolean;
  hardwareEncryptionCaps: number;
  fileVault?: boolean;
  apps: SimulatedApp[];
}

export function iPhone(overrides: Partial<DeviceProfile> = {}): DeviceProfile {
  const serial = randomBytes(6).toString('hex').toUpperCase();
  return {
    udid: `0000${randomBytes(4).toString('hex').toUpperCase()}-${randomBytes(8).toString('hex').toUpperCase()}`,
    serialNumber: serial,
    productName: 'iPhone15,2',
    model: 'MQ0G3',
    modelName: 'iPhone',
    deviceName: `iPhone-${serial.slice(0, 4)}`,
    osVersion: '17.5.1',
    buildVersion: '21F90',
    wifiMac: 'a4:83:e7:12:34:56',
    imei: '35 391110 123456 7',
    capacityGb: 128,
    availableGb: 51.25,
    passcodePresent: true,
    hardwareEncryptionCaps: 3,
    apps: [
      { Identifier: 'com.example.mail', Name: 'Company Mail', ShortVersion: '4.2', BundleSize: 41_000_000, managed: true },
      { Identifier: 'com.example.game', Name: 'Personal Game', ShortVersion: '1.0', BundleSize: 120_000_000, managed: false },
    ],
    ...overrides,
  };
}

export interface ReceivedCommand {
  uuid: string;
  requestType: string;
  command: Dict;
  answered: 'Acknowledged' | 'Error' | 'NotNow' | 'CommandFormatError';
}

const RSA_SIGN: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

/** A plist string (or number) as text; anything else is empty. */
function text(value: PlistValue | undefined): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function asDict(value: PlistValue | undefined): Dict {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date || ArrayBuffer.isView(value)) {
    throw new Error('expected a dictionary');
  }
  return value;
}

export interface Identity {
  certificate: x509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
}

export async function rsaKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(RSA_SIGN, true, ['sign', 'verify']);
}

/** A self-signed certificate for `keys` (the SCEP requester's, or a stranger's CA). */
export async function selfSigned(keys: webcrypto.CryptoKeyPair, name: string, ca = false): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    keys: keys,
    signingAlgorithm: RSA_SIGN,
    extensions: ca ? [new x509.BasicConstraintsExtension(true, 0, true)] : [],
  });
}

export class AppleDeviceSimulator {
  /** Profiles installed by InstallProfile, by PayloadIdentifier. */
  readonly installedProfiles = new Map<string, Dict>();
  readonly received: ReceivedCommand[] = [];
  locked = false;
  /** Identity certificates renewed by reinstalling the MDM profile. */
  renewals = 0;
  checkedOut = false;
  /** Request types answered NotNow (each once) in the next session. */
  readonly notNowOnce = new Set<string>();
  /** Answers InstalledApplicationList with every app even when asked for managed ones only (a misbehaving device). */
  ignoreManagedAppsOnly = false;
  /** Extra keys slipped into DeviceInformation answers (to test refusals). */
  extraQueryResponses: Dict = {};
  pushToken = randomBytes(32);
  pushMagic = randomUUID().toUpperCase();

  constructor(
    readonly transport: SimTransport,
    readonly device: DeviceProfile,
    public identity: Identity,
    readonly mdm: { serverUrl: string; checkInUrl: string; topic: string; profileIdentifier: string },
  ) {}

  /**
   * Enrolls the way a device installing the profile does: profile, SCEP (GetCACaps, GetCACert,
   * PKIOperation), Authenticate and TokenUpdate. `caTrust`: the certificate the profile must be signed by.
   */
  static async enroll(transport: SimTransport, token: string, device: DeviceProfile = iPhone()): Promise<AppleDeviceSimulator> {
    const sim = await AppleDeviceSimulator.install(transport, token, device);
    await sim.expectOk(await sim.checkIn({ MessageType: 'Authenticate', ...sim.authenticateFields() }), 'Authenticate');
    await sim.expectOk(await sim.tokenUpdate(), 'TokenUpdate');
    return sim;
  }

  /** Profile and SCEP only: the device holds its identity but has not checked in yet. */
  /** `keyTransport`: how the PKCSReq's envelope is encrypted to the CA (Apple devices use PKCS#1 v1.5). */
  static async install(
    transport: SimTransport,
    token: string,
    device: DeviceProfile = iPhone(),
    keyTransport: KeyTransport = 'pkcs1',
  ): Promise<AppleDeviceSimulator> {
    const profileRes = await transport({ method: 'GET', url: `/mdm/apple/enroll?token=${encodeURIComponent(token)}`, headers: {} });
    if (profileRes.status !== 200) throw new Error(`enrollment profile: ${profileRes.status} ${profileRes.body.toString()}`);
    const signed = await verifySignedData(profileRes.body);
    const profile = asDict(parse(signed.content.toString('utf8')));
    const payloads = (profile['PayloadContent'] as PlistValue[]).map(asDict);
    const rootPayload = payloads.find((p) => p['PayloadType'] === 'com.apple.security.root');
    const scepPayload = payloads.find((p) => p['PayloadType'] === 'com.apple.security.scep');
    const mdmPayload = payloads.find((p) => p['PayloadType'] === 'com.apple.mdm');
    if (!rootPayload || !scepPayload || !mdmPayload) throw new Error('the profile lacks its root, SCEP or MDM payload');
    const root = new x509.X509Certificate(Buffer.from(rootPayload['PayloadContent'] as Uint8Array));
    const profileSigner = new x509.X509Certificate(Buffer.from(signed.signer.toSchema(true).toBER(false)));
    if (!(await profileSigner.verify({ publicKey: root })) || profileSigner.subject !== root.subject) {
      throw new Error('the profile is not signed by the organization CA it installs');
    }
    if (mdmPayload['IdentityCertificateUUID'] !== scepPayload['PayloadUUID'] || mdmPayload['SignMessage'] !== true) {
      throw new Error('the MDM payload does not use the SCEP identity with signed messages');
    }
    const identity = await AppleDeviceSimulator.scepFromPayload(transport, scepPayload, keyTransport);
    const path = (url: PlistValue | undefined) => new URL(text(url)).pathname;
    return new AppleDeviceSimulator(transport, device, identity, {
      serverUrl: path(mdmPayload['ServerURL']),
      checkInUrl: path(mdmPayload['CheckInURL']),
      topic: text(mdmPayload['Topic']),
      profileIdentifier: text(profile['PayloadIdentifier']),
    });
  }

  /** SCEP as a profile's SCEP payload describes it: GetCACaps, GetCACert, then PKIOperation. */
  static async scepFromPayload(transport: SimTransport, scepPayload: Dict, keyTransport: KeyTransport = 'pkcs1'): Promise<Identity> {
    const scep = asDict(scepPayload['PayloadContent']);
    const scepPath = new URL(text(scep['URL'])).pathname;
    const caps = await transport({ method: 'GET', url: `${scepPath}?operation=GetCACaps`, headers: {} });
    if (caps.status !== 200 || !caps.body.toString().includes('POSTPKIOperation')) throw new Error(`GetCACaps: ${caps.status}`);
    const caRes = await transport({
      method: 'GET',
      url: `${scepPath}?operation=GetCACert&message=${encodeURIComponent(text(scep['Name']))}`,
      headers: {},
    });
    if (caRes.status !== 200) throw new Error(`GetCACert: ${caRes.status} ${caRes.body.toString()}`);
    const ca = new x509.X509Certificate(caRes.body);
    return AppleDeviceSimulator.scepEnroll(transport, scepPath, ca, text(scep['Challenge']), scep, keyTransport);
  }

  static async scepEnroll(
    transport: SimTransport,
    scepPath: string,
    ca: x509.X509Certificate,
    challenge: string,
    scep: Dict = {},
    keyTransport: KeyTransport = 'pkcs1',
  ): Promise<Identity> {
    const keys = await rsaKeys();
    const subject = Array.isArray(scep['Subject'])
      ? 'CN=' + text(((scep['Subject'] as PlistValue[][])[0]?.[0] as PlistValue[])[1])
      : 'CN=device';
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: subject,
      keys: keys,
      signingAlgorithm: RSA_SIGN,
      attributes: [new x509.ChallengePasswordAttribute(challenge)],
    });
    const requester = await selfSigned(keys, subject);
    const nonce = randomBytes(16);
    const message = await signContent(
      await envelope(new Uint8Array(csr.rawData), certificateFromDer(new Uint8Array(ca.rawData)), keyTransport),
      { certificate: certificateFromDer(new Uint8Array(requester.rawData)), privateKey: keys.privateKey },
      {
        attributes: [
          { oid: OID.scepMessageType, printable: SCEP_MESSAGE_TYPE.pkcsReq },
          { oid: OID.scepTransactionId, printable: randomBytes(20).toString('hex') },
          { oid: OID.scepSenderNonce, octets: nonce },
        ],
      },
    );
    const res = await transport({
      method: 'POST',
      url: `${scepPath}?operation=PKIOperation`,
      headers: { 'content-type': 'application/x-pki-message' },
      body: message,
    });
    if (res.status !== 200) throw new Error(`PKIOperation: ${res.status} ${res.body.toString()}`);
    const reply = await verifySignedData(res.body);
    const replySigner = new x509.X509Certificate(Buffer.from(reply.signer.toSchema(true).toBER(false)));
    if (replySigner.subject !== ca.subject || !(await replySigner.verify({ publicKey: ca })))
      throw new Error('the CertRep is not signed by the CA');
    if (reply.attributes.get(OID.scepPkiStatus)?.toString() !== '0') throw new Error('SCEP answered with a failure');
    if (!reply.attributes.get(OID.scepRecipientNonce)?.equals(nonce)) throw new Error('the CertRep does not answer our nonce');
    const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const degenerate = await openEnvelope(reply.content, certificateFromDer(new Uint8Array(requester.rawData)), pkcs8);
    const issued = certificatesOf(degenerate)[0];
    if (!issued) throw new Error('the CertRep holds no certificate');
    return { certificate: new x509.X509Certificate(Buffer.from(issued.toSchema(true).toBER(false))), keys };
  }

  authenticateFields(): Dict {
    const d = this.device;
    return {
      UDID: d.udid,
      Topic: this.mdm.topic,
      BuildVersion: d.buildVersion,
      OSVersion: d.osVersion,
      ProductName: d.productName,
      SerialNumber: d.serialNumber,
      DeviceName: d.deviceName,
      Model: d.model,
      ModelName: d.modelName,
    };
  }

  tokenUpdate(): Promise<SimResponse> {
    return this.checkIn({
      MessageType: 'TokenUpdate',
      UDID: this.device.udid,
      Topic: this.mdm.topic,
      Token: this.pushToken,
      PushMagic: this.pushMagic,
      UnlockToken: randomBytes(64),
      AwaitingConfiguration: false,
    });
  }

  /**
   * The exact message a device polls with when it has nothing to report, with its signature and the
   * RFC 9440 `Client-Cert` header a TLS-terminating proxy adds after authenticating the device.
   */
  async signedIdle(): Promise<{ body: string; signature: string; clientCert: string }> {
    const body = build({ UDID: this.device.udid, Status: 'Idle' });
    return { body, signature: await this.sign(Buffer.from(body)), clientCert: this.clientCertHeader() };
  }

  /** The RFC 9440 `Client-Cert` header value for the device's identity certificate (`:base64-DER:`). */
  clientCertHeader(): string {
    return `:${Buffer.from(this.identity.certificate.rawData).toString('base64')}:`;
  }

  /**
   * The `Mdm-Signature` header for a body: a detached CMS SignedData by the identity key, with a
   * signing time as iOS devices include (so two signatures of the same body differ).
   */
  async sign(body: Buffer, identity: Identity = this.identity): Promise<string> {
    const der = await signContent(
      body,
      { certificate: certificateFromDer(new Uint8Array(identity.certificate.rawData)), privateKey: identity.keys.privateKey },
      { detached: true, signingTime: new Date() },
    );
    return der.toString('base64');
  }

  async send(path: string, body: Buffer, contentType: string, headers: Record<string, string> = {}): Promise<SimResponse> {
    return this.transport({
      method: 'PUT',
      url: path,
      headers: { 'content-type': contentType, 'mdm-signature': await this.sign(body), ...headers },
      body,
    });
  }

  checkIn(message: Dict): Promise<SimResponse> {
    return this.send(this.mdm.checkInUrl, Buffer.from(build(message)), 'application/x-apple-aspen-mdm-checkin');
  }

  connect(message: Dict): Promise<SimResponse> {
    return this.send(this.mdm.serverUrl, Buffer.from(build({ UDID: this.device.udid, ...message })), 'application/x-apple-aspen-mdm');
  }

  /**
   * One session as after a push: Idle, then an answer to each command until the server sends an
   * empty 200. Returns the commands handled in this session.
   */
  async session(limit = 50): Promise<ReceivedCommand[]> {
    const handled: ReceivedCommand[] = [];
    let res = await this.connect({ Status: 'Idle' });
    for (let i = 0; i < limit; i++) {
      if (res.status !== 200) throw new Error(`command endpoint: ${res.status} ${res.body.toString()}`);
      if (res.body.length === 0) return handled;
      const message = asDict(parse(res.body.toString('utf8')));
      const uuid = text(message['CommandUUID']);
      const command = asDict(message['Command']);
      const requestType = text(command['RequestType']);
      const { status, fields } = await this.answer(requestType, command);
      const record: ReceivedCommand = { uuid, requestType, command, answered: status };
      handled.push(record);
      this.received.push(record);
      res = await this.connect({ Status: status, CommandUUID: uuid, ...fields });
      if (this.checkedOut) return handled;
    }
    throw new Error('the session did not end');
  }

  private async answer(requestType: string, command: Dict): Promise<{ status: ReceivedCommand['answered']; fields: Dict }> {
    if (this.notNowOnce.delete(requestType)) return { status: 'NotNow', fields: {} };
    const d = this.device;
    switch (requestType) {
      case 'DeviceInformation': {
        const all: Dict = {
          DeviceName: d.deviceName,
          Model: d.model,
          ModelName: d.modelName,
          ProductName: d.productName,
          OSVersion: d.osVersion,
          BuildVersion: d.buildVersion,
          SerialNumber: d.serialNumber,
          WiFiMAC: d.wifiMac,
          DeviceCapacity: d.capacityGb,
          AvailableDeviceCapacity: d.availableGb,
          IsSupervised: false,
          CellularTechnology: d.imei ? 1 : 0,
          ...(d.imei ? { IMEI: d.imei } : {}),
        };
        const queries = Array.isArray(command['Queries']) ? (command['Queries'] as string[]) : Object.keys(all);
        const responses: Dict = {};
        for (const q of queries) if (all[q] !== undefined) responses[q] = all[q];
        return { status: 'Acknowledged', fields: { QueryResponses: { ...responses, ...this.extraQueryResponses } } };
      }
      case 'SecurityInfo':
        return {
          status: 'Acknowledged',
          fields: {
            SecurityInfo: {
              HardwareEncryptionCaps: d.hardwareEncryptionCaps,
              PasscodePresent: d.passcodePresent,
              PasscodeCompliant: d.passcodePresent,
              PasscodeCompliantWithProfiles: true,
              ...(d.fileVault === undefined ? {} : { FDE_Enabled: d.fileVault }),
            },
          },
        };
      case 'InstalledApplicationList': {
        const managedOnly = command['ManagedAppsOnly'] === true && !this.ignoreManagedAppsOnly;
        const apps = d.apps
          .filter((a) => !managedOnly || a.managed)
          .map(({ managed: _managed, ...app }) => ({ ...app, Version: app.ShortVersion }));
        return { status: 'Acknowledged', fields: { InstalledApplicationList: apps } };
      }
      case 'ProfileList':
        return {
          status: 'Acknowledged',
          fields: { ProfileList: [...this.installedProfiles.keys()].map((id) => ({ PayloadIdentifier: id })) },
        };
      case 'InstallProfile': {
        const payload = command['Payload'];
        if (!ArrayBuffer.isView(payload)) return { status: 'CommandFormatError', fields: {} };
        // A signed profile (DER SignedData) or a plain XML one.
        const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
        const content = bytes[0] === 0x30 ? (await verifySignedData(bytes)).content : bytes;
        const profile = asDict(parse(content.toString('utf8')));
        const identifier = text(profile['PayloadIdentifier']);
        if (identifier === this.mdm.profileIdentifier) {
          // The MDM profile again (an identity renewal): SCEP with its new challenge, then sign
          // with the new identity from the answer to this command on.
          const payloads = (profile['PayloadContent'] as PlistValue[]).map(asDict);
          const scepPayload = payloads.find((p) => p['PayloadType'] === 'com.apple.security.scep');
          if (!scepPayload) return { status: 'Error', fields: {} };
          this.identity = await AppleDeviceSimulator.scepFromPayload(this.transport, scepPayload);
          this.renewals++;
          return { status: 'Acknowledged', fields: {} };
        }
        this.installedProfiles.set(identifier, profile);
        return { status: 'Acknowledged', fields: {} };
      }
      case 'RemoveProfile': {
        const id = text(command['Identifier']);
        if (id === this.mdm.profileIdentifier) {
          this.installedProfiles.clear();
          this.checkedOut = true;
          return { status: 'Acknowledged', fields: {} };
        }
        if (!this.installedProfiles.delete(id)) {
          return {
            status: 'Error',
            fields: {
              ErrorChain: [{ ErrorCode: 89, ErrorDomain: 'MCProfileErrorDomain', LocalizedDescription: 'The profile is not installed.' }],
            },
          };
        }
        return { status: 'Acknowledged', fields: {} };
      }
      case 'DeviceLock':
        this.locked = true;
        return { status: 'Acknowledged', fields: {} };
      case 'RestartDevice':
      case 'EraseDevice':
      case 'Settings':
        return { status: 'Acknowledged', fields: {} };
      default:
        return { status: 'CommandFormatError', fields: {} };
    }
  }

  private async expectOk(res: SimResponse, what: string): Promise<void> {
    if (res.status !== 200) throw new Error(`${what}: ${res.status} ${res.body.toString()}`);
  }
}

/** A stand-in for Apple's MDM push certificate: the topic in the subject UID. */
export async function applePushCertificate(topic = `com.apple.mgmt.External.${randomUUID()}`) {
  const keys = await rsaKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `0.9.2342.19200300.100.1.1=${topic}, CN=APSP:${topic}, C=US`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600_000),
    keys: keys,
    signingAlgorithm: RSA_SIGN,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certificatePem: certificate.toString('pem'), privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), topic };
}
