/**
 * The operator plane's records (SPEC §5). Operators, their sessions and recorded access reviews
 * live in the global directory: they are people of the deployment, not tenant data. Lockbox
 * requests live in the tenant's region store beside the data they open, and their every step is in
 * that tenant's audit log.
 */

export interface OperatorRecord {
  id: string;
  email: string;
  passwordHash: string;
  /** The TOTP secret, sealed (AES-256-GCM under the `operator-totp` server secret). */
  totpSecretSealed: string;
  /** The last TOTP time step used, so a code is never accepted twice. */
  totpLastStep: number | null;
  createdAt: number;
  disabledAt: number | null;
  lastSignInAt: number | null;
  failedSignIns: number;
  lockedUntil: number | null;
}

export interface OperatorSessionRecord {
  id: string;
  operatorId: string;
  secretHash: string;
  createdAt: number;
  lastSeenAt: number;
  absoluteExpiresAt: number;
  revokedAt: number | null;
  ip: string | null;
}

export interface AccessReviewRecord {
  id: string;
  reviewer: string;
  recordedAt: number;
  principals: number;
  revoked: string[];
  report: unknown;
}

/** The directory's operator tables. */
export interface OperatorStore {
  insert(operator: OperatorRecord): Promise<void>;
  get(id: string): Promise<OperatorRecord | undefined>;
  findByEmail(email: string): Promise<OperatorRecord | undefined>;
  list(): Promise<OperatorRecord[]>;
  /** Records a sign-in attempt's outcome: the failure counter, lockout, last step and last sign-in. */
  recordSignIn(
    id: string,
    update: Partial<Pick<OperatorRecord, 'failedSignIns' | 'lockedUntil' | 'totpLastStep' | 'lastSignInAt'>>,
  ): Promise<void>;
  disable(id: string, at: number): Promise<boolean>;
  insertSession(session: OperatorSessionRecord): Promise<void>;
  findSessionBySecretHash(secretHash: string): Promise<OperatorSessionRecord | undefined>;
  touchSession(id: string, at: number): Promise<void>;
  revokeSession(id: string, at: number): Promise<void>;
  revokeSessionsOf(operatorId: string, at: number): Promise<number>;
  insertReview(review: AccessReviewRecord): Promise<void>;
  listReviews(): Promise<AccessReviewRecord[]>;
}

export type LockboxStatus = 'pending' | 'approved' | 'denied' | 'revoked';

export interface LockboxRequestRecord {
  id: string;
  operatorId: string;
  operatorEmail: string;
  reason: string;
  /** The built-in role the operator works with inside the tenant, over every object. */
  role: string;
  durationMinutes: number;
  status: LockboxStatus;
  requestedAt: number;
  decidedAt: number | null;
  /** `type:id` of the tenant admin who decided. */
  decidedBy: string | null;
  /** Set at approval: approval time + duration. */
  expiresAt: number | null;
  expiryRecordedAt: number | null;
  lastAccessAt: number | null;
}

/** A tenant's lockbox requests (region store, bound to the tenant). */
export interface LockboxStore {
  insert(request: LockboxRequestRecord): Promise<void>;
  get(id: string): Promise<LockboxRequestRecord | undefined>;
  list(): Promise<LockboxRequestRecord[]>;
  /** Approved requests of the operator whose access has not ended at `now`, latest expiry first. */
  activeFor(operatorId: string, now: number): Promise<LockboxRequestRecord[]>;
  /** Approved requests that ended at or before `now` and whose expiry is not yet in the audit log. */
  expiredUnrecorded(now: number): Promise<LockboxRequestRecord[]>;
  update(request: LockboxRequestRecord): Promise<void>;
}
