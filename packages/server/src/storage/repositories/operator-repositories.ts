/** The operator plane's tables: operators, sessions and reviews (directory), lockbox requests (region). */
import type { Kysely } from 'kysely';
import type {
  AccessReviewRecord,
  LockboxRequestRecord,
  LockboxStatus,
  LockboxStore,
  OperatorRecord,
  OperatorSessionRecord,
  OperatorStore,
} from '../../domain/operators/operator-store.js';
import type {
  DirectoryOperatorSessionTable,
  DirectoryOperatorTable,
  GlobalDatabase,
  LockboxRequestTable,
  RegionDatabase,
} from '../database.js';

function toOperator(r: DirectoryOperatorTable): OperatorRecord {
  return {
    id: r.id,
    email: r.email,
    passwordHash: r.password_hash,
    totpSecretSealed: r.totp_secret,
    totpLastStep: r.totp_last_step === null ? null : Number(r.totp_last_step),
    createdAt: Number(r.created_at),
    disabledAt: r.disabled_at === null ? null : Number(r.disabled_at),
    lastSignInAt: r.last_sign_in_at === null ? null : Number(r.last_sign_in_at),
    failedSignIns: Number(r.failed_sign_ins),
    lockedUntil: r.locked_until === null ? null : Number(r.locked_until),
  };
}

function toSession(r: DirectoryOperatorSessionTable): OperatorSessionRecord {
  return {
    id: r.id,
    operatorId: r.operator_id,
    secretHash: r.secret_hash,
    createdAt: Number(r.created_at),
    lastSeenAt: Number(r.last_seen_at),
    absoluteExpiresAt: Number(r.absolute_expires_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    ip: r.ip,
  };
}

export class OperatorRepository implements OperatorStore {
  constructor(private readonly db: Kysely<GlobalDatabase>) {}

  async insert(o: OperatorRecord): Promise<void> {
    await this.db
      .insertInto('operators')
      .values({
        id: o.id,
        email: o.email,
        password_hash: o.passwordHash,
        totp_secret: o.totpSecretSealed,
        totp_last_step: o.totpLastStep,
        created_at: o.createdAt,
        disabled_at: o.disabledAt,
        last_sign_in_at: o.lastSignInAt,
        failed_sign_ins: o.failedSignIns,
        locked_until: o.lockedUntil,
      })
      .execute();
  }

  async get(id: string): Promise<OperatorRecord | undefined> {
    const row = await this.db.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toOperator(row);
  }

  async findByEmail(email: string): Promise<OperatorRecord | undefined> {
    const row = await this.db.selectFrom('operators').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
    return row && toOperator(row);
  }

  async list(): Promise<OperatorRecord[]> {
    return (await this.db.selectFrom('operators').selectAll().orderBy('email').execute()).map(toOperator);
  }

  async recordSignIn(
    id: string,
    update: Partial<Pick<OperatorRecord, 'failedSignIns' | 'lockedUntil' | 'totpLastStep' | 'lastSignInAt'>>,
  ): Promise<void> {
    await this.db
      .updateTable('operators')
      .set({
        ...(update.failedSignIns === undefined ? {} : { failed_sign_ins: update.failedSignIns }),
        ...(update.lockedUntil === undefined ? {} : { locked_until: update.lockedUntil }),
        ...(update.totpLastStep === undefined ? {} : { totp_last_step: update.totpLastStep }),
        ...(update.lastSignInAt === undefined ? {} : { last_sign_in_at: update.lastSignInAt }),
      })
      .where('id', '=', id)
      .execute();
  }

  async disable(id: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('operators')
      .set({ disabled_at: at })
      .where('id', '=', id)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async insertSession(s: OperatorSessionRecord): Promise<void> {
    await this.db
      .insertInto('operator_sessions')
      .values({
        id: s.id,
        operator_id: s.operatorId,
        secret_hash: s.secretHash,
        created_at: s.createdAt,
        last_seen_at: s.lastSeenAt,
        absolute_expires_at: s.absoluteExpiresAt,
        revoked_at: s.revokedAt,
        ip: s.ip,
      })
      .execute();
  }

  async findSessionBySecretHash(secretHash: string): Promise<OperatorSessionRecord | undefined> {
    const row = await this.db.selectFrom('operator_sessions').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
    return row && toSession(row);
  }

  async touchSession(id: string, at: number): Promise<void> {
    await this.db.updateTable('operator_sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
  }

  async revokeSession(id: string, at: number): Promise<void> {
    await this.db.updateTable('operator_sessions').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async revokeSessionsOf(operatorId: string, at: number): Promise<number> {
    const r = await this.db
      .updateTable('operator_sessions')
      .set({ revoked_at: at })
      .where('operator_id', '=', operatorId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async insertReview(review: AccessReviewRecord): Promise<void> {
    await this.db
      .insertInto('access_reviews')
      .values({
        id: review.id,
        reviewer: review.reviewer,
        recorded_at: review.recordedAt,
        principals: review.principals,
        revoked: JSON.stringify(review.revoked),
        report: JSON.stringify(review.report),
      })
      .execute();
  }

  async listReviews(): Promise<AccessReviewRecord[]> {
    const rows = await this.db.selectFrom('access_reviews').selectAll().orderBy('recorded_at').execute();
    return rows.map((r) => ({
      id: r.id,
      reviewer: r.reviewer,
      recordedAt: Number(r.recorded_at),
      principals: Number(r.principals),
      revoked: JSON.parse(r.revoked) as string[],
      report: JSON.parse(r.report) as unknown,
    }));
  }
}

function toLockbox(r: LockboxRequestTable): LockboxRequestRecord {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: r.id,
    operatorId: r.operator_id,
    operatorEmail: r.operator_email,
    reason: r.reason,
    role: r.role,
    durationMinutes: Number(r.duration_minutes),
    status: r.status as LockboxStatus,
    requestedAt: Number(r.requested_at),
    decidedAt: num(r.decided_at),
    decidedBy: r.decided_by,
    expiresAt: num(r.expires_at),
    expiryRecordedAt: num(r.expiry_recorded_at),
    lastAccessAt: num(r.last_access_at),
  };
}

export class LockboxRepository implements LockboxStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(r: LockboxRequestRecord): Promise<void> {
    await this.db
      .insertInto('lockbox_requests')
      .values({
        tenant_id: this.tenantId,
        id: r.id,
        operator_id: r.operatorId,
        operator_email: r.operatorEmail,
        reason: r.reason,
        role: r.role,
        duration_minutes: r.durationMinutes,
        status: r.status,
        requested_at: r.requestedAt,
        decided_at: r.decidedAt,
        decided_by: r.decidedBy,
        expires_at: r.expiresAt,
        expiry_recorded_at: r.expiryRecordedAt,
        last_access_at: r.lastAccessAt,
      })
      .execute();
  }

  private select() {
    return this.db.selectFrom('lockbox_requests').selectAll().where('tenant_id', '=', this.tenantId);
  }

  async get(id: string): Promise<LockboxRequestRecord | undefined> {
    const row = await this.select().where('id', '=', id).executeTakeFirst();
    return row && toLockbox(row);
  }

  async list(): Promise<LockboxRequestRecord[]> {
    return (await this.select().orderBy('requested_at', 'desc').orderBy('id').execute()).map(toLockbox);
  }

  async activeFor(operatorId: string, now: number): Promise<LockboxRequestRecord[]> {
    const rows = await this.select()
      .where('operator_id', '=', operatorId)
      .where('status', '=', 'approved')
      .where('expires_at', '>', now)
      .orderBy('expires_at', 'desc')
      .execute();
    return rows.map(toLockbox);
  }

  async expiredUnrecorded(now: number): Promise<LockboxRequestRecord[]> {
    const rows = await this.select()
      .where('status', '=', 'approved')
      .where('expires_at', '<=', now)
      .where('expiry_recorded_at', 'is', null)
      .orderBy('expires_at')
      .execute();
    return rows.map(toLockbox);
  }

  async update(r: LockboxRequestRecord): Promise<void> {
    await this.db
      .updateTable('lockbox_requests')
      .set({
        status: r.status,
        decided_at: r.decidedAt,
        decided_by: r.decidedBy,
        expires_at: r.expiresAt,
        expiry_recorded_at: r.expiryRecordedAt,
        last_access_at: r.lastAccessAt,
      })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', r.id)
      .execute();
  }
}
