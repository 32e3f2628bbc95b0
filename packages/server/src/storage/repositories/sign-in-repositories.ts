/** Login throttles, second factors and password reset tokens (migration 0007), bound to one tenant. */
import type { Kysely } from 'kysely';
import type {
  PasskeyRecord,
  PasskeyStore,
  PasswordResetRecord,
  PasswordResetStore,
  RecoveryCodeStore,
  SignInThrottleStore,
  ThrottleState,
  TotpRecord,
  TotpStore,
  WebAuthnPurpose,
} from '../../domain/identity/sign-in-stores.js';
import type { CipherSource } from '../../domain/encryption/tenant-cipher.js';
import type { RegionDatabase, UserPasskeyTable } from '../database.js';

const ACCOUNT = 'account:';

/**
 * An account key (`account:<user name as typed>`) names a user, usually by email address: it is
 * stored as the keyed hash of the name under the tenant's current key version, never in clear. A key
 * rotation therefore starts the counts of accounts afresh (their rows expire with their window).
 */
export class SignInThrottleRepository implements SignInThrottleStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {}

  private async stored(key: string): Promise<string> {
    if (!key.startsWith(ACCOUNT)) return key;
    return `${ACCOUNT}${(await this.cipher()).searchHash('sign_in_throttles.account', key.slice(ACCOUNT.length)) ?? ''}`;
  }

  async get(typed: string): Promise<ThrottleState | undefined> {
    const key = await this.stored(typed);
    const row = await this.db
      .selectFrom('sign_in_throttles')
      .select(['failures', 'window_started_at', 'locked_until'])
      .where('tenant_id', '=', this.tenantId)
      .where('key', '=', key)
      .executeTakeFirst();
    return row && { failures: row.failures, windowStartedAt: row.window_started_at, lockedUntil: row.locked_until };
  }

  async recordFailure(typed: string, at: number, windowStartedBefore: number): Promise<ThrottleState> {
    const key = await this.stored(typed);
    // One statement, so concurrent failures from several processes all count.
    const row = await this.db
      .insertInto('sign_in_throttles')
      .values({ tenant_id: this.tenantId, key, failures: 1, window_started_at: at, locked_until: null })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'key']).doUpdateSet((eb) => {
          const stale = eb('sign_in_throttles.window_started_at', '<', windowStartedBefore);
          return {
            failures: eb
              .case()
              .when(stale)
              .then(1)
              .else(eb('sign_in_throttles.failures', '+', 1))
              .end(),
            window_started_at: eb.case().when(stale).then(at).else(eb.ref('sign_in_throttles.window_started_at')).end(),
          };
        }),
      )
      .returning(['failures', 'window_started_at', 'locked_until'])
      .executeTakeFirstOrThrow();
    return { failures: row.failures, windowStartedAt: row.window_started_at, lockedUntil: row.locked_until };
  }

  async lock(typed: string, until: number, at: number): Promise<void> {
    const key = await this.stored(typed);
    await this.db
      .updateTable('sign_in_throttles')
      .set({ locked_until: until, failures: 0, window_started_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('key', '=', key)
      .execute();
  }

  async clear(typed: string): Promise<void> {
    const key = await this.stored(typed);
    await this.db.deleteFrom('sign_in_throttles').where('tenant_id', '=', this.tenantId).where('key', '=', key).execute();
  }
}

export class TotpRepository implements TotpStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async get(userId: string): Promise<TotpRecord | undefined> {
    const row = await this.db
      .selectFrom('user_totp')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return (
      row && {
        userId: row.user_id,
        secretSealed: row.secret_sealed,
        confirmedAt: row.confirmed_at,
        lastUsedStep: row.last_used_step,
        createdAt: row.created_at,
      }
    );
  }

  async put(r: TotpRecord): Promise<void> {
    const values = {
      secret_sealed: r.secretSealed,
      confirmed_at: r.confirmedAt,
      last_used_step: r.lastUsedStep,
      created_at: r.createdAt,
    };
    await this.db
      .insertInto('user_totp')
      .values({ tenant_id: this.tenantId, user_id: r.userId, ...values })
      .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doUpdateSet(values))
      .execute();
  }

  async confirm(userId: string, at: number, step: number): Promise<void> {
    await this.db
      .updateTable('user_totp')
      .set({ confirmed_at: at, last_used_step: step })
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .execute();
  }

  async useStep(userId: string, step: number): Promise<boolean> {
    // Conditional, so two requests racing with the same code cannot both succeed.
    const r = await this.db
      .updateTable('user_totp')
      .set({ last_used_step: step })
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async delete(userId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('user_totp').where('tenant_id', '=', this.tenantId).where('user_id', '=', userId).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }
}

export class RecoveryCodeRepository implements RecoveryCodeStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async replace(userId: string, codeHashes: readonly string[]): Promise<void> {
    await this.deleteForUser(userId);
    if (codeHashes.length === 0) return;
    await this.db
      .insertInto('user_recovery_codes')
      .values(codeHashes.map((code_hash) => ({ tenant_id: this.tenantId, user_id: userId, code_hash, used_at: null })))
      .execute();
  }

  async use(userId: string, codeHash: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('user_recovery_codes')
      .set({ used_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async countUnused(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('user_recovery_codes')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async deleteForUser(userId: string): Promise<void> {
    await this.db.deleteFrom('user_recovery_codes').where('tenant_id', '=', this.tenantId).where('user_id', '=', userId).execute();
  }
}

function toPasskey(r: UserPasskeyTable): PasskeyRecord {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    publicKey: r.public_key,
    counter: r.counter,
    transports: JSON.parse(r.transports) as string[],
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  };
}

export class PasskeyRepository implements PasskeyStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(p: PasskeyRecord): Promise<void> {
    await this.db
      .insertInto('user_passkeys')
      .values({
        tenant_id: this.tenantId,
        id: p.id,
        user_id: p.userId,
        name: p.name,
        public_key: p.publicKey,
        counter: p.counter,
        transports: JSON.stringify(p.transports),
        created_at: p.createdAt,
        last_used_at: p.lastUsedAt,
      })
      .execute();
  }

  async get(id: string): Promise<PasskeyRecord | undefined> {
    const row = await this.db
      .selectFrom('user_passkeys')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toPasskey(row);
  }

  async listForUser(userId: string): Promise<PasskeyRecord[]> {
    const rows = await this.db
      .selectFrom('user_passkeys')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toPasskey);
  }

  async recordUse(id: string, counter: number, at: number): Promise<void> {
    await this.db
      .updateTable('user_passkeys')
      .set({ counter, last_used_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .execute();
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('user_passkeys')
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async putChallenge(sessionId: string, purpose: WebAuthnPurpose, challenge: string, expiresAt: number): Promise<void> {
    await this.db
      .insertInto('webauthn_challenges')
      .values({ tenant_id: this.tenantId, session_id: sessionId, purpose, challenge, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['tenant_id', 'session_id', 'purpose']).doUpdateSet({ challenge, expires_at: expiresAt }))
      .execute();
  }

  async takeChallenge(sessionId: string, purpose: WebAuthnPurpose): Promise<{ challenge: string; expiresAt: number } | undefined> {
    const row = await this.db
      .deleteFrom('webauthn_challenges')
      .where('tenant_id', '=', this.tenantId)
      .where('session_id', '=', sessionId)
      .where('purpose', '=', purpose)
      .returning(['challenge', 'expires_at'])
      .executeTakeFirst();
    return row && { challenge: row.challenge, expiresAt: row.expires_at };
  }
}

export class PasswordResetRepository implements PasswordResetStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(r: PasswordResetRecord): Promise<void> {
    await this.db
      .insertInto('password_reset_tokens')
      .values({
        tenant_id: this.tenantId,
        token_hash: r.tokenHash,
        user_id: r.userId,
        created_at: r.createdAt,
        expires_at: r.expiresAt,
        used_at: r.usedAt,
      })
      .execute();
  }

  async get(tokenHash: string): Promise<PasswordResetRecord | undefined> {
    const row = await this.db
      .selectFrom('password_reset_tokens')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return (
      row && { tokenHash: row.token_hash, userId: row.user_id, createdAt: row.created_at, expiresAt: row.expires_at, usedAt: row.used_at }
    );
  }

  async use(tokenHash: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('password_reset_tokens')
      .set({ used_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async expireAllForUser(userId: string, at: number): Promise<void> {
    await this.db
      .updateTable('password_reset_tokens')
      .set({ used_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .execute();
  }

  async countSince(userId: string, since: number): Promise<number> {
    const row = await this.db
      .selectFrom('password_reset_tokens')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', this.tenantId)
      .where('user_id', '=', userId)
      .where('created_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
