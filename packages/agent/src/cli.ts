/**
 * `custos-agent` (SPEC §10): enroll, sync, run, status, unenroll. This file only parses arguments
 * and prints; the work happens in the modules it calls. Exit codes: 0 success, 1 the server
 * refused or could not be reached, 2 the command cannot be carried out as given.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { checkIn, type CheckInResult } from './check-in.js';
import { DeviceClient, isInsecureServerUrl, normalizeServerUrl } from './client.js';
import { askForConsent, consentText, type ConsentMethod } from './consent.js';
import { checkInAndRunCommands, type CheckInWithCommands } from './command-runner.js';
import { runDaemon } from './daemon.js';
import { ACTIONS_MODES, type ActionOptions, type ActionsMode } from './device-actions.js';
import { enrollDevice } from './enrollment.js';
import { profileOptions } from './profiles/apply-profiles.js';
import { EXIT_USAGE, reportError } from './error-report.js';
import { readStatus } from './status.js';
import { withStateLock } from './state-lock.js';
import { ensureStateDir, requireState } from './state.js';
import { unenrollDevice } from './unenroll.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

interface JsonOption {
  json?: boolean;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function fail(error: unknown, json: boolean): void {
  const report = reportError(error);
  process.stderr.write(report.lines.map((line, i) => (i === 0 ? `custos-agent: ${line}` : line)).join('\n') + '\n');
  if (json) printJson(report.json);
  process.exitCode = report.exitCode;
}

/** Every action reports its own failures, so `--json` callers get a JSON object either way. */
function reporting<T extends object>(action: (options: T) => Promise<void>): (options: T) => Promise<void> {
  return async (options) => {
    try {
      await action(options);
    } catch (error) {
      fail(error, (options as JsonOption).json === true);
    }
  };
}

function describeCheckIn(result: CheckInResult): string {
  const sent = { digest: 'no changes', delta: 'changes only', full: 'full inventory' }[result.sent];
  return `inventory ${result.inventory} (sent ${sent}); next check-in in ${result.nextCheckInSeconds} s`;
}

const stateDirOption = () =>
  new Option('--state-dir <dir>', "directory holding this device's identity and state (created with mode 0700 if missing)")
    .env('CUSTOS_AGENT_STATE_DIR')
    .makeOptionMandatory();
const jsonOption = () => new Option('--json', 'print one JSON object on stdout instead of text');
const actionsOption = () =>
  new Option(
    '--actions <mode>',
    'how to carry out lock, restart, rename and wipe commands: "real" runs the platform tools; ' +
      `"simulate" only records each in <state-dir>/simulated-actions.jsonl and acknowledges it (tests, demos)`,
  )
    .choices(ACTIONS_MODES)
    .env('CUSTOS_AGENT_ACTIONS')
    .default('real');
const allowWipeOption = () =>
  new Option('--allow-wipe', 'carry out wipe commands (Windows: factory reset); without it a wipe is refused and reported as an error');

const profileRootOption = () =>
  new Option(
    '--profile-root <dir>',
    'root-less mode for configuration profiles: write NetworkManager keyfiles, trust anchors and certificates under this directory ' +
      'and run no system command (default: the real system, or <state-dir>/profile-root with --actions simulate)',
  ).env('CUSTOS_AGENT_PROFILE_ROOT');

interface ActionFlags {
  actions: ActionsMode;
  allowWipe?: boolean;
  profileRoot?: string;
}

function actionOptions(flags: ActionFlags): ActionOptions {
  return { mode: flags.actions, allowWipe: flags.allowWipe === true };
}

function describeProfiles(result: CheckInWithCommands): string {
  if (result.profilesError !== undefined) return `; profiles not applied: ${result.profilesError}`;
  if (!result.profiles) return '';
  const each = result.profiles.results.map((r) => `${r.profileId} ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
  const removed = result.profiles.removed.length > 0 ? [`${result.profiles.removed.length} removed`] : [];
  return `; profiles: ${[...each, ...removed].join(', ') || 'none'}`;
}

function describeCommands(result: CheckInWithCommands): string {
  if (result.outcomes.length === 0) return describeProfiles(result);
  const each = result.outcomes.map(
    (o) => `${o.action} ${o.status}${o.detail ? ` (${o.detail})` : ''}${o.reported ? '' : ' [not reported]'}`,
  );
  return `; commands: ${each.join(', ')}${describeProfiles(result)}`;
}

const program = new Command()
  .name('custos-agent')
  .description('Enrolls this device with a Custos server and reports its inventory as the privacy catalog allows.')
  .version(version)
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)');

program
  .command('enroll')
  .description(
    "Enroll this device: show the organization's privacy statement and what it will see, ask for consent, " +
      'create a device key (it never leaves this device), get it certified, then send the first inventory.',
  )
  .addOption(new Option('--server <url>', 'base URL of the Custos server, e.g. https://custos.example.com').makeOptionMandatory())
  .addOption(
    new Option(
      '--token <token>',
      'enrollment token from your IT department (or set CUSTOS_ENROLLMENT_TOKEN to keep it out of the process list)',
    )
      .env('CUSTOS_ENROLLMENT_TOKEN')
      .makeOptionMandatory(),
  )
  .addOption(stateDirOption())
  .option('--yes', 'consent without asking (unattended enrollment by an administrator)')
  .addOption(jsonOption())
  .action(
    reporting(async (options: { server: string; token: string; stateDir: string; yes?: boolean; json?: boolean }) => {
      const serverUrl = normalizeServerUrl(options.server);
      const human = options.json ? process.stderr : process.stdout;
      if (isInsecureServerUrl(serverUrl)) {
        process.stderr.write('custos-agent: warning: plain http:// to another machine exposes the device session key; use https://.\n');
      }
      await ensureStateDir(options.stateDir);
      await withStateLock(options.stateDir, async () => {
        const { state, info } = await enrollDevice({
          serverUrl,
          token: options.token,
          stateDir: options.stateDir,
          obtainConsent: async (enrollmentInfo): Promise<ConsentMethod | undefined> => {
            human.write(`${consentText(enrollmentInfo)}\n\n`);
            if (options.yes || !process.stdin.isTTY) return 'unattended';
            return (await askForConsent(human)) ? 'interactive' : undefined;
          },
        });
        const enrollment = {
          tenantId: state.tenantId,
          deviceId: state.deviceId,
          tenantName: info.tenantName,
          server: state.serverUrl,
          platform: state.platform,
          ownership: state.ownership,
          appInventoryScope: state.appInventoryScope,
          schedule: state.schedule,
          consent: state.consent,
          enrolledAt: state.enrolledAt,
        };
        if (!options.json) human.write(`Enrolled: device ${state.deviceId} in ${info.tenantName} (tenant ${state.tenantId}).\n`);
        try {
          const sync = await checkIn(new DeviceClient(options.stateDir, state), { full: true });
          if (options.json) printJson({ ...enrollment, sync });
          else human.write(`First check-in: ${describeCheckIn(sync)}.\n`);
        } catch (error) {
          // Enrolled all the same: the state is saved, and `sync` or the daemon will report later.
          const report = reportError(error);
          process.stderr.write(`custos-agent: enrolled, but the first check-in failed: ${report.lines.join('\n')}\n`);
          if (options.json) printJson({ ...enrollment, sync: null, syncError: report.json['error'] });
          process.exitCode = report.exitCode;
        }
      });
    }),
  );

program
  .command('sync')
  .description('Check in now: report what changed in the inventory since the server last accepted one.')
  .addOption(stateDirOption())
  .option(
    '--inventory-from <file>',
    'send this inventory document (JSON: { "hardware": {...}, "apps": [...] }) whole, as is, instead of collecting one',
  )
  .option('--full', 'send the whole inventory, not only the changes')
  .addOption(actionsOption())
  .addOption(allowWipeOption())
  .addOption(profileRootOption())
  .addOption(jsonOption())
  .action(
    reporting(async (options: { stateDir: string; inventoryFrom?: string; full?: boolean; json?: boolean } & ActionFlags) => {
      const result = await withStateLock(options.stateDir, async () => {
        const state = await requireState(options.stateDir);
        return checkInAndRunCommands(
          new DeviceClient(options.stateDir, state),
          options.stateDir,
          actionOptions(options),
          {
            ...(options.full ? { full: true } : {}),
            ...(options.inventoryFrom !== undefined ? { inventoryFromFile: options.inventoryFrom } : {}),
          },
          profileOptions(options.stateDir, options.profileRoot, options.actions),
        );
      });
      if (options.json) printJson(result);
      else if (result.retired)
        process.stdout.write('Retired by the server: this device left management; its state and private key are deleted.\n');
      else process.stdout.write(`Checked in: ${describeCheckIn(result)}${describeCommands(result)}.\n`);
    }),
  );

program
  .command('run')
  .description(
    "Run as a daemon: check in now, then every few minutes just after enrollment and on the server's schedule after that. " +
      'Logs one line per check-in; stops cleanly on SIGINT or SIGTERM.',
  )
  .addOption(stateDirOption())
  .addOption(actionsOption())
  .addOption(allowWipeOption())
  .addOption(profileRootOption())
  .option('--no-push', 'do not hold the push channel; check in on the schedule only')
  .action(
    reporting(async (options: { stateDir: string; push: boolean } & ActionFlags) => {
      const state = await requireState(options.stateDir);
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.stderr.write(`custos-agent: checking in as device ${state.deviceId} with ${state.serverUrl}; stop with Ctrl-C or SIGTERM.\n`);
      try {
        await runDaemon(
          options.stateDir,
          controller.signal,
          {
            checkedIn: (result, next) =>
              process.stdout.write(
                `${new Date().toISOString()} check-in ok: ${describeCheckIn({ ...result, nextCheckInSeconds: next })}${describeCommands(result)}\n`,
              ),
            failed: (error, retry) =>
              process.stderr.write(
                `${new Date().toISOString()} check-in failed: ${reportError(error).lines.join(' ')}; retrying in ${retry} s\n`,
              ),
            connected: () => process.stderr.write(`${new Date().toISOString()} push channel connected\n`),
            disconnected: (reason, retry) =>
              process.stderr.write(`${new Date().toISOString()} push channel down: ${reason}; reconnecting in ${retry} s\n`),
            retired: () =>
              process.stdout.write(
                `${new Date().toISOString()} retired by the server: this device left management; its state and private key are deleted\n`,
              ),
          },
          {
            actions: actionOptions(options),
            profiles: profileOptions(options.stateDir, options.profileRoot, options.actions),
            push: options.push,
          },
        );
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      process.stderr.write('custos-agent: stopped.\n');
    }),
  );

program
  .command('status')
  .description(
    'Show whether this device is enrolled, with which server, tenant and device ID, and when it last checked in. Shows no secrets.',
  )
  .addOption(stateDirOption())
  .addOption(jsonOption())
  .action(
    reporting(async (options: { stateDir: string; json?: boolean }) => {
      const status = await readStatus(options.stateDir);
      if (options.json) return printJson(status);
      if (!status.enrolled) {
        process.stdout.write(`Not enrolled (no state in ${status.stateDir}).\n`);
        return;
      }
      const rows: [string, string | number | null | undefined][] = [
        ['Enrolled', 'yes'],
        ['Server', status.server],
        ['Tenant ID', status.tenantId],
        ['Device ID', status.deviceId],
        ['Platform', `${status.platform ?? ''} (${status.ownership ?? ''})`],
        ['Apps reported', status.appInventoryScope === 'managed-only' ? 'only apps your organization manages' : 'all installed apps'],
        ['Enrolled at', status.enrolledAt],
        ['Last sync', status.lastSyncAt ?? 'never'],
        ['Certificate expires', status.certificateExpiresAt ?? 'unknown'],
      ];
      process.stdout.write(rows.map(([label, value]) => `${`${label}:`.padEnd(21)}${String(value ?? '')}`).join('\n') + '\n');
    }),
  );

program
  .command('unenroll')
  .description("Leave management: tell the server, then delete this device's state and private key.")
  .addOption(stateDirOption())
  .addOption(jsonOption())
  .action(
    reporting(async (options: { stateDir: string; json?: boolean }) => {
      const result = await withStateLock(options.stateDir, () => unenrollDevice(options.stateDir));
      if (options.json) return printJson({ unenrolled: true, ...result });
      process.stdout.write(
        result.alreadyRetired
          ? `The server had already retired device ${result.deviceId}; its local state and private key are deleted.\n`
          : `Unenrolled device ${result.deviceId}; its local state and private key are deleted.\n`,
      );
    }),
  );

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Commander reports usage mistakes itself (and help/version as exit code 0) before throwing.
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  else fail(error, false);
}
