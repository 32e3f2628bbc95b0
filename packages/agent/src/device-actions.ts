/**
 * Carrying out the device actions a check-in delivers (SPEC §6): lock, restart and rename with each
 * platform's own tool; wipe only when the agent was started with `--allow-wipe`; retire and the
 * inventory actions are handled by the command runner (`command-runner.ts`).
 *
 * In `simulate` mode (`--actions simulate`, `CUSTOS_AGENT_ACTIONS=simulate`) nothing is run: each
 * action appends one JSON line to `<state-dir>/simulated-actions.jsonl` and is acknowledged. That is
 * what tests, demos and development machines use; a lock or reboot of the machine running them
 * would be a surprise nobody wants.
 *
 * A failure (not root, tool missing, non-zero exit) is reported to the server as `error` with the
 * tool's own message; it never stops the agent.
 */
import { execFile } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEVICE_NAME_PATTERN, type CommandResult, type DeliveredCommand } from '@custos/shared';
import type { AgentPlatform } from './agent-platform.js';

export const ACTIONS_MODES = ['real', 'simulate'] as const;
export type ActionsMode = (typeof ACTIONS_MODES)[number];
export const SIMULATED_ACTIONS_FILE = 'simulated-actions.jsonl';
export const WIPE_DISABLED_DETAIL = 'wipe is not enabled on this agent (start it with --allow-wipe)';

export interface ActionOptions {
  mode: ActionsMode;
  allowWipe: boolean;
}

/** One platform tool invocation, without a shell. */
interface Invocation {
  file: string;
  args: string[];
}

const deviceNamePattern = new RegExp(DEVICE_NAME_PATTERN);
const TOOL_TIMEOUT_MS = 60_000;
const MAX_DETAIL_LENGTH = 1000;

export const RESTART_DELAY_MINUTES = 5;
const RESTART_MESSAGE = `Your IT department restarts this device in ${RESTART_DELAY_MINUTES} minutes (Custos). Save your work.`;

/** The tools for an action on a platform, or a reason it cannot be done there. */
export function invocationsFor(command: DeliveredCommand, platform: AgentPlatform): Invocation[] | string {
  switch (command.action) {
    case 'lock':
      return {
        linux: [{ file: 'loginctl', args: ['lock-sessions'] }],
        macos: [{ file: 'pmset', args: ['displaysleepnow'] }],
        windows: [{ file: 'rundll32.exe', args: ['user32.dll,LockWorkStation'] }],
      }[platform];
    case 'restart':
      // A restart is announced and scheduled, not immediate: the person at the device gets
      // RESTART_DELAY_MINUTES to save their work (and an administrator can cancel it there).
      return {
        linux: [{ file: 'shutdown', args: ['-r', `+${RESTART_DELAY_MINUTES}`, RESTART_MESSAGE] }],
        macos: [{ file: 'shutdown', args: ['-r', `+${RESTART_DELAY_MINUTES}`] }],
        windows: [{ file: 'shutdown', args: ['/r', '/t', String(RESTART_DELAY_MINUTES * 60), '/c', RESTART_MESSAGE] }],
      }[platform];
    case 'rename': {
      const name = command.payload?.deviceName;
      // The server checks the name too; a command is still never handed to a tool unchecked.
      if (!name || !deviceNamePattern.test(name)) return 'rename needs a host name of letters, digits and hyphens';
      return {
        linux: [{ file: 'hostnamectl', args: ['set-hostname', name] }],
        macos: ['ComputerName', 'HostName', 'LocalHostName'].map((key) => ({ file: 'scutil', args: ['--set', key, name] })),
        windows: [
          { file: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-Command', 'Rename-Computer', '-NewName', name, '-Force'] },
        ],
      }[platform];
    }
    case 'wipe':
      return platform === 'windows'
        ? [{ file: 'systemreset', args: ['-factoryreset'] }]
        : `wipe is not supported by the agent on ${platform}; erase the device with the platform's own tools`;
    case 'sync':
    case 'collect-inventory':
    case 'retire':
      return [];
  }
}

function run(invocation: Invocation): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      invocation.file,
      invocation.args,
      { timeout: TOOL_TIMEOUT_MS, windowsHide: true, encoding: 'utf8' },
      (error, _stdout, stderr) => {
        if (!error) return resolve({ status: 'acknowledged' });
        const reason = stderr.trim() || error.message;
        resolve({ status: 'error', detail: `${invocation.file} failed: ${reason}`.slice(0, MAX_DETAIL_LENGTH) });
      },
    );
  });
}

/** Lock, restart, rename or wipe; the other actions have nothing to run here. */
export async function performAction(
  command: DeliveredCommand,
  platform: AgentPlatform,
  stateDir: string,
  options: ActionOptions,
): Promise<CommandResult> {
  if (command.action === 'wipe' && !options.allowWipe) return { status: 'error', detail: WIPE_DISABLED_DETAIL };
  const invocations = invocationsFor(command, platform);
  if (typeof invocations === 'string') return { status: 'error', detail: invocations };
  if (options.mode === 'simulate') {
    const line = {
      at: new Date().toISOString(),
      commandId: command.id,
      action: command.action,
      payload: command.payload,
      platform,
      wouldRun: invocations,
    };
    await appendFile(join(stateDir, SIMULATED_ACTIONS_FILE), `${JSON.stringify(line)}\n`, { mode: 0o600 });
    return { status: 'acknowledged' };
  }
  for (const invocation of invocations) {
    const result = await run(invocation);
    if (result.status !== 'acknowledged') return result;
  }
  return { status: 'acknowledged' };
}
