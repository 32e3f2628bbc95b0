/**
 * The evaluation's side of the actions for non-compliance: a policy's action list is checked when it
 * is saved, and every evaluation of a device opens, advances or ends its episodes, one per failing
 * policy. Opening an episode fixes the time the actions count from; the `markNoncompliant` action
 * (the grace period) is "run" by the evaluation itself, in its transaction, so it happens exactly once;
 * the other actions are run by the scheduled job (noncompliance-actions.ts).
 */
import {
  DAY_MS,
  actionSchedule,
  gracePeriodDays,
  nextActionDueAt,
  normalizeActions,
  type ActionScheduleEntry,
  type ComplianceState,
  type NoncomplianceAction,
} from '@custos/shared';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import type { CompliancePolicyRecord } from './compliance-store.js';

/** The checks JSON Schema cannot make; returns the stored form (`normalizeActions`). */
export function validateActions(actions: readonly NoncomplianceAction[] | undefined): NoncomplianceAction[] {
  const seen = new Set<string>();
  (actions ?? []).forEach((action, i) => {
    if (seen.has(action.type)) {
      throw new DomainError('validation-failed', `actions[${i}]: "${action.type}" is listed twice; name each action type once per policy.`);
    }
    seen.add(action.type);
    if (action.type !== 'email' && (action.additionalRecipients !== undefined || action.message !== undefined)) {
      throw new DomainError('validation-failed', `actions[${i}]: "additionalRecipients" and "message" belong to "email" actions only.`);
    }
  });
  return normalizeActions(actions);
}

/**
 * Called by the evaluation, inside its transaction and after it locked the device's check-in row, with
 * each applicable policy's state as the settings give it. Returns the states to store: a failing
 * policy is `inGracePeriod` until its `markNoncompliant` action is due, `noncompliant` from then on.
 * Episodes of policies the device no longer fails (or that no longer apply) end, and the retire-list
 * entries they made go with them.
 */
export async function trackEpisodes(
  data: TenantData,
  deviceId: string,
  evaluated: readonly { policy: CompliancePolicyRecord; state: ComplianceState }[],
  now: number,
): Promise<ComplianceState[]> {
  const episodes = new Map((await data.complianceEpisodes.listForDevice(deviceId)).map((e) => [e.policyId, e]));
  const failing: string[] = [];
  const states: ComplianceState[] = [];
  for (const { policy, state } of evaluated) {
    if (state !== 'noncompliant') {
      states.push(state);
      continue;
    }
    failing.push(policy.id);
    const current = episodes.get(policy.id);
    const since = current?.noncompliantSince ?? now;
    const marked = now >= since + gracePeriodDays(policy.actions) * DAY_MS;
    const runs = { ...current?.runs };
    if (marked && !runs.markNoncompliant) runs.markNoncompliant = { status: 'done', at: now, detail: null, attempts: 1, retryAt: null };
    const next = {
      deviceId,
      policyId: policy.id,
      noncompliantSince: since,
      runs,
      nextDueAt: nextActionDueAt(policy.actions, since, runs),
      evaluatedAt: now,
      version: (current?.version ?? 0) + 1,
    };
    if (!current) await data.complianceEpisodes.insert(next);
    else if (!(await data.complianceEpisodes.update(next))) {
      throw new DomainError('conflict', `The compliance episode of device ${deviceId} changed during its evaluation; try again.`);
    }
    states.push(marked ? 'noncompliant' : 'inGracePeriod');
  }
  // Most evaluations end nothing: no write then.
  if ([...episodes.keys()].some((policyId) => !failing.includes(policyId))) {
    const ended = await data.complianceEpisodes.endForDevice(deviceId, failing);
    await data.retireList.removePending(deviceId, ended);
  }
  return states;
}

export interface EpisodeSchedule {
  noncompliantSince: number | null;
  actions: ActionScheduleEntry[];
}

/** Per policy id: when the device started failing it and each action's schedule and outcome. */
export async function episodeSchedules(
  data: TenantData,
  deviceId: string,
  policies: readonly CompliancePolicyRecord[],
  now: number,
): Promise<Map<string, EpisodeSchedule>> {
  const byId = new Map(policies.map((p) => [p.id, p]));
  const schedules = new Map<string, EpisodeSchedule>();
  for (const episode of await data.complianceEpisodes.listForDevice(deviceId)) {
    const policy = byId.get(episode.policyId);
    if (!policy) continue;
    schedules.set(episode.policyId, {
      noncompliantSince: episode.noncompliantSince,
      actions: actionSchedule(policy.actions, episode.noncompliantSince, episode.runs, now),
    });
  }
  return schedules;
}
