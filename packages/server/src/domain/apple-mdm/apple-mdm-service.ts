/**
 * Apple MDM (SPEC §7): the enrollment profile, the check-in protocol
 * (`application/x-apple-aspen-mdm-checkin`) and the command protocol (`application/x-apple-aspen-mdm`),
 * mapped into the common device, inventory, compliance and command model.
 *
 * Never a 401: an MDM client that receives one may unenroll. Refusals are 400 (malformed or unknown
 * message), 403 (signature, retired device), 409 (a certificate or device bound elsewhere) or 410
 * (user channel authentication, declined), each a problem document with a stable code.
 */
import 'reflect-metadata';
import { createHash, createPrivateKey, createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { DeliveredCommand } from '@custos/shared';
import { authorize, type Actor } from '../access/authorize.js';
import { recordAudit, recordDeviceAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { ComplianceService } from '../compliance/compliance-service.js';
import type { DeviceRecord } from '../devices/device-store.js';
import type { ProfileService } from '../profiles/profile-service.js';
import type { ConfigurationProfileRecord } from '../profiles/profile-store.js';
import { appsToStore } from '../devices/inventory-ingestion.js';
import { DomainError } from '../domain-error.js';
import type { SecretBox } from '../secret-box.js';
import { hashSecret, tenantOfSecret } from '../secrets.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { CertificateAuthorityRecord } from '../tenants/tenant-stores.js';
import {
  appsFromInstalledApplicationList,
  DEVICE_INFORMATION_QUERIES,
  hardwareFromDeviceInformation,
  hardwareFromSecurityInfo,
  platformOfProduct,
} from './apple-inventory.js';
import type { AppleIdentity } from './apple-identity.js';
import type { AppleCommandRecord, AppleDeviceRecord, AppleEnrollmentRecord } from './apple-mdm-store.js';
import { appleProfileIdentifier, mobileconfigOf, type AppleProfileDelivery, type AppleProfileTarget } from './apple-profiles.js';
import { signContent } from './cms.js';
import {
  bool,
  buildPlist,
  data as plistData,
  dict,
  num,
  parsePlistDict,
  requireString,
  str,
  type PlistDict,
  type PlistValue,
} from './plist-codec.js';
import { caSigner, hashChallenge } from './scep-service.js';

export interface AppleMdmReply {
  status: number;
  contentType?: string;
  body: string | Buffer;
}

export interface PushCertificateInfo {
  topic: string;
  notAfter: string;
  uploadedAt: string;
}

/** Asks APNs to wake a device (see apns-provider.ts); absent when no provider is configured. */
export type ApplePusher = (tenantId: string, deviceIds: readonly string[]) => Promise<void>;

const EMPTY: AppleMdmReply = { status: 200, body: '' };

/** What the command endpoint needs of a device: fixed once it has authenticated. */
/** A profile the device acknowledged installing: the PayloadIdentifier it has it under, and the payload sent. */
interface InstalledProfile {
  identifier: string;
  payload: Buffer | undefined;
}

type DeviceBinding = Pick<AppleDeviceRecord, 'deviceId' | 'enrollmentId' | 'certificateSerial'>;
const PROFILE_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
const TOPIC_PREFIX = 'com.apple.mgmt.';
const UID_OID = '0.9.2342.19200300.100.1.1';
export const ACCESS_RIGHTS_ALL = 8191;
/** Priorities: destructive actions first, then configuration, then inventory queries. */
const PRIORITY = { action: 20, profile: 10, inventory: 0 } as const;
const NO_ENROLLMENT_STATES = new Set(['suspended', 'retention', 'purged']);

const invalidMessage = (detail: string) => new DomainError('apple-mdm-message-invalid', detail);
const retired = () => new DomainError('device-not-active', 'This device was retired; it receives no more commands.');
/**
 * How fresh an Apple device's stored check-in time is kept by `Idle` polls: it is rewritten when
 * older than this, not on every poll (the admin console shows it to the minute).
 */
const CHECK_IN_RESOLUTION_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Identity certificates are renewed this long before they end (they last DEVICE_CERTIFICATE_DAYS). */
export const IDENTITY_RENEWAL_DAYS = 60;
const RENEWAL_ACTOR: Actor = { type: 'system', id: 'scheduler', name: 'Apple MDM identity renewal' };

/** The `Command` dictionary as stored: JSON, with binary data as `{ "$data": base64 }`. */
export function encodeCommand(command: PlistDict): string {
  return JSON.stringify(command, (_key, value: unknown) =>
    value &&
    typeof value === 'object' &&
    (value as { type?: string }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
      ? { $data: Buffer.from((value as { data: number[] }).data).toString('base64') }
      : value,
  );
}

export function decodeCommand(text: string): PlistDict {
  return JSON.parse(text, (_key, value: unknown) =>
    value && typeof value === 'object' && typeof (value as { $data?: unknown }).$data === 'string'
      ? Buffer.from((value as { $data: string }).$data, 'base64')
      : value,
  ) as PlistDict;
}

export function mdmProfileIdentifier(enrollmentId: string): string {
  return `io.custos.mdm.${enrollmentId}`;
}

/** An enrollment not used yet, with its own SCEP challenge, for the token, ownership, user and tags of `base`. */
function newEnrollment(
  base: Pick<AppleEnrollmentRecord, 'tokenId' | 'ownership' | 'userEmail' | 'scopeTags'>,
  id: string,
  challenge: string,
  now: number,
  renewsDeviceId: string | null,
): AppleEnrollmentRecord {
  return {
    id,
    tokenId: base.tokenId,
    ownership: base.ownership,
    userEmail: base.userEmail,
    scopeTags: base.scopeTags,
    challengeHash: hashChallenge(challenge),
    createdAt: now,
    expiresAt: now + PROFILE_LIFETIME_MS,
    certificateSerial: null,
    udid: null,
    deviceId: null,
    renewsDeviceId,
  };
}

export class AppleMdmService {
  /** A strictly increasing request sequence for the check-in statement (Apple messages carry none). */
  private lastSeq = 0;
  private lastStamp = 0;
  private readonly bindings = new Map<string, DeviceBinding>();
  private pusher: ApplePusher | undefined;

  constructor(
    private readonly tenants: TenantService,
    private readonly compliance: ComplianceService,
    private readonly box: SecretBox,
    private readonly publicUrl: string,
    private readonly clock: Clock,
  ) {}

  private profiles: ProfileService | undefined;
  /** Configuration profiles: Apple devices get theirs when they finish enrolling. */
  setProfiles(profiles: ProfileService): void {
    this.profiles = profiles;
  }

  /** Installs the APNs provider; commands queued for Apple devices then wake them. */
  setPusher(pusher: ApplePusher): void {
    this.pusher = pusher;
  }

  // ---- Push certificate (admin) ----

  async uploadPushCertificate(
    actor: Actor,
    tenantId: string,
    input: { certificatePem: string; privateKeyPem: string },
  ): Promise<PushCertificateInfo> {
    authorize(actor, 'enrollment.write', { tenantId });
    const bad = (detail: string) => new DomainError('apple-mdm-push-certificate-invalid', detail);
    let certificate: x509.X509Certificate;
    try {
      certificate = new x509.X509Certificate(input.certificatePem);
    } catch {
      throw bad('"certificatePem" is not a PEM certificate.');
    }
    const topic = certificate.subjectName.getField(UID_OID)[0];
    if (!topic || !topic.startsWith(TOPIC_PREFIX)) {
      throw bad(`The certificate's subject UID must be the MDM push topic (${TOPIC_PREFIX}…); this is not an MDM push certificate.`);
    }
    const now = this.clock.now();
    if (certificate.notAfter.getTime() <= now) throw bad('The push certificate has expired; renew it at identity.apple.com.');
    let pkcs8: string;
    try {
      const key = createPrivateKey(input.privateKeyPem);
      const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
      if (Buffer.compare(spki, Buffer.from(certificate.publicKey.rawData)) !== 0)
        throw bad('The private key does not belong to the certificate.');
      pkcs8 = key.export({ format: 'pem', type: 'pkcs8' }).toString();
    } catch (error) {
      if (error instanceof DomainError) throw error;
      throw bad('"privateKeyPem" is not a PEM private key.');
    }
    const record = {
      topic,
      certificatePem: certificate.toString('pem'),
      privateKeySealed: this.box.seal(`${tenantId}/apns`, pkcs8),
      notAfter: certificate.notAfter.getTime(),
      uploadedAt: now,
    };
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      const previous = await trx.appleMdm.getPushCertificate();
      await trx.appleMdm.putPushCertificate(record);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Upload APNs push certificate',
        category: 'Enrollment',
        operation: previous ? 'update' : 'create',
        targets: [
          {
            type: 'applePushCertificate',
            id: topic,
            modifiedProperties: [
              { name: 'topic', oldValue: previous?.topic ?? null, newValue: topic },
              {
                name: 'notAfter',
                oldValue: previous ? new Date(previous.notAfter).toISOString() : null,
                newValue: certificate.notAfter.toISOString(),
              },
            ],
          },
        ],
      });
    });
    return { topic, notAfter: certificate.notAfter.toISOString(), uploadedAt: new Date(now).toISOString() };
  }

  async pushCertificate(actor: Actor, tenantId: string): Promise<PushCertificateInfo> {
    authorize(actor, 'enrollment.read', { tenantId });
    const record = await (await this.tenants.data(tenantId)).appleMdm.getPushCertificate();
    if (!record) throw new DomainError('apple-mdm-push-certificate-missing', 'No APNs push certificate has been uploaded.');
    return {
      topic: record.topic,
      notAfter: new Date(record.notAfter).toISOString(),
      uploadedAt: new Date(record.uploadedAt).toISOString(),
    };
  }

  /** The push certificate and its key, for the APNs provider. */
  async pushCredentials(data: TenantData): Promise<{ topic: string; certificatePem: string; privateKeyPem: string } | undefined> {
    const record = await data.appleMdm.getPushCertificate();
    if (!record) return undefined;
    return {
      topic: record.topic,
      certificatePem: record.certificatePem,
      privateKeyPem: this.box.open(`${data.tenantId}/apns`, record.privateKeySealed),
    };
  }

  // ---- Enrollment profile ----

  /**
   * The signed `.mobileconfig` for an enrollment token: a fresh enrollment with its own SCEP
   * challenge (one identity certificate), counted as one use of the token.
   */
  async enrollmentProfile(secret: string): Promise<Buffer> {
    const { data, token, tenantName } = await this.usableToken(secret);
    const push = await data.appleMdm.getPushCertificate();
    if (!push) {
      throw new DomainError(
        'apple-mdm-push-certificate-missing',
        'Apple devices cannot enroll yet: IT has not uploaded an APNs push certificate.',
      );
    }
    const ca = await data.certificateAuthority.get();
    if (!ca) throw new Error(`Tenant ${data.tenantId} has no certificate authority.`);
    const now = this.clock.now();
    const enrollmentId = randomUUID();
    const challenge = randomBytes(32).toString('base64url');
    await data.transaction(async (trx) => {
      if (!(await trx.enrollmentTokens.consumeUse(token.id, now))) {
        throw new DomainError('enrollment-token-exhausted', 'The enrollment token was used up by another device.');
      }
      await trx.appleMdm.insertEnrollment(
        newEnrollment(
          { tokenId: token.id, ownership: token.ownership, userEmail: token.userEmail, scopeTags: token.scopeTags ?? [] },
          enrollmentId,
          challenge,
          now,
          null,
        ),
      );
      await recordDeviceAudit(trx, { id: enrollmentId, name: `Apple enrollment ${enrollmentId}` }, now, {
        activity: 'Serve Apple enrollment profile',
        category: 'Enrollment',
        operation: 'create',
        targets: [
          {
            type: 'appleEnrollment',
            id: enrollmentId,
            modifiedProperties: [
              { name: 'enrollmentTokenId', oldValue: null, newValue: token.id },
              { name: 'ownership', oldValue: null, newValue: token.ownership },
            ],
          },
        ],
      });
    });
    return this.signedEnrollmentProfile(data.tenantId, tenantName, ca, push.topic, {
      enrollmentId,
      identifier: mdmProfileIdentifier(enrollmentId),
      challenge,
    });
  }

  /**
   * The signed `.mobileconfig`: the tenant CA, a SCEP payload with the enrollment's challenge, and
   * the MDM payload using that identity. `identifier` is the profile's PayloadIdentifier: a renewal
   * keeps the device's first one, so the device replaces its MDM profile in place.
   */
  private async signedEnrollmentProfile(
    tenantId: string,
    tenantName: string,
    ca: CertificateAuthorityRecord,
    topic: string,
    { enrollmentId, identifier, challenge }: { enrollmentId: string; identifier: string; challenge: string },
  ): Promise<Buffer> {
    const base = this.publicUrl.replace(/\/+$/, '');
    const scepUuid = randomUUID().toUpperCase();
    const payload = (type: string, suffix: string, uuid: string, display: string, extra: PlistDict): PlistDict => ({
      PayloadType: type,
      PayloadVersion: 1,
      PayloadIdentifier: `${identifier}.${suffix}`,
      PayloadUUID: uuid,
      PayloadDisplayName: display,
      ...extra,
    });
    const profile: PlistDict = {
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadIdentifier: identifier,
      PayloadUUID: randomUUID().toUpperCase(),
      PayloadDisplayName: `${tenantName} device management`,
      PayloadOrganization: tenantName,
      PayloadDescription: `Lets ${tenantName} manage this device with Custos.`,
      PayloadScope: 'System',
      PayloadContent: [
        payload('com.apple.security.root', 'ca', randomUUID().toUpperCase(), `${tenantName} device CA`, {
          PayloadContent: Buffer.from(x509.PemConverter.decodeFirst(ca.certificatePem)),
        }),
        payload('com.apple.security.scep', 'scep', scepUuid, 'Device identity', {
          PayloadContent: {
            URL: `${base}/mdm/apple/scep`,
            Name: tenantId,
            Challenge: challenge,
            Keysize: 2048,
            'Key Type': 'RSA',
            'Key Usage': 5,
            Subject: [[['CN', `Custos ${enrollmentId}`]]],
          },
        }),
        payload('com.apple.mdm', 'mdm', randomUUID().toUpperCase(), 'Device management', {
          ServerURL: `${base}/mdm/apple/mdm`,
          CheckInURL: `${base}/mdm/apple/checkin`,
          Topic: topic,
          IdentityCertificateUUID: scepUuid,
          SignMessage: true,
          AccessRights: ACCESS_RIGHTS_ALL,
          CheckOutWhenRemoved: true,
          ServerCapabilities: ['com.apple.mdm.per-user-connections', 'com.apple.mdm.bootstraptoken'],
        }),
      ],
    };
    return signContent(Buffer.from(buildPlist(profile)), await caSigner(ca));
  }

  // ---- Check-in protocol ----

  async checkIn(identity: AppleIdentity, body: Buffer): Promise<AppleMdmReply> {
    const message = parsePlistDict(body);
    const type = str(message, 'MessageType');
    switch (type) {
      case 'Authenticate':
        return this.authenticate(identity, message);
      case 'TokenUpdate':
        return this.tokenUpdate(identity, message);
      case 'CheckOut':
        return this.checkOut(identity, message);
      case 'UserAuthenticate':
        await this.boundDevice(identity, message);
        throw new DomainError('apple-mdm-user-declined', 'Custos does not authenticate users on the user channel.');
      case 'SetBootstrapToken': {
        const device = await this.boundDevice(identity, message);
        const token = plistData(message, 'BootstrapToken');
        await identity.data.appleMdm.setBootstrapToken(
          device.deviceId,
          token && token.length > 0 ? this.box.seal(`${identity.tenantId}/${device.deviceId}/bootstrap`, token.toString('base64')) : null,
        );
        return EMPTY;
      }
      case 'GetBootstrapToken': {
        const device = await this.boundDevice(identity, message);
        const sealed = device.bootstrapTokenSealed;
        const reply: PlistDict = sealed
          ? { BootstrapToken: Buffer.from(this.box.open(`${identity.tenantId}/${device.deviceId}/bootstrap`, sealed), 'base64') }
          : {};
        return { status: 200, contentType: 'application/xml', body: buildPlist(reply) };
      }
      case 'DeclarativeManagement':
        await this.boundDevice(identity, message);
        return this.declarativeManagement(message);
      case undefined:
        throw invalidMessage('The check-in message has no MessageType.');
      default:
        throw invalidMessage(`Unknown check-in MessageType "${type.slice(0, 64)}".`);
    }
  }

  private async authenticate(identity: AppleIdentity, message: PlistDict): Promise<AppleMdmReply> {
    const { data } = identity;
    const udid = requireString(message, 'UDID');
    const enrollment = await data.appleMdm.findEnrollmentByCertificate(identity.serial);
    if (!enrollment) {
      throw new DomainError('apple-mdm-signature-invalid', 'This identity certificate was not issued for an enrollment of this tenant.');
    }
    const existing = await data.appleMdm.findDeviceByUdid(udid);
    // A retired device may enroll again (a new device record); its old Apple binding gives way.
    let previous: AppleDeviceRecord | undefined;
    if (existing) {
      const device = await data.devices.get(existing.deviceId);
      if (device?.status === 'active') {
        if (existing.certificateSerial !== identity.serial) {
          // A device announcing its renewed identity (a renewal enrollment names it).
          if (enrollment.renewsDeviceId === existing.deviceId) {
            await this.adoptRenewal(identity, existing, enrollment.id);
            return EMPTY;
          }
          throw new DomainError(
            'apple-mdm-enrollment-conflict',
            'This device is enrolled with another identity certificate; remove the old enrollment profile before enrolling again.',
          );
        }
        return EMPTY; // The same device repeating its Authenticate: nothing changes.
      }
      if (existing.certificateSerial === identity.serial) {
        throw new DomainError('device-not-active', 'This device was retired. Enroll it again with a new profile.');
      }
      previous = existing;
    }
    if (enrollment.deviceId !== null) {
      throw new DomainError('apple-mdm-enrollment-conflict', 'This identity certificate already enrolled another device.');
    }
    const push = await data.appleMdm.getPushCertificate();
    const topic = str(message, 'Topic');
    if (!push || topic !== push.topic) throw invalidMessage('The Authenticate message names another push topic than this tenant’s.');
    const platform = platformOfProduct(str(message, 'ProductName'), str(message, 'Model'));
    const reported: PlistDict = {};
    for (const key of DEVICE_INFORMATION_QUERIES) if (message[key] !== undefined) reported[key] = message[key];
    const hardware = hardwareFromDeviceInformation(reported, platform, 'Authenticate');
    const settings = await this.tenants.settings(identity.tenantId);
    const now = this.clock.now();
    const deviceId = randomUUID();
    const device: DeviceRecord = {
      id: deviceId,
      platform,
      managementChannel: 'apple-mdm',
      ownership: enrollment.ownership,
      status: 'active',
      complianceState: 'unknown',
      appListPolicyApplies: false,
      hardware,
      userEmail: enrollment.userEmail,
      enrollmentTokenId: enrollment.tokenId,
      consent: { privacyStatementVersion: settings.privacyStatement.version, acceptedAt: now, method: 'interactive' },
      certificatePem: identity.certificatePem,
      certificateSerial: identity.serial,
      publicKeySpki: identity.publicKeySpki,
      requestSeq: 0,
      inventoryDigest: null,
      lastCheckInAt: null,
      enrolledAt: now,
      retiredAt: null,
      scopeTags: enrollment.scopeTags,
    };
    await data.transaction(async (trx) => {
      if (!(await trx.appleMdm.bindEnrollment(enrollment.id, udid, deviceId))) {
        throw new DomainError('apple-mdm-enrollment-conflict', 'This identity certificate already enrolled another device.');
      }
      if (previous) await trx.appleMdm.deleteDevice(previous.deviceId);
      await trx.devices.insert(device);
      await trx.appleMdm.insertDevice({
        deviceId,
        udid,
        enrollmentId: enrollment.id,
        certificateSerial: identity.serial,
        certificateNotAfter: identity.notAfter,
        topic: push.topic,
        pushToken: null,
        pushMagic: null,
        pushTokenInvalidAt: null,
        userChannels: [],
        bootstrapTokenSealed: null,
        lastSeenAt: now,
        createdAt: now,
      });
      await recordDeviceAudit(trx, { id: deviceId, name: String(hardware['deviceName'] ?? deviceId) }, now, {
        activity: 'Enroll device',
        category: 'Enrollment',
        operation: 'create',
        targets: [
          {
            type: 'device',
            id: deviceId,
            modifiedProperties: [
              { name: 'ownership', oldValue: null, newValue: device.ownership },
              { name: 'platform', oldValue: null, newValue: platform },
              { name: 'managementChannel', oldValue: null, newValue: 'apple-mdm' },
              { name: 'enrollmentTokenId', oldValue: null, newValue: enrollment.tokenId },
            ],
          },
        ],
      });
    });
    return EMPTY;
  }

  private async tokenUpdate(identity: AppleIdentity, message: PlistDict): Promise<AppleMdmReply> {
    const device = await this.boundDevice(identity, message);
    const token = plistData(message, 'Token');
    const pushMagic = str(message, 'PushMagic');
    if (!token || token.length === 0 || token.length > 256 || !pushMagic)
      throw invalidMessage('TokenUpdate needs Token (data) and PushMagic.');
    const userId = str(message, 'UserID');
    const { data } = identity;
    if (userId) {
      const channels = device.userChannels.filter((c) => c.userId !== userId);
      channels.push({ userId: userId.slice(0, 128), pushToken: token.toString('hex'), pushMagic: pushMagic.slice(0, 128) });
      await data.appleMdm.setUserChannels(device.deviceId, channels.slice(-16));
      return EMPTY;
    }
    const first = device.pushToken === null;
    await data.transaction(async (trx) => {
      await trx.appleMdm.updatePush(device.deviceId, { pushToken: token.toString('hex'), pushMagic: pushMagic.slice(0, 128) });
      // Enrollment is complete with the first token: the first inventory follows at once.
      if (first) await trx.appleMdm.insertCommands(await this.inventoryCommands(trx, device.deviceId, null, true));
    });
    if (first) {
      // The profiles assigned to it are queued too (ProfileService → deliverProfiles).
      await this.profiles?.refreshDevices(data, [device.deviceId]);
      await this.wake(identity.tenantId, [device.deviceId]);
    }
    return EMPTY;
  }

  private async checkOut(identity: AppleIdentity, message: PlistDict): Promise<AppleMdmReply> {
    const device = await this.boundDevice(identity, message);
    const now = this.clock.now();
    await identity.data.transaction(async (trx) => {
      if (!(await trx.devices.retire(device.deviceId, now))) return;
      await recordDeviceAudit(trx, { id: device.deviceId, name: device.deviceId }, now, {
        activity: 'Retire device',
        category: 'Device',
        operation: 'update',
        targets: [
          { type: 'device', id: device.deviceId, modifiedProperties: [{ name: 'status', oldValue: 'active', newValue: 'retired' }] },
        ],
      });
    });
    return EMPTY;
  }

  private declarativeManagement(message: PlistDict): AppleMdmReply {
    const endpoint = str(message, 'Endpoint');
    const declarationsToken = createHash('sha256').update('custos-declarations-v1').digest('hex');
    const json = (value: unknown): AppleMdmReply => ({ status: 200, contentType: 'application/json', body: JSON.stringify(value) });
    switch (endpoint ?? '') {
      case 'tokens':
        return json({ SyncTokens: { DeclarationsToken: declarationsToken, Timestamp: new Date(0).toISOString() } });
      case 'declaration-items':
        return json({
          Declarations: { Activations: [], Assets: [], Configurations: [], Management: [] },
          DeclarationsToken: declarationsToken,
        });
      case 'status': {
        const report = plistData(message, 'Data');
        if (report) {
          try {
            JSON.parse(report.toString('utf8'));
          } catch {
            throw invalidMessage('The declarative status report is not JSON.');
          }
        }
        return EMPTY;
      }
      default:
        throw invalidMessage(`Unknown DeclarativeManagement endpoint "${(endpoint ?? '').slice(0, 64)}".`);
    }
  }

  // ---- Command protocol ----

  async connect(identity: AppleIdentity, body: Buffer): Promise<AppleMdmReply> {
    const message = parsePlistDict(body);
    const status = str(message, 'Status');
    if (!status) throw invalidMessage('The command message has no Status.');
    if (!['Idle', 'Acknowledged', 'Error', 'CommandFormatError', 'NotNow'].includes(status)) {
      throw invalidMessage(`Unknown command Status "${status.slice(0, 64)}".`);
    }
    const device = await this.binding(identity, message);
    const { data } = identity;
    // Custos sends nothing on user channels.
    if (str(message, 'UserID') !== undefined) return EMPTY;
    const now = this.clock.now();
    if (status === 'Idle') return this.idle(data, device, now);
    // One statement: the device is active, its check-in time, and whether common commands wait.
    const target = await data.devices.recordRequest(device.deviceId, this.nextSeq(now), now, true);
    if (!target) throw retired();
    const uuid = requireString(message, 'CommandUUID');
    const command = await data.appleMdm.getCommand(uuid);
    if (!command || command.deviceId !== device.deviceId) throw invalidMessage(`This device has no command ${uuid.slice(0, 64)}.`);
    if (status === 'NotNow') await data.appleMdm.markNotNow(uuid, now);
    else if (status === 'Acknowledged') await this.acknowledged(data, device, command, message, target.platform, target.appInventoryScope);
    else await this.failed(data, command, status, message);
    if (target.pendingCommands > 0) await this.translateCommonCommands(data, device);
    return this.sendNext(data, device.deviceId, false);
  }

  /**
   * An `Idle` poll, the request every device makes most: one read says whether the device is still
   * active and whether anything waits for it. The check-in time is written only when the stored one
   * is older than CHECK_IN_RESOLUTION_MS, so an idle device costs no write per poll.
   */
  private async idle(data: TenantData, device: DeviceBinding, now: number): Promise<AppleMdmReply> {
    const state = await data.appleMdm.pollState(device.deviceId);
    if (!state?.active) throw retired();
    let pendingCommands = state.pendingCommands;
    if (state.lastCheckInAt === null || now - state.lastCheckInAt >= CHECK_IN_RESOLUTION_MS) {
      const target = await data.devices.recordRequest(device.deviceId, this.nextSeq(now), now, true);
      if (!target) throw retired();
      pendingCommands = target.pendingCommands;
    }
    if (pendingCommands > 0) await this.translateCommonCommands(data, device);
    else if (!state.queued) return EMPTY;
    return this.sendNext(data, device.deviceId, true);
  }

  /**
   * The next command, or an empty 200 to end the session. `Idle` starts a session: commands the
   * device answered NotNow in the previous one are due again (their flags are cleared only when
   * something is queued at all, so an idle poll with an empty queue is one read).
   */
  private async sendNext(data: TenantData, deviceId: string, newSession: boolean): Promise<AppleMdmReply> {
    const next = await data.appleMdm.nextCommand(deviceId, newSession);
    if (!next) return EMPTY;
    // Something is queued: whatever was NotNow'd is due again in this session.
    if (newSession) await data.appleMdm.clearNotNow(deviceId);
    await data.appleMdm.markSent(next.uuid, this.clock.now());
    return {
      status: 200,
      contentType: 'application/xml',
      body: buildPlist({ CommandUUID: next.uuid, Command: decodeCommand(next.command) }),
    };
  }

  private async acknowledged(
    data: TenantData,
    device: DeviceBinding,
    command: AppleCommandRecord,
    message: PlistDict,
    platform: DeviceRecord['platform'],
    scope: 'all' | 'managed-only',
  ): Promise<void> {
    const now = this.clock.now();
    await data.transaction(async (trx) => {
      const digest = `apple:${command.uuid}`;
      switch (command.requestType) {
        case 'DeviceInformation': {
          const responses = dict(message['QueryResponses']);
          if (!responses) throw invalidMessage('A DeviceInformation answer needs QueryResponses.');
          const hardware = hardwareFromDeviceInformation(responses, platform);
          await trx.devices.applyInventoryDelta(device.deviceId, hardware, [], [], digest, now);
          break;
        }
        case 'SecurityInfo': {
          const info = dict(message['SecurityInfo']);
          if (!info) throw invalidMessage('A SecurityInfo answer needs SecurityInfo.');
          await trx.devices.applyInventoryDelta(device.deviceId, hardwareFromSecurityInfo(info, platform), [], [], digest, now);
          break;
        }
        case 'InstalledApplicationList': {
          const managedOnly = bool(decodeCommand(command.command), 'ManagedAppsOnly') === true;
          const apps = appsToStore(appsFromInstalledApplicationList(message['InstalledApplicationList'], managedOnly), scope);
          const keep = new Set(apps.map((a) => a.key));
          const remove = (await trx.devices.listApps(device.deviceId)).map((a) => a.key).filter((k) => !keep.has(k));
          await trx.devices.applyInventoryDelta(device.deviceId, {}, apps, remove, digest, now);
          break;
        }
        case 'ProfileList':
          await this.reinstallMissingProfiles(trx, device.deviceId, message['ProfileList'], now);
          break;
        default:
          break;
      }
      await this.profileAnswered(trx, command, true, null);
      if (!(await trx.appleMdm.complete(command.uuid, 'acknowledged', 'Acknowledged', null, now))) {
        throw new DomainError('conflict', `Command ${command.uuid} was already answered.`);
      }
      if (command.commonCommandId) {
        await trx.commands.recordResult(command.commonCommandId, 'acknowledged', null, now);
        const common = await trx.commands.get(command.commonCommandId);
        if (common?.action === 'retire') await trx.devices.retire(device.deviceId, now);
      }
      if (['DeviceInformation', 'SecurityInfo', 'InstalledApplicationList'].includes(command.requestType)) {
        await this.compliance.evaluateDevice(trx, device.deviceId);
      }
    });
  }

  private async failed(data: TenantData, command: AppleCommandRecord, status: string, message: PlistDict): Promise<void> {
    const chain = message['ErrorChain'];
    const first = Array.isArray(chain) ? dict(chain[0]) : undefined;
    const detail = first
      ? `${str(first, 'ErrorDomain') ?? 'error'} ${String(num(first, 'ErrorCode') ?? '')}: ${str(first, 'LocalizedDescription') ?? ''}`.slice(
          0,
          500,
        )
      : status;
    const now = this.clock.now();
    await data.transaction(async (trx) => {
      if (!(await trx.appleMdm.complete(command.uuid, 'error', status, detail, now))) {
        throw new DomainError('conflict', `Command ${command.uuid} was already answered.`);
      }
      if (command.commonCommandId) await trx.commands.recordResult(command.commonCommandId, 'error', detail, now);
      await this.profileAnswered(trx, command, false, detail);
    });
  }

  /** Device actions from the common queue become Apple commands (marked `sent` there). */
  private async translateCommonCommands(data: TenantData, device: DeviceBinding): Promise<void> {
    await data.transaction(async (trx) => {
      const now = this.clock.now();
      await trx.commands.expireDue(device.deviceId, now);
      const delivered = await trx.commands.deliverPending(device.deviceId, now);
      const created: AppleCommandRecord[] = [];
      for (const c of delivered) created.push(...(await this.translate(trx, device, { id: c.id, action: c.action, payload: c.payload })));
      await trx.appleMdm.insertCommands(created);
    });
  }

  private async translate(trx: TenantData, device: DeviceBinding, c: DeliveredCommand): Promise<AppleCommandRecord[]> {
    const one = (requestType: string, extra: PlistDict, priority: number): AppleCommandRecord =>
      this.newCommand(device.deviceId, requestType, extra, priority, c.id);
    switch (c.action) {
      case 'lock':
        return [one('DeviceLock', {}, PRIORITY.action)];
      case 'wipe':
        return [one('EraseDevice', {}, PRIORITY.action)];
      case 'restart':
        return [one('RestartDevice', {}, PRIORITY.action)];
      case 'rename':
        return [one('Settings', { Settings: [{ Item: 'DeviceName', DeviceName: String(c.payload?.deviceName ?? '') }] }, PRIORITY.profile)];
      case 'sync':
        return this.inventoryCommands(trx, device.deviceId, c.id, false);
      case 'collect-inventory':
        return this.inventoryCommands(trx, device.deviceId, c.id, true);
      case 'retire': {
        // Managed configuration profiles first, then the MDM profile itself (the device checks out).
        const installed = await this.installedProfiles(trx, device.deviceId);
        return [
          ...[...installed].map(([profileId, { identifier }]) => ({
            ...this.newCommand(device.deviceId, 'RemoveProfile', { Identifier: identifier }, PRIORITY.action + 1, null),
            profileId,
          })),
          one('RemoveProfile', { Identifier: mdmProfileIdentifier(device.enrollmentId) }, PRIORITY.action),
        ];
      }
      default:
        return [];
    }
  }

  /**
   * The scheduled inventory refresh of one tenant: queues DeviceInformation, SecurityInfo and the app
   * list for every Apple device whose last inventory request is older than the tenant's check-in
   * interval, and pushes them. Returns how many devices were queued.
   */
  // ---- Identity renewal ----

  /**
   * Renews the identity certificates that end within IDENTITY_RENEWAL_DAYS: for each such device, a
   * renewal enrollment with a fresh SCEP challenge and an `InstallProfile` of the enrollment profile
   * under the device's own MDM profile identifier. The device replaces that profile in place, gets
   * a new certificate through SCEP, and signs from then on with it (adoptRenewal). A renewal that
   * is not completed expires with its profile lifetime and is made again on a later run.
   */
  async renewIdentities(data: TenantData, now: number, batch = 200): Promise<number> {
    const due = await data.appleMdm.devicesDueForRenewal(now + IDENTITY_RENEWAL_DAYS * DAY_MS, now, batch);
    if (due.length === 0) return 0;
    const push = await data.appleMdm.getPushCertificate();
    const ca = await data.certificateAuthority.get();
    if (!push || !ca) return 0;
    const tenantName = (await this.tenants.settings(data.tenantId)).name;
    const renewing: string[] = [];
    for (const device of due) {
      // Devices enrolled before certificate ends were recorded: read it from the certificate once.
      if (device.certificateNotAfter === null) {
        const stored = await data.devices.get(device.deviceId);
        if (!stored) continue;
        const notAfter = new x509.X509Certificate(stored.certificatePem).notAfter.getTime();
        await data.appleMdm.setCertificateNotAfter(device.deviceId, notAfter);
        if (notAfter >= now + IDENTITY_RENEWAL_DAYS * DAY_MS) continue;
      }
      const first = await data.appleMdm.getEnrollment(device.enrollmentId);
      if (!first) continue;
      const enrollmentId = randomUUID();
      const challenge = randomBytes(32).toString('base64url');
      const profile = await this.signedEnrollmentProfile(data.tenantId, tenantName, ca, push.topic, {
        enrollmentId,
        identifier: mdmProfileIdentifier(device.enrollmentId),
        challenge,
      });
      await data.transaction(async (trx) => {
        await trx.appleMdm.insertEnrollment(newEnrollment(first, enrollmentId, challenge, now, device.deviceId));
        await trx.appleMdm.insertCommands([
          this.newCommand(device.deviceId, 'InstallProfile', { Payload: profile }, PRIORITY.action, null),
        ]);
        await recordAudit(trx, RENEWAL_ACTOR, this.clock, {
          activity: 'Start Apple MDM identity renewal',
          category: 'Enrollment',
          operation: 'create',
          targets: [
            {
              type: 'device',
              id: device.deviceId,
              modifiedProperties: [{ name: 'renewalEnrollmentId', oldValue: null, newValue: enrollmentId }],
            },
          ],
        });
      });
      renewing.push(device.deviceId);
    }
    await this.wake(data.tenantId, renewing);
    return renewing.length;
  }

  /**
   * The device now signs with the certificate its renewal enrollment issued: bind it in place of
   * the old one (which is refused from now on), in one transaction with its audit event.
   */
  private async adoptRenewal(identity: AppleIdentity, device: AppleDeviceRecord, renewalEnrollmentId: string): Promise<AppleDeviceRecord> {
    const now = this.clock.now();
    await identity.data.transaction(async (trx) => {
      const adopted = await trx.appleMdm.adoptRenewedIdentity(device.deviceId, device.certificateSerial, {
        enrollmentId: renewalEnrollmentId,
        udid: device.udid,
        serial: identity.serial,
        notAfter: identity.notAfter,
      });
      if (!adopted) throw new DomainError('apple-mdm-enrollment-conflict', 'This device’s identity was renewed by another request.');
      await trx.devices.setCredential(device.deviceId, {
        certificatePem: identity.certificatePem,
        certificateSerial: identity.serial,
        publicKeySpki: identity.publicKeySpki,
      });
      await recordDeviceAudit(trx, { id: device.deviceId, name: device.udid }, now, {
        activity: 'Renew Apple MDM identity certificate',
        category: 'Enrollment',
        operation: 'update',
        targets: [
          {
            type: 'device',
            id: device.deviceId,
            modifiedProperties: [{ name: 'certificateSerial', oldValue: device.certificateSerial, newValue: identity.serial }],
          },
        ],
      });
    });
    return { ...device, certificateSerial: identity.serial, certificateNotAfter: identity.notAfter };
  }

  async refreshInventories(data: TenantData, now: number, batch = 500): Promise<number> {
    const settings = await this.tenants.settings(data.tenantId);
    const due = await data.appleMdm.devicesDueForInventory(now - settings.checkInIntervalSeconds * 1000, batch);
    for (const deviceId of due) {
      await data.transaction(async (trx) => trx.appleMdm.insertCommands(await this.inventoryCommands(trx, deviceId, null, true)));
    }
    await this.wake(data.tenantId, due);
    return due.length;
  }

  /** DeviceInformation and SecurityInfo (and the app list and profile list); the first carries the common command. */
  private async inventoryCommands(
    trx: TenantData,
    deviceId: string,
    commonId: string | null,
    apps: boolean,
  ): Promise<AppleCommandRecord[]> {
    const commands = [
      this.newCommand(deviceId, 'DeviceInformation', { Queries: [...DEVICE_INFORMATION_QUERIES] }, PRIORITY.inventory, commonId),
      this.newCommand(deviceId, 'SecurityInfo', {}, PRIORITY.inventory, null),
    ];
    if (apps) {
      const device = await trx.devices.get(deviceId);
      // A personal device reports only the apps the organization manages (SPEC §4).
      const managedOnly = device?.ownership === 'personal' && !device.appListPolicyApplies && device.platform !== 'macos';
      commands.push(this.newCommand(deviceId, 'InstalledApplicationList', { ManagedAppsOnly: managedOnly }, PRIORITY.inventory, null));
      // Which of the organization's profiles the device still has (a user may remove a removable one).
      commands.push(this.newCommand(deviceId, 'ProfileList', { ManagedOnly: true }, PRIORITY.inventory, null));
    }
    return commands;
  }

  private newCommand(
    deviceId: string,
    requestType: string,
    extra: PlistDict,
    priority: number,
    commonId: string | null,
  ): AppleCommandRecord {
    // Strictly increasing within the process, so commands queued together keep their order.
    const now = (this.lastStamp = Math.max(this.clock.now(), this.lastStamp + 1));
    return {
      uuid: randomUUID(),
      deviceId,
      requestType,
      command: encodeCommand({ RequestType: requestType, ...extra }),
      priority,
      state: 'pending',
      notNow: false,
      commonCommandId: commonId,
      profileId: null,
      createdAt: now,
      updatedAt: now,
      resultStatus: null,
      resultDetail: null,
    };
  }

  /**
   * ProfileService's delivery for Apple devices (in its transaction): InstallProfile for new or
   * changed profiles, RemoveProfile (by the identifier that was installed) for unassigned ones.
   */
  readonly deliverProfiles: AppleProfileDelivery = async (trx, deviceId, install, remove) => {
    const installed = remove.length > 0 ? await this.installedProfiles(trx, deviceId) : new Map<string, InstalledProfile>();
    const commands: AppleCommandRecord[] = [];
    if (install.length > 0) {
      const target = await this.profileTarget(trx, deviceId, install);
      for (const profile of install) {
        const payload = { Payload: mobileconfigOf(profile, target) };
        commands.push({ ...this.newCommand(deviceId, 'InstallProfile', payload, PRIORITY.profile, null), profileId: profile.id });
      }
    }
    for (const profileId of remove) {
      const identifier = installed.get(profileId)?.identifier ?? appleProfileIdentifier(profileId);
      commands.push({ ...this.newCommand(deviceId, 'RemoveProfile', { Identifier: identifier }, PRIORITY.profile, null), profileId });
    }
    await trx.appleMdm.insertCommands(commands);
  };

  /** What the payloads depend on: the device's platform and, when a profile trusts it, the tenant CA. */
  private async profileTarget(
    trx: TenantData,
    deviceId: string,
    install: readonly ConfigurationProfileRecord[],
  ): Promise<AppleProfileTarget> {
    const device = await trx.devices.get(deviceId);
    if (!device) throw new Error(`Apple device ${deviceId} has no device record.`);
    const needsCa = install.some((p) => p.settings.kind === 'certificate' && p.settings.certificate.trustedRoot?.source === 'tenantCa');
    return { platform: device.platform, tenantCaPem: needsCa ? (await trx.certificateAuthority.get())?.certificatePem : undefined };
  }

  /** Profiles installed on the device (acknowledged InstallProfile, not removed since), by profile id. */
  private async installedProfiles(trx: TenantData, deviceId: string): Promise<Map<string, InstalledProfile>> {
    const installed = new Map<string, InstalledProfile>();
    for (const cmd of await trx.appleMdm.listCommands(deviceId)) {
      if (cmd.profileId === null || cmd.state !== 'acknowledged') continue;
      if (cmd.requestType === 'RemoveProfile') installed.delete(cmd.profileId);
      if (cmd.requestType !== 'InstallProfile') continue;
      const payload = plistData(decodeCommand(cmd.command), 'Payload');
      let identifier = appleProfileIdentifier(cmd.profileId);
      try {
        identifier = (payload && str(parsePlistDict(payload), 'PayloadIdentifier')) || identifier;
      } catch {
        // A custom payload that is not a plist: removal falls back to the derived identifier.
      }
      installed.set(cmd.profileId, { identifier, payload });
    }
    return installed;
  }

  /**
   * A `ProfileList` answer: a profile Custos installed that the device no longer lists (removed on
   * the device) is installed again with the payload it was installed with, and its status goes back
   * to pending with the reason until the device acknowledges it.
   */
  private async reinstallMissingProfiles(trx: TenantData, deviceId: string, list: PlistValue | undefined, now: number): Promise<void> {
    if (!Array.isArray(list)) throw invalidMessage('A ProfileList answer needs ProfileList.');
    const present = new Set(list.map((item) => str(dict(item) ?? {}, 'PayloadIdentifier')));
    const installed = await this.installedProfiles(trx, deviceId);
    const commands: AppleCommandRecord[] = [];
    for (const row of await trx.deviceProfileStates.listForDevice(deviceId)) {
      const known = installed.get(row.profileId);
      if (row.removing || row.status !== 'succeeded' || !known?.payload || present.has(known.identifier)) continue;
      commands.push({
        ...this.newCommand(deviceId, 'InstallProfile', { Payload: known.payload }, PRIORITY.profile, null),
        profileId: row.profileId,
      });
      await trx.deviceProfileStates.put(deviceId, [
        {
          ...row,
          status: 'pending',
          reason: 'The device no longer had this profile (removed on the device); it is installed again.',
          updatedAt: now,
        },
      ]);
    }
    await trx.appleMdm.insertCommands(commands);
  }

  /** The device's answer to a profile command, as its status for that profile. */
  private async profileAnswered(trx: TenantData, command: AppleCommandRecord, ok: boolean, detail: string | null): Promise<void> {
    if (command.profileId === null) return;
    const row = (await trx.deviceProfileStates.listForDevice(command.deviceId)).find((r) => r.profileId === command.profileId);
    if (!row) return;
    const now = this.clock.now();
    if (command.requestType === 'RemoveProfile') {
      if (row.removing && ok) await trx.deviceProfileStates.delete(command.deviceId, [command.profileId]);
      return;
    }
    if (row.removing) return;
    await trx.deviceProfileStates.put(command.deviceId, [
      { ...row, status: ok ? 'succeeded' : 'failed', reason: ok ? null : detail, reportedAt: now, updatedAt: now },
    ]);
  }

  // ---- Helpers ----

  /**
   * The device this message speaks for: the one its UDID names, which must have first
   * authenticated with this very certificate.
   */
  private async boundDevice(identity: AppleIdentity, message: PlistDict): Promise<AppleDeviceRecord> {
    const udid = requireString(message, 'UDID');
    const device = await identity.data.appleMdm.findDeviceByUdid(udid);
    if (!device) throw new DomainError('apple-mdm-signature-invalid', 'This device has not authenticated (send Authenticate first).');
    if (device.certificateSerial !== identity.serial) {
      const renewal = await identity.data.appleMdm.findEnrollmentByCertificate(identity.serial);
      if (renewal?.renewsDeviceId === device.deviceId && renewal.deviceId === null) return this.adoptRenewal(identity, device, renewal.id);
      throw new DomainError(
        'apple-mdm-enrollment-conflict',
        'The message is signed with another certificate than the one this device enrolled with.',
      );
    }
    return device;
  }

  /**
   * `boundDevice` for the command endpoint, from memory after the first message: a device's UDID,
   * id, enrollment and certificate never change once bound (retirement is caught by the check-in
   * statement that follows).
   */
  private async binding(identity: AppleIdentity, message: PlistDict): Promise<DeviceBinding> {
    const udid = requireString(message, 'UDID');
    const key = `${identity.tenantId}/${udid}`;
    let binding = this.bindings.get(key);
    // Another certificate than remembered: the device may have enrolled again since; ask the store.
    if (!binding || binding.certificateSerial !== identity.serial) {
      const device = await this.boundDevice(identity, message);
      binding = { deviceId: device.deviceId, enrollmentId: device.enrollmentId, certificateSerial: device.certificateSerial };
      if (this.bindings.size >= 100_000) this.bindings.clear();
      this.bindings.set(key, binding);
    }
    if (binding.certificateSerial !== identity.serial) {
      throw new DomainError(
        'apple-mdm-enrollment-conflict',
        'The message is signed with another certificate than the one this device enrolled with.',
      );
    }
    return binding;
  }

  private nextSeq(now: number): number {
    this.lastSeq = Math.max(this.lastSeq + 1, now * 1000);
    return this.lastSeq;
  }

  async wake(tenantId: string, deviceIds: readonly string[]): Promise<void> {
    if (this.pusher && deviceIds.length > 0) await this.pusher(tenantId, deviceIds).catch(() => undefined);
  }

  private async usableToken(secret: string) {
    const tenantId = tenantOfSecret('enr', secret);
    const invalid = new DomainError('enrollment-token-invalid', 'The enrollment token is not valid. Ask IT for a new one.');
    if (!tenantId) throw invalid;
    let data: TenantData;
    let tenantName: string;
    try {
      const tenant = await this.tenants.get(tenantId);
      if (NO_ENROLLMENT_STATES.has(tenant.subscriptionState)) {
        throw new DomainError(
          tenant.subscriptionState === 'suspended' ? 'tenant-suspended' : 'tenant-read-only',
          `The organization's subscription is ${tenant.subscriptionState}: no new devices can enroll.`,
        );
      }
      data = this.tenants.dataOf(tenant);
      tenantName = (await this.tenants.settings(tenantId)).name;
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') throw invalid;
      throw error;
    }
    const token = await data.enrollmentTokens.findBySecretHash(hashSecret(secret));
    if (!token) throw invalid;
    const now = this.clock.now();
    if (token.revokedAt !== null)
      throw new DomainError('enrollment-token-revoked', 'The enrollment token was revoked. Ask IT for a new one.');
    if (token.expiresAt <= now)
      throw new DomainError('enrollment-token-expired', 'The enrollment token has expired. Ask IT for a new one.');
    if (token.maxUses !== null && token.uses >= token.maxUses) {
      throw new DomainError('enrollment-token-exhausted', 'The enrollment token has been used as many times as allowed.');
    }
    if (token.platforms && !token.platforms.some((p) => p === 'ios' || p === 'ipados' || p === 'macos')) {
      throw new DomainError(
        'enrollment-platform-not-allowed',
        `This token enrolls ${token.platforms.join(', ')} devices, not Apple devices.`,
      );
    }
    return { data, token, tenantName };
  }
}
