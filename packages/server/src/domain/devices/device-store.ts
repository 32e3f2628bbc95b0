import type {
  AppInventoryScope,
  AppRecord,
  ComplianceState,
  DeviceFilter,
  DeviceListQuery,
  HardwareInventory,
  ManagementChannel,
  Ownership,
  Platform,
} from '@custos/shared';

export interface DeviceRecord {
  id: string;
  platform: Platform;
  managementChannel: ManagementChannel;
  ownership: Ownership;
  status: 'active' | 'retired';
  complianceState: ComplianceState;
  appListPolicyApplies: boolean;
  hardware: HardwareInventory;
  userEmail: string | null;
  enrollmentTokenId: string | null;
  consent: { privacyStatementVersion: string; acceptedAt: number; method: 'interactive' | 'unattended' };
  certificatePem: string;
  certificateSerial: string;
  publicKeySpki: string;
  requestSeq: number;
  inventoryDigest: string | null;
  lastCheckInAt: number | null;
  enrolledAt: number;
  retiredAt: number | null;
  /** Scope tags (SPEC §3): an admin scoped to tags sees the device only when it carries one of them. */
  scopeTags?: string[];
}

export interface StoredApp extends Required<AppRecord> {
  key: string;
}

/** What a check-in needs to know about the device, read by the same statement that records it. */
export interface CheckInTarget {
  platform: Platform;
  appInventoryScope: AppInventoryScope;
  inventoryDigest: string | null;
  enrolledAt: number;
  /** Commands waiting for this device; zero spares the check-in the query that delivers them. */
  pendingCommands: number;
  /** The digest of the device's desired configuration profiles; null until computed (see ProfileService). */
  profilesDigest: string | null;
}

export interface DevicePage {
  items: DeviceRecord[];
  nextCursor: string | null;
}

export interface DeviceStore {
  insert(device: DeviceRecord): Promise<void>;
  get(id: string): Promise<DeviceRecord | undefined>;
  /** `scopeTags`: only devices carrying one of these tags (null or absent: every device). */
  list(query: DeviceListQuery, scopeTags?: readonly string[] | null): Promise<DevicePage>;
  /**
   * Ids of the devices matching `filter` (active ones unless it names a status) and, when given,
   * among `onlyIds`; at most `limit`.
   */
  listIds(filter: DeviceFilter, limit: number, onlyIds?: readonly string[], scopeTags?: readonly string[] | null): Promise<string[]>;
  /** Replaces the device's scope tags; false when there is no such device. */
  setScopeTags(id: string, scopeTags: readonly string[]): Promise<boolean>;
  countActiveForUser(userEmail: string): Promise<number>;
  /**
   * Re-encrypts up to `limit` devices after `afterId` whose sensitive values are in clear or under an
   * older data key version (`custos keys rotate`); one short transaction per batch.
   */
  reencryptBatch(afterId: string | null, limit: number): Promise<{ lastId: string | null; scanned: number; rewritten: number }>;
  listApps(id: string): Promise<StoredApp[]>;
  /** The device's public key, only while the device is active. */
  /** Replaces the device's certificate (an identity renewal). */
  setCredential(id: string, credential: Pick<DeviceRecord, 'certificatePem' | 'certificateSerial' | 'publicKeySpki'>): Promise<void>;
  findActiveCredential(id: string): Promise<{ publicKeySpki: string } | undefined>;
  /**
   * Records an authenticated request: succeeds only if the device is active and `seq` is above every
   * sequence number seen so far (one atomic statement: replay protection and revocation in one).
   */
  recordRequest(id: string, seq: number, at: number, checkIn: boolean): Promise<CheckInTarget | undefined>;
  replaceInventory(id: string, hardware: HardwareInventory, apps: StoredApp[], digest: string, at: number): Promise<void>;
  applyInventoryDelta(
    id: string,
    hardware: HardwareInventory,
    upsert: StoredApp[],
    removeKeys: string[],
    digest: string,
    at: number,
  ): Promise<void>;
  /**
   * Locks the device's check-in state row until the transaction ends. A compliance evaluation takes
   * it first so that it locks rows in the order a check-in does (check-in state, device, results)
   * and the two cannot deadlock each other.
   */
  lockCheckInState(id: string): Promise<void>;
  /**
   * What an evaluation with no applicable policy needs to know, in one read: the device's status,
   * its current compliance state and app-list flag, and the tenant's state for devices without a
   * policy.
   */
  complianceSnapshot(
    id: string,
  ): Promise<
    { active: boolean; complianceState: ComplianceState; appListPolicyApplies: boolean; noPolicyState: ComplianceState } | undefined
  >;
  /**
   * Records the outcome of a compliance evaluation: the device's overall state and whether an app
   * allow/deny list applies to it (SPEC §4), recomputing the check-in's copy of its app scope in the
   * same call. When the scope falls back to `managed-only`, the apps Custos does not manage are
   * deleted: nothing justifies keeping a personal device's own apps any more. Returns the scope, or
   * undefined when there is no such device.
   */
  updateCompliance(id: string, state: ComplianceState, appListPolicyApplies: boolean): Promise<AppInventoryScope | undefined>;
  /** Marks the device retired: its credential stops working at once and its app inventory is deleted. */
  retire(id: string, at: number): Promise<boolean>;
}
