import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextCheckInDelaySeconds, retryDelaySeconds } from './schedule.js';

const enrolledAt = '2025-01-01T00:00:00.000Z';
const enrolledMs = Date.parse(enrolledAt);
const schedule = { initialIntervalSeconds: 180, initialPeriodSeconds: 900, intervalSeconds: 28_800 };

describe('nextCheckInDelaySeconds', () => {
  it('checks in every initialIntervalSeconds during the initial period', () => {
    assert.equal(nextCheckInDelaySeconds({ enrolledAt, schedule, nextCheckInSeconds: 28_800 }, enrolledMs + 60_000), 180);
  });

  it('then follows what the server returned, or the schedule interval before any answer', () => {
    assert.equal(nextCheckInDelaySeconds({ enrolledAt, schedule, nextCheckInSeconds: 3600 }, enrolledMs + 900_000), 3600);
    assert.equal(nextCheckInDelaySeconds({ enrolledAt, schedule, nextCheckInSeconds: null }, enrolledMs + 901_000), 28_800);
  });

  it('never spins on a zero delay', () => {
    assert.equal(nextCheckInDelaySeconds({ enrolledAt, schedule, nextCheckInSeconds: 0 }, enrolledMs + 10_000_000), 1);
  });
});

describe('retryDelaySeconds', () => {
  it('backs off exponentially, capped by the regular delay and an hour', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => retryDelaySeconds(n, 180)),
      [30, 60, 120, 180],
    );
    assert.equal(retryDelaySeconds(12, 28_800), 3600);
  });

  it('honours Retry-After', () => {
    assert.equal(retryDelaySeconds(1, 28_800, 120), 120);
  });
});
