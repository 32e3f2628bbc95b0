/**
 * When the daemon checks in next (SPEC §6): often just after enrollment, so a new device shows up
 * complete and picks up its first policies quickly, then as the server asks.
 */
import type { AgentState } from './state.js';

const MIN_DELAY_SECONDS = 1;
/** Timers cannot wait longer than 2^31-1 ms (~24.8 days); a week is far beyond any real schedule. */
const MAX_DELAY_SECONDS = 7 * 24 * 3600;
const FIRST_RETRY_SECONDS = 30;
const MAX_RETRY_SECONDS = 3600;

function clamp(seconds: number): number {
  if (!Number.isFinite(seconds)) return MAX_DELAY_SECONDS;
  return Math.min(MAX_DELAY_SECONDS, Math.max(MIN_DELAY_SECONDS, Math.round(seconds)));
}

export function nextCheckInDelaySeconds(state: Pick<AgentState, 'enrolledAt' | 'schedule' | 'nextCheckInSeconds'>, nowMs: number): number {
  const initialPeriodEnds = Date.parse(state.enrolledAt) + state.schedule.initialPeriodSeconds * 1000;
  if (nowMs < initialPeriodEnds) return clamp(state.schedule.initialIntervalSeconds);
  return clamp(state.nextCheckInSeconds ?? state.schedule.intervalSeconds);
}

/**
 * After a failed check-in: what the server asked for (Retry-After) if anything, else exponential
 * back-off from 30 s, never longer than the regular delay or an hour, so a brief outage is bridged
 * quickly and a long one does not have every device hammering the server.
 */
export function retryDelaySeconds(consecutiveFailures: number, regularDelaySeconds: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined) return clamp(retryAfterSeconds);
  const backoff = FIRST_RETRY_SECONDS * 2 ** Math.max(0, consecutiveFailures - 1);
  return clamp(Math.min(backoff, regularDelaySeconds, MAX_RETRY_SECONDS));
}
