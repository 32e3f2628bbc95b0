/**
 * The `custos` command line (SPEC §10). Every command has --help and --json; errors print one clear
 * line to stderr and exit non-zero (1: refused or failed, 2: bad usage).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { BUILT_IN_ROLES, OWNERSHIPS, PLATFORMS, isPlatform, type Ownership, type Platform } from '@custos/shared';
import { loadConfig, ConfigError, type ConfigOverrides } from '../config.js';
import { openRuntime, type Runtime } from '../compose.js';
import type { Actor } from '../domain/access/authorize.js';
import { DomainError } from '../domain/domain-error.js';
import { toEnrollmentTokenDto } from '../http/routes/device-dto.js';
import { addJobsCommand } from './jobs-command.js';
import { addDataCommands } from './data-commands.js';
import { addLifecycleCommands, addTenantSubscriptionCommand } from './lifecycle-command.js';
import { addOperatorCommands } from './operator-command.js';
import { initialPassword } from './initial-password.js';
import { serve } from './serve.js';

const CLI_ACTOR: Actor = { type: 'system', id: 'cli', name: 'custos command line' };

interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1.');
  return n;
}

function platformList(value: string): Platform[] {
  const list = value.split(',').map((p) => p.trim());
  for (const p of list) if (!isPlatform(p)) throw new InvalidArgumentError(`"${p}" is not one of ${PLATFORMS.join(', ')}.`);
  return list as Platform[];
}

/** Creates a tenant's first Tenant Administrator with a generated one-time password. */
export async function createFirstAdmin(
  services: Runtime['services'],
  tenantId: string,
  email: string,
): Promise<{ userId: string; userName: string; password: string }> {
  const password = initialPassword();
  const user = await services.users.createUser(CLI_ACTOR, tenantId, { userName: email, email, password, roles: ['Tenant Administrator'] });
  return { userId: user.id, userName: user.userName, password };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function buildProgram(): Command {
  const program = new Command('custos')
    .description('Custos: self-hostable device and app management that proves how it treats the data it holds.')
    .option('--config <file>', 'JSON configuration file (see README, "Configuration")')
    .option('--data-dir <dir>', 'data directory for the embedded SQLite stores (default ./data, or CUSTOS_DATA_DIR)')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });

  const withRuntime = async <T>(command: Command, work: (runtime: Runtime) => Promise<T>): Promise<T> => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    const overrides: ConfigOverrides = { configFile: globals.config, dataDir: globals.dataDir };
    const runtime = await openRuntime(loadConfig(process.env, overrides));
    try {
      return await work(runtime);
    } finally {
      await runtime.close();
    }
  };

  program
    .command('serve')
    .description('Run the API and the device endpoints in this process')
    .option('--port <port>', 'TCP port (default 8080, or PORT)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, or HOST)')
    .option('--demo', 'create a demo tenant (once) and print its credentials')
    .action(async (options: { port?: string; host?: string; demo?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      await serve(
        loadConfig(process.env, { configFile: globals.config, dataDir: globals.dataDir, port: options.port, host: options.host }),
        {
          demo: options.demo ?? false,
        },
      );
    });

  program
    .command('migrate')
    .description('Bring the global directory and every region store to the latest schema (serve does this at start too)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const config = loadConfig(process.env, { configFile: globals.config, dataDir: globals.dataDir });
      const { Storage } = await import('../storage/storage.js');
      const storage = Storage.open(config.storage, config.regions);
      try {
        const reports = await storage.migrate();
        print(options.json ?? false, { stores: reports }, () =>
          reports.map((r) => `${r.store}: ${r.applied.length > 0 ? `applied ${r.applied.join(', ')}` : 'up to date'}`).join('\n'),
        );
      } finally {
        await storage.close();
      }
    });

  const tenant = program.command('tenant').description('Create and inspect tenants (organizations)');
  addTenantSubscriptionCommand(tenant);
  tenant
    .command('create')
    .description('Create a tenant; its country fixes the region that will hold all of its data')
    .requiredOption('--name <name>', 'organization name')
    .requiredOption('--country <code>', 'ISO 3166-1 alpha-2 country code, e.g. GB, DE, US')
    .option('--admin-email <email>', "the first administrator's email (also the default support contact)")
    .option('--privacy-statement-url <url>', 'link to the privacy statement shown before enrollment')
    .option('--support-contact <text>', 'how employees reach IT')
    .option('--json', 'print JSON')
    .action(
      async (
        options: {
          name: string;
          country: string;
          adminEmail?: string;
          privacyStatementUrl?: string;
          supportContact?: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        await withRuntime(command, async ({ services }) => {
          const { tenant: t, settings } = await services.tenants.create({
            name: options.name,
            country: options.country,
            adminEmail: options.adminEmail,
            privacyStatementUrl: options.privacyStatementUrl,
            supportContact: options.supportContact,
          });
          // The first administrator can sign in to the admin portal at once (and must set up MFA there).
          const admin = options.adminEmail ? await createFirstAdmin(services, t.id, options.adminEmail) : undefined;
          print(
            options.json ?? false,
            {
              tenantId: t.id,
              name: t.name,
              country: settings.country,
              region: t.region,
              subscriptionState: t.subscriptionState,
              ...(admin ? { adminUserId: admin.userId, adminUserName: admin.userName, adminInitialPassword: admin.password } : {}),
            },
            () =>
              [
                `Created tenant ${t.name} (${t.id}) in region ${t.region}.`,
                ...(admin
                  ? [
                      `Administrator ${admin.userName}: initial password (shown once) ${admin.password}`,
                      `  Sign in at the admin portal (/?tenant=${t.id}) with that user name and password; set up MFA at first sign-in.`,
                    ]
                  : []),
                `Next: npx custos token create --tenant ${t.id} --role "Tenant Administrator"`,
                `      npx custos enrollment-token create --tenant ${t.id} --ownership corporate`,
              ].join('\n'),
          );
        });
      },
    );
  tenant
    .command('list')
    .description('List tenants from the global directory')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        const tenants = await services.tenants.list();
        const items = tenants.map((t) => ({
          tenantId: t.id,
          name: t.name,
          region: t.region,
          subscriptionState: t.subscriptionState,
          createdAt: new Date(t.createdAt).toISOString(),
        }));
        print(options.json ?? false, { items }, () =>
          items.length === 0
            ? 'No tenants yet. Create one with: npx custos tenant create --name NAME --country CC --admin-email EMAIL'
            : items.map((t) => `${t.tenantId}  ${t.region.padEnd(5)} ${t.subscriptionState.padEnd(10)} ${t.name}`).join('\n'),
        );
      });
    });
  tenant
    .command('show')
    .description('Show one tenant: directory entry and regional settings')
    .argument('[tenantId]', 'tenant id (or --tenant)')
    .option('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, options: { tenant?: string; json?: boolean }, command: Command) => {
      const tenantId = id ?? options.tenant;
      if (!tenantId) throw new InvalidArgumentError('Name the tenant: custos tenant show <tenantId>.');
      await withRuntime(command, async ({ services }) => {
        // A purged tenant is a tombstone: its id, purge time and the signed purge receipt.
        const tombstone = await services.lifecycle.tombstone(tenantId);
        if (tombstone) {
          const value = {
            tenantId,
            subscriptionState: 'purged',
            purgedAt: new Date(tombstone.purgedAt).toISOString(),
            purgeReceipt: tombstone.receipt,
          };
          print(options.json ?? false, value, () =>
            [
              `tenantId                 ${tenantId}`,
              `subscriptionState        purged`,
              `purgedAt                 ${value.purgedAt}`,
              'purgeReceipt (verify: custos purge-receipt verify FILE):',
              JSON.stringify(tombstone.receipt, null, 2),
            ].join('\n'),
          );
          return;
        }
        const t = await services.tenants.get(tenantId);
        const s = await services.tenants.settings(tenantId);
        const value = {
          tenantId: t.id,
          name: t.name,
          region: t.region,
          country: s.country,
          subscriptionState: t.subscriptionState,
          createdAt: new Date(t.createdAt).toISOString(),
          adminEmail: s.adminEmail,
          supportContact: s.supportContact,
          privacyStatement: s.privacyStatement,
          checkInIntervalSeconds: s.checkInIntervalSeconds,
        };
        print(options.json ?? false, value, () =>
          Object.entries(value)
            .map(([k, v]) => `${k.padEnd(24)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
            .join('\n'),
        );
      });
    });

  const token = program.command('token').description('API tokens for automation');
  token
    .command('list')
    .description("List a tenant's API tokens (never their secrets)")
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        const items = (await services.apiTokens.list(CLI_ACTOR, options.tenant)).map((t) => ({
          id: t.id,
          name: t.name,
          role: t.role,
          createdAt: new Date(t.createdAt).toISOString(),
          expiresAt: new Date(t.expiresAt).toISOString(),
          revokedAt: t.revokedAt === null ? null : new Date(t.revokedAt).toISOString(),
        }));
        print(
          options.json ?? false,
          { items },
          () =>
            items.map((t) => `${t.id}  ${t.revokedAt ? 'revoked' : `expires ${t.expiresAt}`}  ${t.role}  ${t.name}`).join('\n') ||
            'No tokens.',
        );
      });
    });
  token
    .command('revoke')
    .description('Revoke an API token; it stops working at once')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--id <tokenId>', 'token id (from token list)')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; id: string; json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        await services.apiTokens.revoke(CLI_ACTOR, options.tenant, options.id);
        print(options.json ?? false, { id: options.id, revoked: true }, () => `Revoked ${options.id}.`);
      });
    });
  token
    .command('create')
    .description('Create an API token bound to a tenant and a built-in role; it is shown once and stored hashed')
    .requiredOption('--tenant <id>', 'tenant id')
    .addOption(new Option('--role <role>', 'built-in role').choices(Object.keys(BUILT_IN_ROLES)).makeOptionMandatory())
    .option('--name <name>', 'what the token is for')
    .option('--expires-in-days <days>', 'lifetime in days (default 90, at most 730)', positiveInt)
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; role: string; name?: string; expiresInDays?: number; json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        const { token, record } = await services.apiTokens.create(CLI_ACTOR, options.tenant, {
          role: options.role,
          name: options.name,
          expiresInDays: options.expiresInDays,
        });
        print(options.json ?? false, { token, id: record.id, role: record.role, expiresAt: new Date(record.expiresAt).toISOString() }, () =>
          [`${token}`, `(shown once; role ${record.role}; expires ${new Date(record.expiresAt).toISOString()})`].join('\n'),
        );
      });
    });

  program
    .command('enrollment-token')
    .description('Tokens that let devices enroll')
    .command('create')
    .description('Create an enrollment token; it is shown once and stored hashed')
    .requiredOption('--tenant <id>', 'tenant id')
    .addOption(
      new Option('--ownership <ownership>', 'who owns the devices that enroll with it').choices([...OWNERSHIPS]).makeOptionMandatory(),
    )
    .option('--expires-in-hours <hours>', 'lifetime in hours (default 168)', positiveInt)
    .option('--max-uses <n>', 'how many devices may enroll with it (default unlimited)', positiveInt)
    .option('--platforms <list>', `comma-separated allow-list of ${PLATFORMS.join(', ')}`, platformList)
    .option('--device-limit-per-user <n>', 'devices one user may enroll (default 15)', positiveInt)
    .option('--user-email <email>', 'the user the devices will belong to')
    .option('--description <text>', 'what the token is for')
    .option('--json', 'print JSON')
    .action(
      async (
        options: {
          tenant: string;
          ownership: Ownership;
          expiresInHours?: number;
          maxUses?: number;
          platforms?: Platform[];
          deviceLimitPerUser?: number;
          userEmail?: string;
          description?: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        await withRuntime(command, async ({ services }) => {
          const { token, record } = await services.enrollment.createToken(CLI_ACTOR, options.tenant, {
            ownership: options.ownership,
            expiresInHours: options.expiresInHours,
            maxUses: options.maxUses,
            platforms: options.platforms,
            deviceLimitPerUser: options.deviceLimitPerUser,
            userEmail: options.userEmail,
            description: options.description,
          });
          print(options.json ?? false, { token, ...toEnrollmentTokenDto(record) }, () =>
            [
              `${token}`,
              `(shown once; ${record.ownership}; expires ${new Date(record.expiresAt).toISOString()})`,
              `Enroll: npx custos-agent enroll --server URL --token ${token} --state-dir DIR`,
            ].join('\n'),
          );
        });
      },
    );

  const user = program.command('user').description('Users of a tenant (people who sign in to the portals)');
  user
    .command('create')
    .description('Create a cloud-only user; without --password-stdin a one-time initial password is generated and shown once')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--user-name <name>', 'sign-in name, usually the email address')
    .option('--display-name <name>', 'the name people see')
    .option('--email <email>', 'email address (default: the user name when it is one)')
    .option(
      '--role <role>',
      `assign a built-in role over every object (repeatable): ${Object.keys(BUILT_IN_ROLES).join(', ')}`,
      collect,
      [],
    )
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .option('--json', 'print JSON')
    .action(
      async (
        options: {
          tenant: string;
          userName: string;
          displayName?: string;
          email?: string;
          role: string[];
          passwordStdin?: boolean;
          json?: boolean;
        },
        command: Command,
      ) => {
        const generated = options.passwordStdin ? undefined : initialPassword();
        const password = options.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : generated;
        await withRuntime(command, async ({ services }) => {
          const created = await services.users.createUser(CLI_ACTOR, options.tenant, {
            userName: options.userName,
            ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
            ...(options.email === undefined ? {} : { email: options.email }),
            ...(password === undefined ? {} : { password }),
            roles: options.role,
          });
          print(
            options.json ?? false,
            { userId: created.id, userName: created.userName, roles: options.role, ...(generated ? { initialPassword: generated } : {}) },
            () =>
              [
                `Created user ${created.userName} (${created.id})${options.role.length ? ` with ${options.role.join(', ')}` : ''}.`,
                ...(generated ? [`Initial password (shown once): ${generated}`] : []),
              ].join('\n'),
          );
        });
      },
    );

  program
    .command('scim-token')
    .description("The tenant's SCIM token, for directory sync from an identity provider")
    .command('create')
    .description('Create the SCIM token (shown once, stored hashed); an earlier one stops working')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        const { token, createdAt } = await services.scimTokens.create(CLI_ACTOR, options.tenant);
        print(options.json ?? false, { token, scimUrl: services.scim.base, createdAt: new Date(createdAt).toISOString() }, () =>
          [token, `(shown once) SCIM base URL: ${services.scim.base}`].join('\n'),
        );
      });
    });

  const audit = program.command('audit').description("A tenant's audit log");
  audit
    .command('verify')
    .description(
      "Verify the hash chain of a tenant's audit log and of every chain an import brought along; exits 1 and names the event when one is broken",
    )
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        const verdict = await services.audit.verify(CLI_ACTOR, options.tenant);
        // Imported chains (domain/audit/imported-audit.ts) are verified with their source tenant's id.
        const imported = verdict.imported.map(
          (c) =>
            `Imported chain of tenant ${c.sourceTenantId}: ${c.intact ? `intact, ${c.events} events` : `BROKEN (${c.problem}) at sequence ${c.sequence}`}${c.attested ? '' : ' (links only: no import event attests its extent)'}.`,
        );
        print(options.json ?? false, verdict, () =>
          [
            verdict.intact
              ? `Audit chain intact: ${verdict.events} events, last hash ${verdict.lastHash}.`
              : `Audit chain BROKEN (${verdict.problem}) at sequence ${verdict.sequence}${verdict.eventId ? `, event ${verdict.eventId}` : ''}: ${verdict.detail}.`,
            ...imported,
          ].join('\n'),
        );
        if (!verdict.intact) process.exitCode = 1;
      });
    });

  addJobsCommand(program);
  addDataCommands(program);
  addLifecycleCommands(program);
  addOperatorCommands(program);

  return program;
}

/** Runs the command line; returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // A command that ran but found a problem (audit verify on a broken chain) sets the exit code.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof DomainError) {
      process.stderr.write(`custos: ${error.message}\n`);
      return 1;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`custos: configuration: ${error.message}\n`);
      return 2;
    }
    if (error instanceof InvalidArgumentError) {
      process.stderr.write(`custos: ${error.message}\n`);
      return 2;
    }
    const code = (error as { code?: string; exitCode?: number }).code;
    if (code?.startsWith('commander.')) {
      const exitCode = (error as { exitCode?: number }).exitCode ?? 2;
      return code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help'
        ? 0
        : exitCode === 1
          ? 2
          : exitCode;
    }
    process.stderr.write(`custos: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
