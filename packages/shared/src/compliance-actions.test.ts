import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionClaimable, actionSchedule, DAY_MS, nextActionDueAt, normalizeActions, type ActionRun } from './compliance-actions.js';

const T0 = Date.UTC(2030, 0, 1);

test('normalizeActions adds markNoncompliant after 0 days when missing and orders by delay, then type', () => {
  assert.deepEqual(normalizeActions(undefined), [{ type: 'markNoncompliant', afterDays: 0 }]);
  assert.deepEqual(normalizeActions([]), [{ type: 'markNoncompliant', afterDays: 0 }]);
  assert.deepEqual(
    normalizeActions([
      { type: 'lock', afterDays: 7 },
      { type: 'email', afterDays: 0 },
      { type: 'markNoncompliant', afterDays: 3 },
    ]).map((a) => `${a.type}@${a.afterDays}`),
    ['email@0', 'markNoncompliant@3', 'lock@7'],
  );
  assert.deepEqual(
    normalizeActions([{ type: 'retireList', afterDays: 0 }]).map((a) => a.type),
    ['markNoncompliant', 'retireList'],
  );
});

test('an action is claimable when due and never run, or when a stale claim or a failure may be retried', () => {
  const run = (status: ActionRun['status'], retryAt: number | null): ActionRun => ({ status, at: T0, detail: null, attempts: 1, retryAt });
  assert.equal(actionClaimable(undefined, T0 + DAY_MS, T0), false);
  assert.equal(actionClaimable(undefined, T0, T0), true);
  assert.equal(actionClaimable(run('done', null), T0, T0 + DAY_MS), false);
  assert.equal(actionClaimable(run('skipped', null), T0, T0 + DAY_MS), false);
  assert.equal(actionClaimable(run('running', T0 + 10), T0, T0 + 5), false);
  assert.equal(actionClaimable(run('running', T0 + 10), T0, T0 + 10), true);
  assert.equal(actionClaimable(run('failed', T0), T0, T0), true);
  assert.equal(actionClaimable(run('failed', null), T0, T0 + DAY_MS), false, 'out of attempts');
});

test('the next due time skips settled actions; the schedule shows due, scheduled and what ran', () => {
  const actions = normalizeActions([
    { type: 'markNoncompliant', afterDays: 2 },
    { type: 'email', afterDays: 0 },
    { type: 'lock', afterDays: 5 },
  ]);
  assert.equal(nextActionDueAt(actions, T0, {}), T0);
  const emailed = { email: { status: 'done', at: T0 + 1, detail: 'sent', attempts: 1, retryAt: null } } as const;
  assert.equal(nextActionDueAt(actions, T0, emailed), T0 + 2 * DAY_MS);
  const settled = {
    ...emailed,
    markNoncompliant: { status: 'done', at: T0 + 2 * DAY_MS, detail: null, attempts: 1, retryAt: null },
    lock: { status: 'done', at: T0 + 5 * DAY_MS, detail: null, attempts: 1, retryAt: null },
  } as const;
  assert.equal(nextActionDueAt(actions, T0, settled), null);
  assert.deepEqual(
    actionSchedule(actions, T0, emailed, T0 + DAY_MS).map((e) => [e.type, e.status, e.ranAt, e.detail]),
    [
      ['email', 'done', T0 + 1, 'sent'],
      ['markNoncompliant', 'scheduled', null, null],
      ['lock', 'scheduled', null, null],
    ],
  );
  assert.equal(actionSchedule(actions, T0, emailed, T0 + 3 * DAY_MS)[1]?.status, 'due');
});
