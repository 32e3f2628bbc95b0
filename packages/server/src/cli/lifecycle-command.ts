/**
 * The subscription lifecycle on the command line (SPEC §10, domain/lifecycle/):
 * - `custos lifecycle tick [--now ISO]` runs every due transition (as the server's scheduler does);
 * - `custos tenant subscription --tenant ID (--ends-at ISO | --renew [--until ISO] | --cancel |
 *   --request-deletion | --withdraw-deletion)` is the operator's handle on a subscription;
 * - `custos purge-receipt verify (FILE | --tenant ID)` checks a purge receipt's signature.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config.js';
import { openRuntime, type Runtime } from '../compose.js';
import type { Actor } from '../domain/access/authorize.js';
import { fixedClock, systemClock, type Clock } from '../domain/clock.js';
import type { AppliedTransition } from '../domain/lifecycle/lifecycle-service.js';
import { verifyPurgeReceipt } from '../domain/lifecycle/purge-receipt.js';

const CLI_ACTOR: Actor = { type: 'system', id: 'cli', name: 'custos command line' };

function isoTime(value: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) {
    throw new InvalidArgumentError('must be an ISO 8601 date-time, e.g. 2030-01-31T12:00:00Z.');
  }
  return ms;
}

async function withRuntime<T>(command: Command, clock: Clock, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const globals = command.optsWithGlobals<{ config?: string; dataDir?: string }>();
  const runtime = await openRuntime(loadConfig(process.env, { configFile: globals.config, dataDir: globals.dataDir }), clock);
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

function transitionDto(t: AppliedTransition): Record<string, unknown> {
  return {
    tenantId: t.tenantId,
    from: t.from,
    to: t.to,
    at: new Date(t.at).toISOString(),
    reason: t.reason,
    mail: t.mail,
    ...(t.receipt ? { receipt: t.receipt } : {}),
  };
}

export function addLifecycleCommands(program: Command): void {
  const lifecycle = program
    .command('lifecycle')
    .description('The subscription lifecycle: active → warning → suspended → retention → purged');
  lifecycle
    .command('tick')
    .description('Run every lifecycle transition that is due (the server runs the same job hourly)')
    .option('--now <iso>', 'treat this time as now, e.g. 2030-01-31T12:00:00Z', isoTime)
    .option('--json', 'print JSON')
    .action(async (options: { now?: number; json?: boolean }, command: Command) => {
      const clock = options.now === undefined ? systemClock : fixedClock(options.now);
      await withRuntime(command, clock, async ({ services }) => {
        const applied = await services.lifecycle.tick(CLI_ACTOR);
        const items = applied.map(transitionDto);
        print(options.json ?? false, { now: new Date(clock.now()).toISOString(), transitions: items }, () =>
          items.length === 0
            ? 'No lifecycle transition is due.'
            : applied.map((t) => `${t.tenantId}: ${t.from} → ${t.to} (${t.reason}; mail ${t.mail})`).join('\n'),
        );
      });
    });

  const receipt = program.command('purge-receipt').description('Signed receipts of purged tenants');
  receipt
    .command('verify')
    .description("Verify a purge receipt's Ed25519 signature (a file, or a purged tenant's tombstone); exits 1 when it does not verify")
    .argument('[file]', 'the receipt as JSON')
    .option('--tenant <id>', "the purged tenant whose tombstone's receipt to verify")
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, options: { tenant?: string; json?: boolean }, command: Command) => {
      if ((file === undefined) === (options.tenant === undefined))
        throw new InvalidArgumentError('Give either a receipt FILE or --tenant ID.');
      let receiptJson: unknown;
      let expectedKey: string | undefined;
      if (file !== undefined) {
        try {
          receiptJson = JSON.parse(readFileSync(file, 'utf8'));
        } catch (error) {
          throw new InvalidArgumentError(
            `${file} is not a readable JSON file (${error instanceof Error ? error.message : String(error)}).`,
          );
        }
      } else {
        await withRuntime(command, systemClock, async ({ services }) => {
          const tombstone = await services.lifecycle.tombstone(options.tenant ?? '');
          if (!tombstone) throw new InvalidArgumentError(`Tenant ${options.tenant} has no purge receipt (not purged, or unknown).`);
          receiptJson = tombstone.receipt;
          expectedKey = tombstone.receipt.publicKey;
        });
      }
      const verdict = verifyPurgeReceipt(receiptJson, expectedKey);
      print(options.json ?? false, verdict, () =>
        verdict.valid
          ? `Purge receipt valid (signing key fingerprint ${verdict.fingerprint}).`
          : `Purge receipt INVALID: ${verdict.reason}.`,
      );
      if (!verdict.valid) process.exitCode = 1;
    });
}

/** `custos tenant subscription`: added under the `tenant` command by program.ts. */
export function addTenantSubscriptionCommand(tenant: Command): void {
  tenant
    .command('subscription')
    .description('Show or change a subscription: end date, renewal, cancellation, deletion request')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--ends-at <iso>', 'the subscription ends then (the tenant moves to warning at that time)', isoTime)
    .option('--renew', 'renew: back to active from any state before purged (withdraws a deletion request)')
    .option('--until <iso>', 'with --renew: the renewed subscription ends then (default: open-ended)', isoTime)
    .option('--cancel', 'cancel now: straight to retention (read-only, export allowed)')
    .option('--request-deletion', 'purge every row after the confirmation window (CUSTOS_LIFECYCLE_DELETION_CONFIRM_DAYS)')
    .option('--withdraw-deletion', 'withdraw a pending deletion request')
    .option('--json', 'print JSON')
    .action(
      async (
        options: {
          tenant: string;
          endsAt?: number;
          renew?: boolean;
          until?: number;
          cancel?: boolean;
          requestDeletion?: boolean;
          withdrawDeletion?: boolean;
          json?: boolean;
        },
        command: Command,
      ) => {
        const chosen = [
          options.endsAt !== undefined,
          options.renew,
          options.cancel,
          options.requestDeletion,
          options.withdrawDeletion,
        ].filter(Boolean);
        if (chosen.length > 1)
          throw new InvalidArgumentError('Choose one of --ends-at, --renew, --cancel, --request-deletion, --withdraw-deletion.');
        if (options.until !== undefined && !options.renew) throw new InvalidArgumentError('--until goes with --renew.');
        await withRuntime(command, systemClock, async ({ services }) => {
          const lifecycle = services.lifecycle;
          if (options.endsAt !== undefined) await lifecycle.setSubscriptionEnd(CLI_ACTOR, options.tenant, options.endsAt);
          else if (options.renew) await lifecycle.renew(CLI_ACTOR, options.tenant, options.until ?? null);
          else if (options.cancel) await lifecycle.cancel(CLI_ACTOR, options.tenant);
          else if (options.requestDeletion) await lifecycle.requestDeletion(CLI_ACTOR, options.tenant);
          else if (options.withdrawDeletion) await lifecycle.withdrawDeletion(CLI_ACTOR, options.tenant);
          const view = await lifecycle.view(CLI_ACTOR, options.tenant);
          const value = {
            tenantId: options.tenant,
            state: view.state,
            stateSince: new Date(view.stateSince).toISOString(),
            subscriptionEndsAt: view.subscriptionEndsAt === null ? null : new Date(view.subscriptionEndsAt).toISOString(),
            deletionRequestedAt: view.deletionRequestedAt === null ? null : new Date(view.deletionRequestedAt).toISOString(),
            next: view.next && { state: view.next.state, at: new Date(view.next.at).toISOString() },
            notice: view.notice,
          };
          print(options.json ?? false, value, () =>
            Object.entries(value)
              .map(([k, v]) => `${k.padEnd(22)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
              .join('\n'),
          );
        });
      },
    );
}
