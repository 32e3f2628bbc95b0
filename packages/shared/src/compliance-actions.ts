/**
 * Actions for non-compliance (SPEC §6): what happens to a device that fails a compliance policy,
 * each a number of days after it started failing it. The `markNoncompliant` action's delay is the
 * grace period: until it is due the device is `inGracePeriod` for that policy, then `noncompliant`.
 * Pure: the server schedules and runs the actions, the portals render the same schedule.
 */

export const NONCOMPLIANCE_ACTION_TYPES = ['markNoncompliant', 'email', 'lock', 'retireList'] as const;
export type NoncomplianceActionType = (typeof NONCOMPLIANCE_ACTION_TYPES)[number];

export interface NoncomplianceAction {
  type: NoncomplianceActionType;
  /** Days after the device started failing the policy; 0 means at once. */
  afterDays: number;
  /** `email` only: recipients besides the device's user. */
  additionalRecipients?: string[];
  /** `email` only: text the admin adds above the reasons. */
  message?: string;
}

/** What one action did in one non-compliance episode. */
export const ACTION_RUN_STATUSES = ['running', 'done', 'skipped', 'failed'] as const;
export type ActionRunStatus = (typeof ACTION_RUN_STATUSES)[number];

export interface ActionRun {
  status: ActionRunStatus;
  /** When it was claimed (`running`) or finished. */
  at: number;
  /** Why it was skipped or failed, or what it did ("lock command …"). */
  detail: string | null;
  attempts: number;
  /** When it may be taken again: a claim that outlived its process, or a failure to retry; null: never. */
  retryAt: number | null;
}

/** A failed action (SMTP down, …) is retried at the next runs, this many attempts in all. */
export const ACTION_MAX_ATTEMPTS = 3;

/** The schedule of one action in an episode, as the admin sees it. */
export const ACTION_SCHEDULE_STATUSES = ['scheduled', 'due', ...ACTION_RUN_STATUSES] as const;
export type ActionScheduleStatus = (typeof ACTION_SCHEDULE_STATUSES)[number];

export interface ActionScheduleEntry {
  type: NoncomplianceActionType;
  afterDays: number;
  dueAt: number;
  status: ActionScheduleStatus;
  ranAt: number | null;
  detail: string | null;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

const ORDER: Record<NoncomplianceActionType, number> = { markNoncompliant: 0, email: 1, lock: 2, retireList: 3 };

/**
 * The stored form of a policy's actions: `markNoncompliant` is always present (after 0 days when the
 * list does not name it, so an empty list means "non-compliant at once"), ordered by delay.
 */
export function normalizeActions(actions: readonly NoncomplianceAction[] | undefined): NoncomplianceAction[] {
  const list = (actions ?? []).map((a) => ({ ...a }));
  if (!list.some((a) => a.type === 'markNoncompliant')) list.push({ type: 'markNoncompliant', afterDays: 0 });
  return list.sort((a, b) => a.afterDays - b.afterDays || ORDER[a.type] - ORDER[b.type]);
}

/** The grace period of a policy in days: the delay of its `markNoncompliant` action. */
export function gracePeriodDays(actions: readonly NoncomplianceAction[]): number {
  return actions.find((a) => a.type === 'markNoncompliant')?.afterDays ?? 0;
}

export function actionDueAt(action: NoncomplianceAction, noncompliantSince: number): number {
  return noncompliantSince + action.afterDays * DAY_MS;
}

/** True when the action may be taken now: never run, or a stale claim or a failure whose retry time came. */
export function actionClaimable(run: ActionRun | undefined, dueAt: number, now: number): boolean {
  if (!run) return dueAt <= now;
  return (run.status === 'running' || run.status === 'failed') && run.retryAt !== null && run.retryAt <= now;
}

/** The earliest time any action of the episode can next be taken; null when every one is settled. */
export function nextActionDueAt(
  actions: readonly NoncomplianceAction[],
  noncompliantSince: number,
  runs: Partial<Record<NoncomplianceActionType, ActionRun>>,
): number | null {
  let next: number | null = null;
  for (const action of actions) {
    const run = runs[action.type];
    const at = run ? run.retryAt : actionDueAt(action, noncompliantSince);
    if (at !== null && (next === null || at < next)) next = at;
  }
  return next;
}

/** Every action of the policy with when it is due and what it did in this episode. */
export function actionSchedule(
  actions: readonly NoncomplianceAction[],
  noncompliantSince: number,
  runs: Partial<Record<NoncomplianceActionType, ActionRun>>,
  now: number,
): ActionScheduleEntry[] {
  return actions.map((action) => {
    const dueAt = actionDueAt(action, noncompliantSince);
    const run = runs[action.type];
    return {
      type: action.type,
      afterDays: action.afterDays,
      dueAt,
      status: run ? run.status : dueAt <= now ? 'due' : 'scheduled',
      ranAt: run && run.status !== 'running' ? run.at : null,
      detail: run?.detail ?? null,
    };
  });
}
