/**
 * `custos-agent run`: check in now, then on the schedule, until SIGINT/SIGTERM; meanwhile hold the
 * push channel, and check in at once when the server says a command is waiting. Every check-in
 * carries out the commands it receives. The state lock is held only while a check-in (with its
 * commands) runs, so `sync` and `status` work while the daemon sleeps.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeviceRetired, ServerProblemError, UsageError } from './agent-errors.js';
import { DeviceClient } from './client.js';
import { checkInAndRunCommands, type CheckInWithCommands } from './command-runner.js';
import type { ActionOptions } from './device-actions.js';
import type { ProfileOptions } from './profiles/apply-profiles.js';
import { holdPushChannel, type PushLog } from './push-channel.js';
import { nextCheckInDelaySeconds, retryDelaySeconds } from './schedule.js';
import { withStateLock } from './state-lock.js';
import { requireState, type AgentState } from './state.js';

export interface DaemonLog extends Partial<PushLog> {
  checkedIn(result: CheckInWithCommands, nextInSeconds: number): void;
  failed(error: unknown, retryInSeconds: number): void;
  /** A retire command was acknowledged: the device left management and its state is deleted. */
  retired?(): void;
}

export interface DaemonOptions {
  actions: ActionOptions;
  /** Where and how configuration profiles are applied (default: from the actions mode). */
  profiles?: ProfileOptions;
  /** Hold the push channel (default true). */
  push?: boolean;
}

async function checkInOnce(
  stateDir: string,
  signal: AbortSignal,
  actions: ActionOptions,
  profiles: ProfileOptions | undefined,
): Promise<{ result: CheckInWithCommands; state: AgentState }> {
  return withStateLock(stateDir, async () => {
    const state = await requireState(stateDir);
    const result = await checkInAndRunCommands(new DeviceClient(stateDir, state, signal), stateDir, actions, {}, profiles);
    return { result, state };
  });
}

/** A sleep that a wake-up ends early; a wake-up during a check-in makes the next sleep zero. */
class Alarm {
  private ring: (() => void) | undefined;
  private rang = false;

  wake(): void {
    this.rang = true;
    this.ring?.();
  }

  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.rang) {
      this.rang = false;
      return;
    }
    const woken = new Promise<void>((resolve) => (this.ring = resolve));
    const timer = new AbortController();
    // Ends quietly when stopped: the daemon's loop sees `signal.aborted` itself.
    const elapsed = sleep(ms, undefined, { signal: AbortSignal.any([signal, timer.signal]) }).catch(() => undefined);
    try {
      await Promise.race([woken, elapsed]);
    } finally {
      timer.abort();
      this.ring = undefined;
      this.rang = false;
    }
  }
}

/** Resolves when `signal` aborts or a retire command was carried out; rejects when the device was retired or its state removed. */
export async function runDaemon(stateDir: string, signal: AbortSignal, log: DaemonLog, options: DaemonOptions): Promise<void> {
  const alarm = new Alarm();
  const stopPush = new AbortController();
  const pushSignal = AbortSignal.any([signal, stopPush.signal]);
  const push =
    options.push === false
      ? Promise.resolve()
      : holdPushChannel(stateDir, pushSignal, () => alarm.wake(), {
          connected: () => log.connected?.(),
          disconnected: (reason, retry) => log.disconnected?.(reason, retry),
        });
  try {
    let failures = 0;
    let regularDelay = nextCheckInDelaySeconds(await requireState(stateDir), Date.now());
    while (!signal.aborted) {
      let delay: number;
      try {
        const { result, state } = await checkInOnce(stateDir, signal, options.actions, options.profiles);
        failures = 0;
        if (result.retired) {
          log.retired?.();
          return;
        }
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
      await alarm.sleep(delay * 1000, signal);
    }
  } finally {
    stopPush.abort();
    await push;
  }
}
