/**
 * `custos keys rotate|rewrap`, `custos export` and `custos import` (SPEC §9): encryption-at-rest key
 * management and tenant export/import from the server host.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config.js';
import { openRuntime, type Runtime } from '../compose.js';
import type { Actor } from '../domain/access/authorize.js';
import { readMasterKeyFile } from '../domain/encryption/key-provider.js';
import { KEY_CACHE_MS } from '../storage/tenant-key-store.js';

const CLI_ACTOR: Actor = { type: 'system', id: 'cli', name: 'custos command line' };

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of at least 0.');
  return n;
}

function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
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

export function addDataCommands(program: Command): void {
  const keys = program.command('keys').description('Encryption at rest: tenant data keys and the master key');
  keys
    .command('rotate')
    .description('Give a tenant a new data key version and re-encrypt its sensitive values under it, online; audited')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--batch-size <n>', 'devices re-encrypted per transaction (default 500)', wholeNumber)
    .option(
      '--settle-seconds <s>',
      `wait after adding the key version so other processes pick it up before re-encryption (default ${KEY_CACHE_MS / 1000}, their key cache time)`,
      wholeNumber,
    )
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; batchSize?: number; settleSeconds?: number; json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        const report = await services.keyRotation.rotate(CLI_ACTOR, options.tenant, {
          ...(options.batchSize ? { batchSize: options.batchSize } : {}),
          settleMs: (options.settleSeconds ?? KEY_CACHE_MS / 1000) * 1000,
        });
        print(
          options.json ?? false,
          report,
          () =>
            `Tenant ${report.tenantId} now uses data key version ${report.keyVersion}: ${report.valuesReencrypted} rows re-encrypted (of ${report.devicesScanned} devices, ${report.usersScanned} users, ${report.enrollmentTokensScanned} enrollment tokens, ${report.appleEnrollmentsScanned} Apple enrollments, ${report.auditEventsScanned} audit events, ${report.importedAuditEventsScanned} imported audit events), ${report.retiredVersions} old key version(s) destroyed.`,
        );
      });
    });
  keys
    .command('rewrap')
    .description('Re-wrap every tenant data key under a new master key; then point CUSTOS_MASTER_KEY_FILE at the new file')
    .requiredOption('--new-master-key-file <file>', 'file holding the new master key (base64 of 32 random bytes)')
    .option('--json', 'print JSON')
    .action(async (options: { newMasterKeyFile: string; json?: boolean }, command: Command) => {
      const next = readMasterKeyFile(options.newMasterKeyFile);
      await withRuntime(command, async ({ storage }) => {
        const result = await storage.tenantKeys.rewrap(next);
        print(
          options.json ?? false,
          { ...result, keyId: next.keyId },
          () =>
            `${result.rewrapped} tenant key version(s) re-wrapped under ${next.keyId}. Set CUSTOS_MASTER_KEY_FILE=${options.newMasterKeyFile} before the next start; the old master key can then be destroyed.`,
        );
      });
    });

  program
    .command('export')
    .description(
      'Export every entity of a tenant (JSON lines per entity in a tar archive with a manifest of counts and SHA-256 checksums); audited',
    )
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--out <file>', 'archive to write (created with mode 0600)')
    .option('--json', 'print JSON (the manifest)')
    .action(async (options: { tenant: string; out: string; json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        const result = await services.exports.exportTo(CLI_ACTOR, options.tenant, createWriteStream(options.out, { mode: 0o600 }));
        print(options.json ?? false, result, () =>
          [
            `Exported tenant ${options.tenant} to ${options.out} (manifest SHA-256 ${result.manifestSha256}):`,
            ...result.manifest.files.map((f) => `  ${f.name}: ${f.count} rows, sha256 ${f.sha256}`),
          ].join('\n'),
        );
      });
    });

  program
    .command('import')
    .description('Import an export archive into a new, empty tenant (made with "custos tenant create"); ids are kept')
    .requiredOption('--tenant <id>', 'the new tenant')
    .requiredOption('--from <file>', 'archive written by "custos export" or the export API')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; from: string; json?: boolean }, command: Command) => {
      await withRuntime(command, async ({ services }) => {
        const result = await services.exports.importFrom(CLI_ACTOR, options.tenant, createReadStream(options.from));
        print(options.json ?? false, result, () =>
          [
            `Imported ${options.from} (tenant ${result.sourceTenantId}, manifest SHA-256 ${result.sourceManifestSha256}) into tenant ${result.tenantId}:`,
            ...Object.entries(result.counts).map(([file, n]) => `  ${file}: ${n} rows`),
          ].join('\n'),
        );
      });
    });
}
