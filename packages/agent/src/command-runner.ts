/**
 * A check-in that also carries out what the server queued (SPEC §6): every check-in, `sync` and the
 * daemon alike, runs the commands it receives and reports each result.
 *
 * `sync` and `collect-inventory` are a whole-inventory check-in (which may bring more commands; they
 * are run too, a bounded number of rounds). `retire` is acknowledged first, which retires the record
 * on the server, and then the company data the agent manages is removed: for now its own key and
 * state. A restart and a retirement end what this process can do, so they run after the others.
 * After the commands, a changed configuration profile set (the check-in's `profilesDigest`) is
 * applied (profiles/apply-profiles.ts).
 */
import type { CommandResult, DeliveredCommand } from '@custos/shared';
import { ServerProblemError } from './agent-errors.js';
import { checkIn, type CheckInOptions, type CheckInResult } from './check-in.js';
import type { DeviceClient } from './client.js';
import { performAction, type ActionOptions } from './device-actions.js';
import {
  profileOptions,
  profilesChanged,
  removeAllProfiles,
  syncProfiles,
  type ProfileOptions,
  type ProfileSyncResult,
} from './profiles/apply-profiles.js';
import { deleteState } from './state.js';

/** Inventory check-ins asked for by commands may bring more commands; this bounds the loop. */
const MAX_ROUNDS = 5;
const RUN_LAST: readonly DeliveredCommand['action'][] = ['restart', 'retire'];

export interface CommandOutcome {
  id: string;
  action: DeliveredCommand['action'];
  status: CommandResult['status'];
  detail?: string;
  /** False when the server did not take the result (the command expired meanwhile, say). */
  reported: boolean;
}

export interface CheckInWithCommands extends CheckInResult {
  outcomes: CommandOutcome[];
  /** The device acknowledged a retire command; its state and key are gone. */
  retired: boolean;
  /** Present when the check-in announced a changed profile set and the agent applied it. */
  profiles?: ProfileSyncResult;
  /** Why the changed profile set could not be applied (the next check-in tries again). */
  profilesError?: string;
}

function inRunOrder(commands: readonly DeliveredCommand[]): DeliveredCommand[] {
  const rank = (c: DeliveredCommand) => RUN_LAST.indexOf(c.action);
  return [...commands].sort((a, b) => rank(a) - rank(b));
}

async function report(client: DeviceClient, command: DeliveredCommand, result: CommandResult): Promise<CommandOutcome> {
  let reported = true;
  try {
    await client.reportCommandResult(command.id, result);
  } catch (error) {
    // A command that expired or was answered meanwhile is the server's to judge; go on with the rest.
    if (!(error instanceof ServerProblemError) || error.problem.status >= 500) throw error;
    reported = false;
  }
  return { id: command.id, action: command.action, status: result.status, ...(result.detail ? { detail: result.detail } : {}), reported };
}

export async function checkInAndRunCommands(
  client: DeviceClient,
  stateDir: string,
  actions: ActionOptions,
  options: CheckInOptions = {},
  profiles: ProfileOptions = profileOptions(stateDir, undefined, actions.mode),
): Promise<CheckInWithCommands> {
  let latest = await checkIn(client, options);
  const outcomes: CommandOutcome[] = [];
  let queue = latest.commands;
  for (let round = 0; queue.length > 0 && round < MAX_ROUNDS; round += 1) {
    const next: DeliveredCommand[] = [];
    for (const command of inRunOrder(queue)) {
      // A newer server may know actions this agent does not.
      let result: CommandResult = { status: 'error', detail: `This agent does not support the action "${String(command.action)}".` };
      switch (command.action) {
        case 'sync':
        case 'collect-inventory': {
          try {
            latest = await checkIn(client, { ...options, full: true });
            next.push(...latest.commands);
            result = { status: 'acknowledged' };
          } catch (error) {
            if (error instanceof ServerProblemError && error.problem.status < 500 && error.problem.status !== 401) {
              result = { status: 'error', detail: error.message };
            } else throw error;
          }
          break;
        }
        case 'retire': {
          const outcome = await report(client, command, { status: 'acknowledged' });
          outcomes.push(outcome);
          if (outcome.reported) {
            // Company profiles go with the device's management (SPEC §6): exactly the files recorded.
            await removeAllProfiles(client.state);
            await deleteState(stateDir);
            return { ...latest, outcomes, retired: true };
          }
          continue;
        }
        case 'lock':
        case 'restart':
        case 'rename':
        case 'wipe':
          try {
            result = await performAction(command, client.state.platform, stateDir, actions);
          } catch (error) {
            result = { status: 'error', detail: error instanceof Error ? error.message : String(error) };
          }
          break;
      }
      outcomes.push(await report(client, command, result));
    }
    queue = next;
  }
  if (!profilesChanged(latest.profilesDigest, client.state.profiles)) return { ...latest, outcomes, retired: false };
  try {
    return { ...latest, outcomes, retired: false, profiles: await syncProfiles(client, profiles) };
  } catch (error) {
    // The check-in itself succeeded; a refused profile exchange is reported and tried again next time.
    if (!(error instanceof ServerProblemError) || error.problem.status >= 500 || error.problem.status === 401) throw error;
    return { ...latest, outcomes, retired: false, profilesError: error.message };
  }
}
