/**
 * `custos jobs run`: runs every due job once in this process and exits — for cron, for a deployment
 * without a long-running `custos serve`, and for tests. The same leases as the scheduler in `serve`
 * apply, so a job another process already ran this period is reported `notDue`, not run twice.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config.js';
import { openRuntime } from '../compose.js';
import { fixedClock, systemClock } from '../domain/clock.js';

function isoTime(value: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) {
    throw new InvalidArgumentError('must be an ISO 8601 date-time, e.g. 2030-01-31T12:00:00Z.');
  }
  return ms;
}

/** Adds `jobs run` to `program` (as `program.command`, so it inherits the program's exit and output handling). */
export function addJobsCommand(program: Command): void {
  const jobs = program.command('jobs').description('Periodic jobs (compliance re-evaluation and actions for non-compliance, …)');
  jobs
    .command('run')
    .description('Run every job that is due now, once, and exit; exits 1 when a job failed')
    .option('--now <iso>', 'treat this time as now (the jobs and their leases use it), e.g. 2030-01-31T12:00:00Z', isoTime)
    .option('--json', 'print JSON')
    .action(async (options: { now?: number; json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string; dataDir?: string }>();
      const config = loadConfig(process.env, { configFile: globals.config, dataDir: globals.dataDir });
      const runtime = await openRuntime(config, options.now === undefined ? systemClock : fixedClock(options.now));
      try {
        // Logs go to stderr, so --json output on stdout stays parseable.
        const log = pino({ level: config.logLevel, base: null }, pino.destination(2));
        const reports = await runtime.jobScheduler(log).runDue();
        const items = reports.map((r) => ({
          job: r.job,
          status: r.status,
          startedAt: new Date(r.startedAt).toISOString(),
          durationMs: r.finishedAt - r.startedAt,
          ...(r.summary ? { summary: r.summary } : {}),
          ...(r.error ? { error: r.error } : {}),
        }));
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ items }, null, 2)}\n`
            : `${items
                .map(
                  (i) =>
                    `${i.job}: ${i.status}${
                      i.summary
                        ? ` ${Object.entries(i.summary)
                            .map(([k, v]) => `${k}=${v}`)
                            .join(' ')}`
                        : ''
                    }${i.error ? ` (${i.error})` : ''}`,
                )
                .join('\n')}\n`,
        );
        if (reports.some((r) => r.status === 'failed')) process.exitCode = 1;
      } finally {
        await runtime.close();
      }
    });
}
