import type { Ownership } from '@custos/shared';

/** The tenant's APNs push certificate (one per tenant); the private key sealed at rest. */
export interface ApplePushCertificateRecord {
  topic: string;
  certificatePem: string;
  privateKeySealed: string;
  notAfter: number;
  uploadedAt: number;
}

/**
 * One served enrollment profile: its SCEP challenge (hashed), the ownership and user from the
 * enrollment token, and — once used — the certificate SCEP issued and the device that authenticated
 * with it. A challenge issues one certificate; a certificate enrolls one device.
 */
export interface AppleEnrollmentRecord {
  id: string;
  tokenId: string;
  ownership: Ownership;
  userEmail: string | null;
  scopeTags: string[];
  challengeHash: string;
  createdAt: number;
  expiresAt: number;
  certificateSerial: string | null;
  udid: string | null;
  deviceId: string | null;
  /** The device whose identity certificate this enrollment renews; null for a first enrollment. */
  renewsDeviceId: string | null;
}

export interface AppleUserChannel {
  userId: string;
  pushToken: string;
  pushMagic: string;
}

/** The Apple side of a device whose `managementChannel` is `apple-mdm`. */
export interface AppleDeviceRecord {
  deviceId: string;
  udid: string;
  enrollmentId: string;
  /** The identity certificate the device first authenticated with; every later message must use it. */
  certificateSerial: string;
  /** When that certificate expires (null for devices enrolled before this was recorded). */
  certificateNotAfter: number | null;
  topic: string;
  /** Hex device token for APNs; null until the first TokenUpdate. */
  pushToken: string | null;
  pushMagic: string | null;
  /** Set when APNs answered that the token is unregistered or bad; cleared by the next TokenUpdate. */
  pushTokenInvalidAt: number | null;
  userChannels: AppleUserChannel[];
  bootstrapTokenSealed: string | null;
  lastSeenAt: number;
  createdAt: number;
}

export type AppleCommandState = 'pending' | 'sent' | 'acknowledged' | 'error';

/** One queued Apple MDM command (`CommandUUID`). */
export interface AppleCommandRecord {
  uuid: string;
  deviceId: string;
  requestType: string;
  /** The `Command` dictionary, as JSON (Buffers as `{ "$data": base64 }`). */
  command: string;
  /** Higher first; among equals, older first. */
  priority: number;
  state: AppleCommandState;
  /** The device answered NotNow during its current session: skipped until its next Idle. */
  notNow: boolean;
  /** The common-model command it carries out (device actions), if any. */
  commonCommandId: string | null;
  /** The configuration profile it installs or removes, if any. */
  profileId: string | null;
  createdAt: number;
  updatedAt: number;
  resultStatus: string | null;
  resultDetail: string | null;
}

/** What an `Idle` poll needs to know, in one read (AppleMdmStore.pollState). */
export interface ApplePollState {
  /** False once the device is retired. */
  active: boolean;
  /** Device actions waiting in the common queue. */
  pendingCommands: number;
  lastCheckInAt: number | null;
  /** Whether any Apple command is pending or sent (NotNow'd ones included). */
  queued: boolean;
}

export interface AppleMdmStore {
  getPushCertificate(): Promise<ApplePushCertificateRecord | undefined>;
  putPushCertificate(record: ApplePushCertificateRecord): Promise<void>;

  insertEnrollment(record: AppleEnrollmentRecord): Promise<void>;
  getEnrollment(id: string): Promise<AppleEnrollmentRecord | undefined>;
  findEnrollmentByChallengeHash(hash: string): Promise<AppleEnrollmentRecord | undefined>;
  findEnrollmentByCertificate(serial: string): Promise<AppleEnrollmentRecord | undefined>;
  /** Records the certificate SCEP issued; false if the enrollment already has one. */
  setEnrollmentCertificate(id: string, serial: string): Promise<boolean>;
  /** Binds the enrollment to its device; false if it is bound already. */
  bindEnrollment(id: string, udid: string, deviceId: string): Promise<boolean>;
  /**
   * Active devices whose identity certificate ends before `before` (or is not recorded) and that
   * have no renewal enrollment still open at `now`.
   */
  devicesDueForRenewal(before: number, now: number, limit: number): Promise<AppleDeviceRecord[]>;
  /**
   * Moves a device to its renewed identity certificate, if it still has `fromSerial`; binds the
   * renewal enrollment to it. False if another request got there first.
   */
  adoptRenewedIdentity(
    deviceId: string,
    fromSerial: string,
    renewal: { enrollmentId: string; udid: string; serial: string; notAfter: number },
  ): Promise<boolean>;
  setCertificateNotAfter(deviceId: string, notAfter: number): Promise<void>;
  /** Re-encrypts one keyset batch of enrollments (their user email) under the current key version (`custos keys rotate`). */
  reencryptEnrollmentBatch(afterId: string | null, limit: number): Promise<{ lastId: string | null; scanned: number; rewritten: number }>;

  insertDevice(record: AppleDeviceRecord): Promise<void>;
  getDevice(deviceId: string): Promise<AppleDeviceRecord | undefined>;
  /** Drops a retired device's Apple binding when the same hardware enrolls again (its device record stays). */
  deleteDevice(deviceId: string): Promise<void>;
  findDeviceByUdid(udid: string): Promise<AppleDeviceRecord | undefined>;
  updatePush(deviceId: string, push: { pushToken: string; pushMagic: string }): Promise<void>;
  setUserChannels(deviceId: string, channels: AppleUserChannel[]): Promise<void>;
  markPushTokenInvalid(deviceId: string, at: number): Promise<void>;
  setBootstrapToken(deviceId: string, sealed: string | null): Promise<void>;
  touch(deviceId: string, at: number): Promise<void>;

  insertCommands(commands: readonly AppleCommandRecord[]): Promise<void>;
  getCommand(uuid: string): Promise<AppleCommandRecord | undefined>;
  /**
   * The next command to send: pending or sent (unanswered), by priority then age; NotNow'd ones
   * only with `includeNotNow` (a new session).
   */
  nextCommand(deviceId: string, includeNotNow?: boolean): Promise<AppleCommandRecord | undefined>;
  /** The device's check-in state and whether anything waits for it; undefined if it has none. */
  pollState(deviceId: string): Promise<ApplePollState | undefined>;
  markSent(uuid: string, at: number): Promise<void>;
  /** Completes a sent command; false if it is not awaiting an answer. */
  complete(uuid: string, state: 'acknowledged' | 'error', status: string, detail: string | null, at: number): Promise<boolean>;
  markNotNow(uuid: string, at: number): Promise<void>;
  /** A new session (Idle): NotNow'd commands are due again. */
  clearNotNow(deviceId: string): Promise<void>;
  listCommands(deviceId: string): Promise<AppleCommandRecord[]>;
  /**
   * Active Apple devices with a push token whose last DeviceInformation was queued before
   * `queuedBefore` and none is waiting: due for the scheduled inventory refresh. At most `limit`.
   */
  devicesDueForInventory(queuedBefore: number, limit: number): Promise<string[]>;
}
