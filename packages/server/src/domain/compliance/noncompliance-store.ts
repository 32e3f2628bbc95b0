/**
 * What the actions for non-compliance keep (migration 0005): one episode per device and failing
 * policy, and the retire list. Implemented in storage/; bound to one tenant through `TenantData`.
 */
import type { ActionRun, NoncomplianceActionType, Platform } from '@custos/shared';

/**
 * One non-compliance episode: from the evaluation that first found the device failing the policy to
 * the one that no longer does (the row is then deleted, so the next failure starts a new episode
 * whose actions run again).
 */
export interface NoncomplianceEpisodeRecord {
  deviceId: string;
  policyId: string;
  noncompliantSince: number;
  /** What each action did in this episode; an action without an entry has not run. */
  runs: Partial<Record<NoncomplianceActionType, ActionRun>>;
  /** The earliest time an action can next be taken; null when all are settled. The job selects by it. */
  nextDueAt: number | null;
  /** The last evaluation of the device; a check-in after it makes the job evaluate the device again. */
  evaluatedAt: number;
  /** Raised by every write; an update names the version it read (compare-and-set). */
  version: number;
}

export interface NoncomplianceEpisodeStore {
  listForDevice(deviceId: string): Promise<NoncomplianceEpisodeRecord[]>;
  insert(episode: NoncomplianceEpisodeRecord): Promise<void>;
  /** Writes `episode` (its `version` already raised by one) only when the stored one is `version - 1`. */
  update(episode: NoncomplianceEpisodeRecord): Promise<boolean>;
  /** Ends the device's episodes of every policy not in `keepPolicyIds`; returns the policies whose episode ended. */
  endForDevice(deviceId: string, keepPolicyIds: readonly string[]): Promise<string[]>;
  /**
   * Devices the job must look at, ordered by id, after `afterDeviceId`, at most `limit`: an action of
   * an episode is due (`nextDueAt <= now`), or the device checked in after its episode was evaluated.
   */
  listDevicesToRevisit(now: number, afterDeviceId: string | null, limit: number): Promise<string[]>;
  /**
   * Active devices whose last check-in lies in (`checkedInAfter`, `checkedInAtOrBefore`] (no lower
   * bound when null), of `platform` when given, ordered by id, after `afterDeviceId`, at most
   * `limit`: the devices that went silent for a `maxDaysSinceCheckIn` limit since the job last ran.
   */
  listDevicesCheckedInBetween(
    checkedInAfter: number | null,
    checkedInAtOrBefore: number,
    platform: Platform | null,
    afterDeviceId: string | null,
    limit: number,
  ): Promise<string[]>;
}

export interface RetireListRecord {
  deviceId: string;
  deviceName: string | null;
  userEmail: string | null;
  policyId: string;
  policyName: string;
  addedAt: number;
}

export interface RetireListStore {
  /** Puts the device on the list (again, when an earlier entry was decided); false when it is already pending. */
  add(deviceId: string, policyId: string, at: number): Promise<boolean>;
  /** Pending entries, oldest first, with the device's name and user and the policy's name. */
  listPending(): Promise<RetireListRecord[]>;
  getPending(deviceId: string): Promise<RetireListRecord | undefined>;
  /** Records an admin's decision on a pending entry; false when there is none pending. */
  decide(deviceId: string, decision: 'confirmed' | 'dismissed', by: string, at: number): Promise<boolean>;
  /** Drops pending entries a policy put there once the device complies with it again. */
  removePending(deviceId: string, policyIds: readonly string[]): Promise<void>;
}
