/** Aggregates for the dashboard and the Company Portal's per-user view (read-only). */

export interface CountBy {
  key: string;
  count: number;
}

export interface DeviceSummary {
  total: number;
  byComplianceState: CountBy[];
  byPlatform: CountBy[];
  byOwnership: CountBy[];
  /** The most common OS versions (at most 20). */
  byOsVersion: { operatingSystem: string | null; osVersion: string | null; count: number }[];
  /** Devices by the UTC day of their last check-in, over the last `days` days (days without any are 0). */
  checkInsByDay: { day: string; count: number }[];
}

export interface DeviceReportStore {
  /** Active devices only; `scopeTags` as `scopeFilter` returns it (null: every device). */
  summary(scopeTags: readonly string[] | null, now: number, days: number): Promise<DeviceSummary>;
  /** The ids of the active devices whose user is `userEmail`. */
  idsForUser(userEmail: string): Promise<string[]>;
}
