/**
 * How failures reach the user: readable lines on stderr (the server's problem title, detail and
 * each refused field), an exit code scripts can branch on, and for `--json` one object on stdout.
 */
import { ConsentDeclinedError, ServerProblemError, ServerUnreachableError, StateBusyError, UsageError } from './agent-errors.js';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface ErrorReport {
  exitCode: number;
  lines: string[];
  json: Record<string, unknown>;
}

function describeIssue(issue: unknown): string {
  if (typeof issue === 'object' && issue !== null) {
    const { field, message } = issue as { field?: unknown; message?: unknown };
    if (typeof field === 'string' && typeof message === 'string') return `${field}: ${message}`;
    if (typeof message === 'string') return message;
  }
  return JSON.stringify(issue);
}

export function reportError(error: unknown): ErrorReport {
  if (error instanceof ServerProblemError) {
    const { problem } = error;
    const lines = [`The server refused: ${problem.title} (HTTP ${problem.status}, ${problem.code})`];
    if (problem.detail) lines.push(`  ${problem.detail}`);
    for (const issue of problem.errors ?? []) lines.push(`  - ${describeIssue(issue)}`);
    if (error.is(403, 'device-not-active')) {
      lines.push('  This device was retired by its organization and its credential revoked; it can no longer check in.');
      lines.push('  Run "custos-agent unenroll" to remove the local state, or enroll again with a new token.');
    }
    return { exitCode: EXIT_FAILURE, lines, json: { error: problem } };
  }
  if (error instanceof UsageError) {
    return { exitCode: EXIT_USAGE, lines: [error.message], json: { error: { code: 'usage', title: error.message } } };
  }
  if (error instanceof ConsentDeclinedError || error instanceof ServerUnreachableError || error instanceof StateBusyError) {
    const code =
      error instanceof ConsentDeclinedError ? 'consent-declined' : error instanceof StateBusyError ? 'state-busy' : 'server-unreachable';
    return { exitCode: EXIT_FAILURE, lines: [error.message], json: { error: { code, title: error.message } } };
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { exitCode: EXIT_FAILURE, lines: [`Unexpected error: ${message}`], json: { error: { code: 'internal', title: String(error) } } };
}
