/**
 * The operator plane on the command line (SPEC §5):
 * - `custos operator create|list|disable`: the people who run the deployment. `create` prints the
 *   initial password and the TOTP secret (and its otpauth:// URI) once; MFA cannot be turned off.
 * - `custos access-review`: every principal with access to customer data across all tenants, with
 *   last use; `--revoke ID` revokes (an operator, an API token, a role assignment), `--record
 *   --reviewer NAME` stores the review and writes it into each tenant's audit log.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config.js';
import { openRuntime, type Runtime } from '../compose.js';
import type { Actor } from '../domain/access/authorize.js';
import type { AccessReviewReport, RevocationResult } from '../domain/operators/access-review.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function withRuntime<T>(command: Command, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const globals = command.optsWithGlobals<{ config?: string; dataDir?: string }>();
  const runtime = await openRuntime(loadConfig(process.env, { configFile: globals.config, dataDir: globals.dataDir }));
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

function humanReport(report: AccessReviewReport, revoked: readonly RevocationResult[], recordedId: string | null): string {
  const lines = [`Access review ${report.generatedAt}: ${report.principals.length} principals with access to customer data.`];
  for (const p of report.principals) {
    const where = p.tenantName ? ` [${p.tenantName} ${p.tenantId}]` : '';
    lines.push(`${p.kind.padEnd(9)} ${p.id}  ${p.name}${where}  last used ${p.lastUsedAt ?? 'never'}`);
    for (const g of p.grants) {
      lines.push(
        `          ${g.role} over ${g.scopeTags === null ? 'everything' : `tags ${g.scopeTags.join(', ')}`} via ${g.via}` +
          `${g.expiresAt ? ` until ${g.expiresAt}` : ''}${g.id ? ` (revoke: ${g.id})` : ''}`,
      );
    }
    if (p.notes.length) lines.push(`          ${p.notes.join('; ')}`);
  }
  for (const r of revoked) lines.push(`Revoked ${r.kind} ${r.id}${r.tenantId ? ` in tenant ${r.tenantId}` : ''}.`);
  if (recordedId) lines.push(`Recorded review ${recordedId} in the directory and in every tenant's audit log.`);
  return lines.join('\n');
}

export function addOperatorCommands(program: Command): void {
  const operator = program
    .command('operator')
    .description('Operators: the people who run this deployment (always MFA; lockbox for tenant data)');
  operator
    .command('create')
    .description('Create an operator; prints an initial password and the TOTP secret once')
    .requiredOption('--email <email>', "the operator's email (their sign-in name)")
    .option('--json', 'print JSON')
    .action(async (options: { email: string; json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        const created = await services.operators.create(options.email);
        print(
          options.json ?? false,
          {
            operatorId: created.operator.id,
            email: created.operator.email,
            initialPassword: created.initialPassword,
            totpSecret: created.totpSecret,
            otpauthUri: created.otpauthUri,
          },
          () =>
            [
              `Created operator ${created.operator.email} (${created.operator.id}).`,
              `Initial password (shown once): ${created.initialPassword}`,
              `TOTP secret (shown once): ${created.totpSecret}`,
              `Add to an authenticator app: ${created.otpauthUri}`,
            ].join('\n'),
        );
      });
    });
  operator
    .command('list')
    .description('List operators')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        const items = (await services.operators.list()).map((o) => ({
          operatorId: o.id,
          email: o.email,
          createdAt: new Date(o.createdAt).toISOString(),
          lastSignInAt: o.lastSignInAt === null ? null : new Date(o.lastSignInAt).toISOString(),
          disabledAt: o.disabledAt === null ? null : new Date(o.disabledAt).toISOString(),
        }));
        print(options.json ?? false, { items }, () =>
          items.length === 0
            ? 'No operators. Create one with: npx custos operator create --email EMAIL'
            : items.map((o) => `${o.operatorId}  ${o.disabledAt ? 'disabled' : 'active  '}  ${o.email}`).join('\n'),
        );
      });
    });

  program
    .command('access-review')
    .description('List every principal with access to customer data (operators, tenant role holders, API tokens) with last use')
    .option('--revoke <id>', 'revoke: an operator id, an API token id or a role assignment id (repeatable)', collect, [])
    .option('--record', "store the review and write it into every tenant's audit log (needs --reviewer)")
    .option('--reviewer <name>', 'who reviewed (recorded)')
    .option('--json', 'print JSON')
    .action(async (options: { revoke: string[]; record?: boolean; reviewer?: string; json?: boolean }, command: Command) => {
      if (options.record && !options.reviewer) {
        throw new InvalidArgumentError('--record needs --reviewer NAME.');
      }
      await withRuntime(command, async ({ services }) => {
        const actor: Actor = { type: 'system', id: 'cli', name: `access review${options.reviewer ? ` by ${options.reviewer}` : ''}` };
        const revoked = options.revoke.length ? await services.accessReview.revoke(actor, options.revoke) : [];
        const report = await services.accessReview.report();
        const recorded = options.record && options.reviewer ? await services.accessReview.record(options.reviewer, report, revoked) : null;
        print(options.json ?? false, { ...report, revoked, recordedReviewId: recorded?.id ?? null }, () =>
          humanReport(report, revoked, recorded?.id ?? null),
        );
      });
    });
}
