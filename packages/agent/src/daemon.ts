/**
 * `custos-agent run`: check in now, then on the schedule, until SIGINT/SIGTERM. The state lock is
 * held only while a check-in runs, so `sync` and `status` work while the daemon sleeps.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeviceRetired, ServerProblemError, UsageError } from './agent-errors.js';
import { checkIn, type CheckInResult } from './check-in.js';
import { DeviceClient } from './client.js';
import { nextCheckInDelaySeconds, retryDelaySeconds } from './schedule.js';
import { withStateLock } from './state-lock.js';
import { requireState, type AgentState } from './state.js';

export interface DaemonLog {
  checkedIn(result: CheckInResult, nextInSeconds: number): void;
  failed(error: unknown, retryInSeconds: number): void;
}

async function checkInOnce(stateDir: string, signal: AbortSignal): Promise<{ result: CheckInResult; state: AgentState }> {
  return withStateLock(stateDir, async () => {
    const state = await requireState(stateDir);
    const result = await checkIn(new DeviceClient(stateDir, state, signal));
    return { result, state };
  });
}

/** Resolves when `signal` aborts; rejects when the device was retired or its state removed. */
export async function runDaemon(stateDir: string, signal: AbortSignal, log: DaemonLog): Promise<void> {
  let failures = 0;
  let regularDelay = nextCheckInDelaySeconds(await requireState(stateDir), Date.now());
  while (!signal.aborted) {
    let delay: number;
    try {
      const { result, state } = await checkInOnce(stateDir, signal);
      failures = 0;
      regularDelay = delay = nextCheckInDelaySeconds(state, Date.now());
      log.checkedIn(result, delay);
    } catch (error) {
      if (signal.aborted) return;
      // Nothing to wait for: the credential is revoked, or someone unenrolled this state directory.
      if (isDeviceRetired(error) || error instanceof UsageError) throw error;
      failures += 1;
      delay = retryDelaySeconds(failures, regularDelay, error instanceof ServerProblemError ? error.retryAfterSeconds : undefined);
      log.failed(error, delay);
    }
    try {
      await sleep(delay * 1000, undefined, { signal });
    } catch {
      return;
    }
  }
}
