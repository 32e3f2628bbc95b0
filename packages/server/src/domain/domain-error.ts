/**
 * The one error type domain code throws. It carries a stable code from the shared error catalogue
 * and context for the problem+json body; the HTTP edge maps it to a response exactly once.
 */
import { ERROR_CATALOGUE, type ErrorCode } from '@custos/shared';

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extensions: Record<string, unknown>;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, detail?: string, extensions: Record<string, unknown> = {}, retryAfterSeconds?: number) {
    super(detail ?? ERROR_CATALOGUE[code].title);
    this.name = 'DomainError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.extensions = extensions;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A write refused by a uniqueness constraint: another request stored the same thing between this
 * one's read and its write (`TenantData.transaction` raises it; nothing of the transaction is kept).
 * A caller that can repeat its work safely may retry once; otherwise it is a 409 `conflict`.
 */
export class StoreConflictError extends DomainError {
  constructor() {
    super('conflict', 'Another request changed the same data at the same time; try again.');
    this.name = 'StoreConflictError';
  }
}
