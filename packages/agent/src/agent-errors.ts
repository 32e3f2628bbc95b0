/**
 * The failures the CLI tells apart: the user asked for something impossible (exit 2), the server
 * refused (exit 1, with the server's problem details), the server could not be reached (exit 1).
 */

/** An RFC 9457 problem as received; `code` is Custos's stable error code when the server sent one. */
export interface ReceivedProblem {
  type: string;
  code: string;
  title: string;
  status: number;
  detail?: string;
  errors?: unknown[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export class ServerProblemError extends Error {
  override readonly name = 'ServerProblemError';
  constructor(
    readonly problem: ReceivedProblem,
    /** From `Retry-After` on 429 and 503, so the daemon waits as long as the server asks. */
    readonly retryAfterSeconds?: number,
  ) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
  }

  is(status: number, code: string): boolean {
    return this.problem.status === status && this.problem.code === code;
  }
}

export class ServerUnreachableError extends Error {
  override readonly name = 'ServerUnreachableError';
}

/** The server retired this device: its credential is revoked and no retry will change that. */
export function isDeviceRetired(error: unknown): boolean {
  return error instanceof ServerProblemError && error.is(403, 'device-not-active');
}

/** The user answered anything but "y" to the consent question. */
export class ConsentDeclinedError extends Error {
  override readonly name = 'ConsentDeclinedError';
}

/** Another custos-agent process kept the state directory locked for too long. */
export class StateBusyError extends Error {
  override readonly name = 'StateBusyError';
}
