/**
 * Compliance policies, their assignments and the per-device results (SPEC §6), as the domain sees
 * them. Implemented by the repositories in storage/; bound to one tenant through `TenantData`.
 */
import type { ComplianceSettings, ComplianceState, NoncomplianceAction, Platform, SettingResult } from '@custos/shared';

import type { PolicyAssignmentRecord } from '../assignments/assignment-targets.js';

export type { PolicyAssignmentRecord };

export interface CompliancePolicyRecord {
  id: string;
  name: string;
  description: string | null;
  /** Null: every platform. */
  platform: Platform | null;
  settings: ComplianceSettings;
  /** Actions for non-compliance, normalized (`normalizeActions`: markNoncompliant always present). */
  actions: NoncomplianceAction[];
  version: number;
  /** Scope tags: admins scoped to tags see and change the policy only with one of them. */
  scopeTags: string[];
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
  assignments: PolicyAssignmentRecord[];
}

export interface CompliancePolicyStore {
  insert(policy: CompliancePolicyRecord): Promise<void>;
  /** A policy that is not deleted, with its assignments. */
  get(id: string): Promise<CompliancePolicyRecord | undefined>;
  /** Every policy that is not deleted, with its assignments, oldest first. */
  list(): Promise<CompliancePolicyRecord[]>;
  /**
   * The policies that can apply to a device of `platform` (theirs, or null), not deleted, with their
   * assignments: the candidates the evaluation then checks the assignments of.
   */
  listForPlatform(platform: Platform): Promise<CompliancePolicyRecord[]>;
  /**
   * Replaces name, description, platform, settings and actions and sets `version` to `version`; only when
   * the stored version is still `version - 1` (optimistic concurrency). False when it was not.
   */
  update(policy: CompliancePolicyRecord): Promise<boolean>;
  softDelete(id: string, at: number): Promise<boolean>;
  /** Replaces the policy's whole assignment list. */
  replaceAssignments(id: string, assignments: readonly PolicyAssignmentRecord[]): Promise<void>;
}

export interface DeviceComplianceResultRecord {
  policyId: string;
  policyName: string;
  policyVersion: number;
  state: ComplianceState;
  results: SettingResult[];
  evaluatedAt: number;
}

export interface ComplianceResultStore {
  /** Replaces every result of the device: policies that no longer apply lose their row. */
  replaceForDevice(deviceId: string, results: readonly Omit<DeviceComplianceResultRecord, 'policyName'>[]): Promise<void>;
  /** The device's results with each policy's current name, ordered by name. */
  listForDevice(deviceId: string): Promise<DeviceComplianceResultRecord[]>;
}
