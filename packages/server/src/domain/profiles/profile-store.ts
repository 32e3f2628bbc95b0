/**
 * Configuration profiles, their assignments and each device's status per profile (SPEC §6), as the
 * domain sees them. Implemented by the repositories in storage/; bound to one tenant through
 * `TenantData`.
 */
import type { Platform, ProfileKind, ProfileSettings, ProfileStatus, RestrictionConflict } from '@custos/shared';
import type { PolicyAssignmentRecord } from '../assignments/assignment-targets.js';

export interface ConfigurationProfileRecord {
  id: string;
  name: string;
  description: string | null;
  /** Null: every platform. */
  platform: Platform | null;
  /** The kind and its settings, secrets included (the admin API never returns those). */
  settings: ProfileSettings;
  version: number;
  /** Scope tags: admins scoped to tags see and change the profile only with one of them. */
  scopeTags: string[];
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
  assignments: PolicyAssignmentRecord[];
}

export interface ConfigurationProfileStore {
  insert(profile: ConfigurationProfileRecord): Promise<void>;
  /** A profile that is not deleted, with its assignments. */
  get(id: string): Promise<ConfigurationProfileRecord | undefined>;
  /** Every profile that is not deleted, with its assignments, oldest first. */
  list(): Promise<ConfigurationProfileRecord[]>;
  /** The live profiles that can apply to a device of `platform` (theirs, or null), with their assignments. */
  listForPlatform(platform: Platform): Promise<ConfigurationProfileRecord[]>;
  /** Replaces the content and sets `version`; only when the stored version is still `version - 1`. */
  update(profile: ConfigurationProfileRecord): Promise<boolean>;
  softDelete(id: string, at: number): Promise<boolean>;
  replaceAssignments(id: string, assignments: readonly PolicyAssignmentRecord[]): Promise<void>;
}

/** One device's state for one profile: what it is to have (or to remove) and what it last reported. */
export interface DeviceProfileStateRecord {
  profileId: string;
  profileVersion: number;
  status: ProfileStatus;
  reason: string | null;
  /** Unassigned (or deleted): the device is to remove it; the row goes when it reports it removed. */
  removing: boolean;
  /** Restrictions profiles: the settings where it disagreed with another profile, and the value applied. */
  conflicts: RestrictionConflict[];
  /** WireGuard: the public key of the key the device generated. */
  publicKey: string | null;
  updatedAt: number;
  /** When the device last reported on it; null while the status is the server's own. */
  reportedAt: number | null;
}

export interface DeviceProfileStateView extends DeviceProfileStateRecord {
  profileName: string;
  kind: ProfileKind;
}

export interface DeviceProfileReport {
  profileId: string;
  version: number;
  status: Exclude<ProfileStatus, 'pending'>;
  reason: string | null;
  publicKey: string | null;
}

export interface DeviceProfileStateStore {
  /** The device's rows, with each profile's current name and kind, ordered by name. */
  listForDevice(deviceId: string): Promise<DeviceProfileStateView[]>;
  /** Inserts or replaces these rows of the device. */
  put(deviceId: string, rows: readonly DeviceProfileStateRecord[]): Promise<void>;
  delete(deviceId: string, profileIds: readonly string[]): Promise<void>;
  /** Records a device's report on the profile's current version; false when the row is gone, removing or of another version. */
  recordReport(deviceId: string, report: DeviceProfileReport, at: number): Promise<boolean>;
  /** Deletes rows the device reported removed, only those awaiting removal. */
  deleteRemoved(deviceId: string, profileIds: readonly string[]): Promise<void>;
  /** How many active devices are in each status for the profile (rows awaiting removal not counted). */
  countByStatus(profileId: string): Promise<Partial<Record<ProfileStatus, number>>>;
  /** The digest the check-in announces; null when not computed yet. */
  getDigest(deviceId: string): Promise<string | null>;
  /** Sets the digest the check-in announces (null: compute it at the next check-in). */
  setDigest(deviceId: string, digest: string | null): Promise<void>;
}
