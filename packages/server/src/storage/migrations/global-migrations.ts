/** Migrations of the global directory: the only data that is not pinned to a region (SPEC §3). */
import type { Kysely, Migration } from 'kysely';

export const globalMigrations: Record<string, Migration> = {
  '0001-directory': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('subscription_state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('purged_at', 'bigint')
        .execute();
      await db.schema.createIndex('tenants_name').on('tenants').column('name').execute();
      await db.schema
        .createTable('server_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0002-job-leases': {
    async up(db: Kysely<unknown>): Promise<void> {
      // One row per scheduled job; taken with a conditional upsert (storage/repositories/job-lease-repository.ts).
      await db.schema
        .createTable('job_leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('period_start', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('last_success_at', 'bigint')
        .addColumn('last_failure_at', 'bigint')
        .execute();
    },
  },
  '0003-operators': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The people who run the deployment (SPEC §5 operator plane): not tenant users, always MFA.
      // The TOTP secret is AES-256-GCM encrypted under the `operator-totp` server secret.
      await db.schema
        .createTable('operators')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('totp_secret', 'text', (c) => c.notNull())
        .addColumn('totp_last_step', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('disabled_at', 'bigint')
        .addColumn('last_sign_in_at', 'bigint')
        .addColumn('failed_sign_ins', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', 'bigint')
        .execute();
      await db.schema
        .createTable('operator_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('operator_id', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('absolute_expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('ip', 'text')
        .execute();
      await db.schema.createIndex('operator_sessions_operator').on('operator_sessions').column('operator_id').execute();
      // `custos access-review --record`: who reviewed, when, and what they saw and revoked.
      await db.schema
        .createTable('access_reviews')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('reviewer', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .addColumn('principals', 'integer', (c) => c.notNull())
        .addColumn('revoked', 'text', (c) => c.notNull())
        .addColumn('report', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0004-tenant-keys': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Tenants' data keys, wrapped by the master key; kept apart from the region stores so that
      // deleting a tenant's rows here shreds every copy of its encrypted values (SPEC §9).
      await db.schema
        .createTable('tenant_keys')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('wrapped_key', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('tenant_keys_pk', ['tenant_id', 'version'])
        .execute();
    },
  },
  '0005-tenant-lifecycle': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The subscription lifecycle (domain/lifecycle/) and the purge tombstone's signed receipt.
      await db.schema.alterTable('tenants').addColumn('state_changed_at', 'bigint').execute();
      await db.schema.alterTable('tenants').addColumn('subscription_ends_at', 'bigint').execute();
      await db.schema.alterTable('tenants').addColumn('deletion_requested_at', 'bigint').execute();
      await db.schema.alterTable('tenants').addColumn('purge_receipt', 'text').execute();
    },
  },
};
