/** Migrations of a region store. Every tenant table's primary key starts with tenant_id. */
import { sql, type Kysely, type Migration } from 'kysely';
import { isPostgres } from '../dialects/postgres.js';

/** The `store_meta` key present while audit values written before migration 0019 may still be in clear. */
export const AUDIT_ENCRYPTION_PENDING = 'audit-encryption-pending';

export const regionMigrations: Record<string, Migration> = {
  '0001-foundation': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('store_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tenant_settings')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('admin_email', 'text')
        .addColumn('privacy_statement_version', 'text', (c) => c.notNull())
        .addColumn('privacy_statement_text', 'text')
        .addColumn('privacy_statement_url', 'text')
        .addColumn('support_contact', 'text')
        .addColumn('checkin_interval_seconds', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tenant_ca')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey())
        .addColumn('certificate_pem', 'text', (c) => c.notNull())
        .addColumn('private_key_pkcs8', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addPrimaryKeyConstraint('api_tokens_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('api_tokens_secret').unique().on('api_tokens').columns(['tenant_id', 'secret_hash']).execute();

      await db.schema
        .createTable('enrollment_tokens')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('ownership', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('platforms', 'text')
        .addColumn('max_uses', 'integer')
        .addColumn('uses', 'integer', (c) => c.notNull())
        .addColumn('device_limit_per_user', 'integer', (c) => c.notNull())
        .addColumn('user_email', 'text')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addPrimaryKeyConstraint('enrollment_tokens_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema
        .createIndex('enrollment_tokens_secret')
        .unique()
        .on('enrollment_tokens')
        .columns(['tenant_id', 'secret_hash'])
        .execute();

      let devices = db.schema
        .createTable('devices')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('management_channel', 'text', (c) => c.notNull())
        .addColumn('ownership', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('compliance_state', 'text', (c) => c.notNull())
        .addColumn('app_list_policy', 'integer', (c) => c.notNull().defaultTo(0));
      for (const column of [
        'device_name',
        'manufacturer',
        'model',
        'operating_system',
        'os_version',
        'processor',
        'serial_number',
        'cellular_technology',
      ]) {
        devices = devices.addColumn(column, 'text');
      }
      devices = devices
        .addColumn('jail_broken', 'integer')
        .addColumn('free_storage_bytes', 'bigint')
        .addColumn('total_storage_bytes', 'bigint')
        .addColumn('exchange_device_id', 'text')
        .addColumn('wifi_mac', 'text')
        .addColumn('ethernet_mac', 'text')
        .addColumn('encrypted', 'integer')
        .addColumn('imei', 'text')
        .addColumn('supervised', 'integer')
        .addColumn('secure_boot', 'integer')
        .addColumn('user_email', 'text')
        .addColumn('enrollment_token_id', 'text')
        .addColumn('consent_statement_version', 'text', (c) => c.notNull())
        .addColumn('consent_accepted_at', 'bigint', (c) => c.notNull())
        .addColumn('consent_method', 'text', (c) => c.notNull())
        .addColumn('certificate_pem', 'text', (c) => c.notNull())
        .addColumn('certificate_serial', 'text', (c) => c.notNull())
        .addColumn('public_key_spki', 'text', (c) => c.notNull())
        .addColumn('inventory_updated_at', 'bigint')
        .addColumn('enrolled_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .addPrimaryKeyConstraint('devices_pk', ['tenant_id', 'id']);
      await devices.execute();
      // Keyset-paging indexes: the list sorts on COALESCE(column, sentinel), id (see device-repository.ts).
      await sql`create index devices_by_name on devices (tenant_id, coalesce(device_name, ''), id)`.execute(db);
      await sql`create index devices_by_enrolled on devices (tenant_id, enrolled_at, id)`.execute(db);
      await sql`create index devices_by_serial on devices (tenant_id, serial_number)`.execute(db);
      await sql`create index devices_by_user on devices (tenant_id, user_email)`.execute(db);

      // Written on every device request; no secondary index on purpose (see database.ts).
      await db.schema
        .createTable('device_checkin_state')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('request_seq', 'bigint', (c) => c.notNull())
        .addColumn('last_check_in_at', 'bigint')
        .addColumn('inventory_digest', 'text')
        .addColumn('app_inventory_scope', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('enrolled_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_checkin_state_pk', ['tenant_id', 'device_id'])
        .addForeignKeyConstraint('device_checkin_state_device', ['tenant_id', 'device_id'], 'devices', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .execute();
      // Room in each page for the new row version, so PostgreSQL updates it in place (HOT).
      if (isPostgres(db)) await sql`alter table device_checkin_state set (fillfactor = 70)`.execute(db);

      await db.schema
        .createTable('device_apps')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('app_key', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text')
        .addColumn('app_id', 'text')
        .addColumn('install_location', 'text')
        .addColumn('size_bytes', 'bigint')
        .addColumn('managed', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_apps_pk', ['tenant_id', 'device_id', 'app_key'])
        .addForeignKeyConstraint('device_apps_device', ['tenant_id', 'device_id'], 'devices', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .execute();
    },
  },
  '0002-commands': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('device_commands')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('payload', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .addColumn('completed_at', 'bigint')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('result_status', 'text')
        .addColumn('result_detail', 'text')
        .addColumn('result_at', 'bigint')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('device_commands_pk', ['tenant_id', 'id'])
        .addForeignKeyConstraint('device_commands_device', ['tenant_id', 'device_id'], 'devices', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .execute();
      // Delivery (pending, oldest first), coalescing and a device's history all read through this.
      await db.schema
        .createIndex('device_commands_by_device')
        .on('device_commands')
        .columns(['tenant_id', 'device_id', 'state', 'created_at'])
        .execute();
      // A plain column with a constant default: no table rewrite on either dialect, and not indexed,
      // so the check-in's UPDATE stays a HOT update on PostgreSQL.
      await db.schema
        .alterTable('device_checkin_state')
        .addColumn('pending_commands', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '0003-compliance': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('compliance_policies')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('platform', 'text')
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .addPrimaryKeyConstraint('compliance_policies_pk', ['tenant_id', 'id'])
        .execute();

      await db.schema
        .createTable('compliance_policy_assignments')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('policy_id', 'text', (c) => c.notNull())
        .addColumn('target_kind', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('include', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('compliance_policy_assignments_pk', ['tenant_id', 'policy_id', 'target_kind', 'target_id'])
        .addForeignKeyConstraint(
          'compliance_policy_assignments_policy',
          ['tenant_id', 'policy_id'],
          'compliance_policies',
          ['tenant_id', 'id'],
          (c) => c.onDelete('cascade'),
        )
        .execute();

      await db.schema
        .createTable('device_compliance_results')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('policy_id', 'text', (c) => c.notNull())
        .addColumn('policy_version', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('results', 'text', (c) => c.notNull())
        .addColumn('evaluated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_compliance_results_pk', ['tenant_id', 'device_id', 'policy_id'])
        .addForeignKeyConstraint('device_compliance_results_device', ['tenant_id', 'device_id'], 'devices', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .addForeignKeyConstraint(
          'device_compliance_results_policy',
          ['tenant_id', 'policy_id'],
          'compliance_policies',
          ['tenant_id', 'id'],
          (c) => c.onDelete('cascade'),
        )
        .execute();

      // A constant default: no table rewrite on either dialect, and existing tenants keep today's meaning.
      await db.schema
        .alterTable('tenant_settings')
        .addColumn('no_policy_compliance_state', 'text', (c) => c.notNull().defaultTo('compliant'))
        .execute();
    },
  },

  '0004-identity': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('users')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('user_name_key', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text')
        .addColumn('email', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('password_changed_at', 'bigint')
        .addColumn('last_sign_in_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('users_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('users_user_name').unique().on('users').columns(['tenant_id', 'user_name_key']).execute();
      await db.schema.createIndex('users_external_id').on('users').columns(['tenant_id', 'source', 'external_id']).execute();

      await db.schema
        .createTable('groups')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('groups_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('groups_display_name').on('groups').columns(['tenant_id', 'display_name']).execute();

      await db.schema
        .createTable('group_members')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_members_pk', ['tenant_id', 'group_id', 'user_id'])
        .addForeignKeyConstraint('group_members_group', ['tenant_id', 'group_id'], 'groups', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .addForeignKeyConstraint('group_members_user', ['tenant_id', 'user_id'], 'users', ['tenant_id', 'id'], (c) => c.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('group_members_user').on('group_members').columns(['tenant_id', 'user_id']).execute();

      await db.schema
        .createTable('roles')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('permissions', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('roles_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('roles_name').unique().on('roles').columns(['tenant_id', 'name']).execute();

      // `role` is a built-in role's name or a custom role's id; `scope_tags` NULL is every object.
      await db.schema
        .createTable('role_assignments')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('principal_kind', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('scope_tags', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('role_assignments_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema
        .createIndex('role_assignments_principal')
        .on('role_assignments')
        .columns(['tenant_id', 'principal_kind', 'principal_id'])
        .execute();

      // The cookie carries the session secret; the store keeps only its SHA-256.
      await db.schema
        .createTable('user_sessions')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('mfa_satisfied', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('absolute_expires_at', 'bigint', (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('revoked_at', 'bigint')
        .addPrimaryKeyConstraint('user_sessions_pk', ['tenant_id', 'id'])
        .addForeignKeyConstraint('user_sessions_user', ['tenant_id', 'user_id'], 'users', ['tenant_id', 'id'], (c) => c.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('user_sessions_secret').unique().on('user_sessions').columns(['tenant_id', 'secret_hash']).execute();
      await db.schema.createIndex('user_sessions_user').on('user_sessions').columns(['tenant_id', 'user_id']).execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('sequence', 'bigint', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('actor_name', 'text', (c) => c.notNull())
        .addColumn('actor_ip', 'text')
        .addColumn('activity', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('targets', 'text', (c) => c.notNull())
        .addColumn('correlation_id', 'text')
        .addColumn('previous_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_events_pk', ['tenant_id', 'sequence'])
        .execute();
      await db.schema.createIndex('audit_events_time').on('audit_events').columns(['tenant_id', 'occurred_at']).execute();

      // One row per tenant: the end of its chain. Appends lock it, so sequences stay gap-free.
      await db.schema
        .createTable('audit_chain_heads')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey())
        .addColumn('sequence', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();

      await db.schema.alterTable('api_tokens').addColumn('scope_tags', 'text').execute();
      await db.schema.alterTable('api_tokens').addColumn('created_by', 'text').execute();
      await db.schema.alterTable('tenant_settings').addColumn('identity_settings', 'text').execute();
    },
  },

  '0005-compliance-actions': {
    async up(db: Kysely<unknown>): Promise<void> {
      // A constant default: no table rewrite, and existing policies keep "non-compliant at once".
      await db.schema
        .alterTable('compliance_policies')
        .addColumn('actions', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();

      await db.schema
        .createTable('compliance_episodes')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('policy_id', 'text', (c) => c.notNull())
        .addColumn('noncompliant_since', 'bigint', (c) => c.notNull())
        .addColumn('runs', 'text', (c) => c.notNull())
        .addColumn('next_due_at', 'bigint')
        .addColumn('evaluated_at', 'bigint', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('compliance_episodes_pk', ['tenant_id', 'device_id', 'policy_id'])
        .addForeignKeyConstraint('compliance_episodes_device', ['tenant_id', 'device_id'], 'devices', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .addForeignKeyConstraint(
          'compliance_episodes_policy',
          ['tenant_id', 'policy_id'],
          'compliance_policies',
          ['tenant_id', 'id'],
          (c) => c.onDelete('cascade'),
        )
        .execute();
      // The scheduled job's question: which episodes have an action due.
      await db.schema.createIndex('compliance_episodes_due').on('compliance_episodes').columns(['tenant_id', 'next_due_at']).execute();

      await db.schema
        .createTable('compliance_retire_list')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('policy_id', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .addColumn('decided_by', 'text')
        .addPrimaryKeyConstraint('compliance_retire_list_pk', ['tenant_id', 'device_id'])
        .addForeignKeyConstraint('compliance_retire_list_device', ['tenant_id', 'device_id'], 'devices', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .addForeignKeyConstraint(
          'compliance_retire_list_policy',
          ['tenant_id', 'policy_id'],
          'compliance_policies',
          ['tenant_id', 'id'],
          (c) => c.onDelete('cascade'),
        )
        .execute();
    },
  },
  '0006-configuration-profiles': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('configuration_profiles')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('platform', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .addPrimaryKeyConstraint('configuration_profiles_pk', ['tenant_id', 'id'])
        .execute();

      await db.schema
        .createTable('configuration_profile_assignments')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('profile_id', 'text', (c) => c.notNull())
        .addColumn('target_kind', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('include', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('configuration_profile_assignments_pk', ['tenant_id', 'profile_id', 'target_kind', 'target_id'])
        .addForeignKeyConstraint(
          'configuration_profile_assignments_profile',
          ['tenant_id', 'profile_id'],
          'configuration_profiles',
          ['tenant_id', 'id'],
          (c) => c.onDelete('cascade'),
        )
        .execute();

      await db.schema
        .createTable('device_profile_states')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('profile_id', 'text', (c) => c.notNull())
        .addColumn('profile_version', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('removing', 'integer', (c) => c.notNull())
        .addColumn('conflicts', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('reported_at', 'bigint')
        .addPrimaryKeyConstraint('device_profile_states_pk', ['tenant_id', 'device_id', 'profile_id'])
        .addForeignKeyConstraint('device_profile_states_device', ['tenant_id', 'device_id'], 'devices', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .addForeignKeyConstraint(
          'device_profile_states_profile',
          ['tenant_id', 'profile_id'],
          'configuration_profiles',
          ['tenant_id', 'id'],
          (c) => c.onDelete('cascade'),
        )
        .execute();
      // A profile's status counts read through this.
      await db.schema
        .createIndex('device_profile_states_by_profile')
        .on('device_profile_states')
        .columns(['tenant_id', 'profile_id', 'status'])
        .execute();

      // The digest of the device's desired profile set, returned by the check-in's UPDATE (null:
      // computed at the next check-in). Not indexed, so that UPDATE stays a HOT update on PostgreSQL.
      await db.schema.alterTable('device_checkin_state').addColumn('profiles_digest', 'text').execute();
    },
  },

  '0008-federation': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('identity_providers')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('client_secret_enc', 'text')
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('oidc_login_states')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('state_hash', 'text', (c) => c.notNull())
        .addColumn('binding_hash', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text', (c) => c.notNull())
        .addColumn('code_verifier', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('return_to', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('oidc_login_states_pk', ['tenant_id', 'state_hash'])
        .execute();
      await db.schema.createIndex('oidc_login_states_expiry').on('oidc_login_states').columns(['tenant_id', 'expires_at']).execute();

      await db.schema
        .createTable('federated_identities')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_sign_in_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('federated_identities_pk', ['tenant_id', 'issuer', 'subject'])
        .addForeignKeyConstraint('federated_identities_user', ['tenant_id', 'user_id'], 'users', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .execute();
      await db.schema.createIndex('federated_identities_user').on('federated_identities').columns(['tenant_id', 'user_id']).execute();

      await db.schema
        .createTable('scim_tokens')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addPrimaryKeyConstraint('scim_tokens_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('scim_tokens_secret').unique().on('scim_tokens').columns(['tenant_id', 'secret_hash']).execute();
    },
  },
  '0007-sign-in': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Failed sign-ins per key (`account:<user name>` or `ip:<address>`) in the current window, and
      // the lockout they caused. In the region store, so every process of the region sees the same.
      await db.schema
        .createTable('sign_in_throttles')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('window_started_at', 'bigint', (c) => c.notNull())
        .addColumn('locked_until', 'bigint')
        .addPrimaryKeyConstraint('sign_in_throttles_pk', ['tenant_id', 'key'])
        .execute();

      // The TOTP secret is AES-256-GCM ciphertext; `confirmed_at` NULL is a setup not yet confirmed.
      await db.schema
        .createTable('user_totp')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('secret_sealed', 'text', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('last_used_step', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_totp_pk', ['tenant_id', 'user_id'])
        .addForeignKeyConstraint('user_totp_user', ['tenant_id', 'user_id'], 'users', ['tenant_id', 'id'], (c) => c.onDelete('cascade'))
        .execute();

      await db.schema
        .createTable('user_recovery_codes')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addPrimaryKeyConstraint('user_recovery_codes_pk', ['tenant_id', 'user_id', 'code_hash'])
        .addForeignKeyConstraint('user_recovery_codes_user', ['tenant_id', 'user_id'], 'users', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .execute();

      await db.schema
        .createTable('user_passkeys')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('counter', 'bigint', (c) => c.notNull())
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addPrimaryKeyConstraint('user_passkeys_pk', ['tenant_id', 'id'])
        .addForeignKeyConstraint('user_passkeys_user', ['tenant_id', 'user_id'], 'users', ['tenant_id', 'id'], (c) => c.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('user_passkeys_user').on('user_passkeys').columns(['tenant_id', 'user_id']).execute();

      // One outstanding WebAuthn challenge per session and purpose, taken (deleted) when answered.
      await db.schema
        .createTable('webauthn_challenges')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('challenge', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('webauthn_challenges_pk', ['tenant_id', 'session_id', 'purpose'])
        .addForeignKeyConstraint('webauthn_challenges_session', ['tenant_id', 'session_id'], 'user_sessions', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .execute();

      // Emailed reset links: only the SHA-256 of the token, single use, short-lived.
      await db.schema
        .createTable('password_reset_tokens')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addPrimaryKeyConstraint('password_reset_tokens_pk', ['tenant_id', 'token_hash'])
        .addForeignKeyConstraint('password_reset_tokens_user', ['tenant_id', 'user_id'], 'users', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .execute();
      await db.schema.createIndex('password_reset_tokens_user').on('password_reset_tokens').columns(['tenant_id', 'user_id']).execute();
    },
  },
  '0009-rbac-scope': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Scope tags (SPEC §3): a JSON array of tags, NULL for none. On `devices`, not on the check-in
      // state, so the check-in's UPDATE stays as it is; an enrollment token's tags pass to its devices.
      await db.schema.alterTable('devices').addColumn('scope_tags', 'text').execute();
      await db.schema.alterTable('enrollment_tokens').addColumn('scope_tags', 'text').execute();
      // Lockbox (SPEC §5): an operator's time-boxed request for access to this tenant's data, decided
      // by a tenant admin. Kept in the tenant's region with the rest of its data and its audit log.
      await db.schema
        .createTable('lockbox_requests')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('operator_id', 'text', (c) => c.notNull())
        .addColumn('operator_email', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('duration_minutes', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .addColumn('decided_by', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('expiry_recorded_at', 'bigint')
        .addColumn('last_access_at', 'bigint')
        .addPrimaryKeyConstraint('lockbox_requests_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('lockbox_requests_operator').on('lockbox_requests').columns(['tenant_id', 'operator_id']).execute();
    },
  },
  '0010-security-state': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The password and firewall state a device reports (privacy catalog), stored like `encrypted`:
      // booleans 0/1, NULL when not reported. One statement per column: SQLite adds one at a time.
      for (const [column, type] of [
        ['password_required', 'integer'],
        ['password_minimum_length', 'integer'],
        ['password_type', 'text'],
        ['firewall_enabled', 'integer'],
      ] as const) {
        await db.schema.alterTable('devices').addColumn(column, type).execute();
      }
    },
  },
  '0011-tenant-branding': {
    async up(db: Kysely<unknown>): Promise<void> {
      // JSON: the portals' display name and accent colour (NULL = Custos defaults).
      await db.schema.alterTable('tenant_settings').addColumn('branding', 'text').execute();
    },
  },
  '0014-apple-mdm': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Apple MDM (SPEC §7): the tenant's APNs push certificate, served enrollment profiles (SCEP
      // challenge, issued certificate), the Apple side of devices and their Apple command queue.
      await db.schema
        .createTable('apple_mdm_push_certificates')
        .addColumn('tenant_id', 'text', (c) => c.notNull().primaryKey())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('certificate_pem', 'text', (c) => c.notNull())
        .addColumn('private_key_sealed', 'text', (c) => c.notNull())
        .addColumn('not_after', 'bigint', (c) => c.notNull())
        .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('apple_mdm_enrollments')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('token_id', 'text', (c) => c.notNull())
        .addColumn('ownership', 'text', (c) => c.notNull())
        .addColumn('user_email', 'text')
        .addColumn('scope_tags', 'text', (c) => c.notNull())
        .addColumn('challenge_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('certificate_serial', 'text')
        .addColumn('udid', 'text')
        .addColumn('device_id', 'text')
        .addPrimaryKeyConstraint('apple_mdm_enrollments_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema
        .createIndex('apple_mdm_enrollments_challenge')
        .on('apple_mdm_enrollments')
        .columns(['tenant_id', 'challenge_hash'])
        .unique()
        .execute();
      await db.schema
        .createIndex('apple_mdm_enrollments_certificate')
        .on('apple_mdm_enrollments')
        .columns(['tenant_id', 'certificate_serial'])
        .execute();
      await db.schema
        .createTable('apple_mdm_devices')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('udid', 'text', (c) => c.notNull())
        .addColumn('enrollment_id', 'text', (c) => c.notNull())
        .addColumn('certificate_serial', 'text', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('push_token', 'text')
        .addColumn('push_magic', 'text')
        .addColumn('push_token_invalid_at', 'bigint')
        .addColumn('user_channels', 'text', (c) => c.notNull())
        .addColumn('bootstrap_token_sealed', 'text')
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('apple_mdm_devices_pk', ['tenant_id', 'device_id'])
        .addForeignKeyConstraint('apple_mdm_devices_device', ['tenant_id', 'device_id'], 'devices', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .execute();
      await db.schema.createIndex('apple_mdm_devices_udid').on('apple_mdm_devices').columns(['tenant_id', 'udid']).unique().execute();
      await db.schema
        .createTable('apple_mdm_commands')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('uuid', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('request_type', 'text', (c) => c.notNull())
        .addColumn('command', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('not_now', 'integer', (c) => c.notNull())
        .addColumn('common_command_id', 'text')
        .addColumn('profile_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('result_status', 'text')
        .addColumn('result_detail', 'text')
        .addPrimaryKeyConstraint('apple_mdm_commands_pk', ['tenant_id', 'uuid'])
        .addForeignKeyConstraint('apple_mdm_commands_device', ['tenant_id', 'device_id'], 'devices', ['tenant_id', 'id'], (c) =>
          c.onDelete('cascade'),
        )
        .execute();
      await db.schema
        .createIndex('apple_mdm_commands_queue')
        .on('apple_mdm_commands')
        .columns(['tenant_id', 'device_id', 'state', 'priority', 'created_at'])
        .execute();
    },
  },
  '0012-encryption-at-rest': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Sensitive device values are stored encrypted (domain/encryption/tenant-cipher.ts); equality
      // lookups go through keyed hashes. Existing plaintext rows are encrypted once after this
      // migration (Storage.migrate) and by `custos keys rotate`.
      await db.schema.alterTable('devices').addColumn('serial_number_hash', 'text').execute();
      await db.schema.alterTable('devices').addColumn('user_email_hash', 'text').execute();
      await db.schema.dropIndex('devices_by_user').ifExists().execute();
      await db.schema.createIndex('devices_by_serial_hash').on('devices').columns(['tenant_id', 'serial_number_hash']).execute();
      await db.schema.createIndex('devices_by_user_hash').on('devices').columns(['tenant_id', 'user_email_hash']).execute();
      // Export jobs of `POST /api/v1/exports`: status and progress; the archive itself is a file.
      await db.schema
        .createTable('tenant_exports')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('entities_done', 'integer', (c) => c.notNull())
        .addColumn('entities_total', 'integer', (c) => c.notNull())
        .addColumn('rows_written', 'bigint', (c) => c.notNull())
        .addColumn('bytes', 'bigint')
        .addColumn('manifest_sha256', 'text')
        .addColumn('error', 'text')
        .addPrimaryKeyConstraint('tenant_exports_pk', ['tenant_id', 'id'])
        .execute();
    },
  },
  '0015-policy-scope-tags': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Scope tags on policies and profiles (SPEC §3), JSON like devices.scope_tags; NULL: none.
      await db.schema.alterTable('compliance_policies').addColumn('scope_tags', 'text').execute();
      await db.schema.alterTable('configuration_profiles').addColumn('scope_tags', 'text').execute();
    },
  },
  '0013-retention': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Retention rules (domain/retention/): the stale-device setting, and where a pruned audit chain resumes.
      await db.schema.alterTable('tenant_settings').addColumn('stale_device_days', 'integer').execute();
      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('tenant_id', 'text', (c) => c.notNull().primaryKey())
        .addColumn('sequence', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('pruned_events', 'bigint', (c) => c.notNull())
        .addColumn('pruned_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0017-imported-audit': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Export jobs (domain/export/): a heartbeat that tells a live job from one whose process died,
      // a stable error code, and when a finished archive's published lifetime ends.
      await db.schema.alterTable('tenant_exports').addColumn('heartbeat_at', 'bigint').execute();
      await db.schema.alterTable('tenant_exports').addColumn('error_code', 'text').execute();
      await db.schema.alterTable('tenant_exports').addColumn('expires_at', 'bigint').execute();
      // The audit chains an import brought along (domain/audit/imported-audit.ts): read-only, each
      // event as its source tenant hashed it; `position` orders them across chains.
      await db.schema
        .createTable('imported_audit_events')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addColumn('source_tenant_id', 'text', (c) => c.notNull())
        .addColumn('sequence', 'bigint', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('actor_name', 'text', (c) => c.notNull())
        .addColumn('actor_ip', 'text')
        .addColumn('activity', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('targets', 'text', (c) => c.notNull())
        .addColumn('correlation_id', 'text')
        .addColumn('previous_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('imported_audit_events_pk', ['tenant_id', 'position'])
        .addUniqueConstraint('imported_audit_events_chain', ['tenant_id', 'source_tenant_id', 'sequence'])
        .execute();
    },
  },
  '0016-identity-encryption': {
    async up(db: Kysely<unknown>): Promise<void> {
      // User names, emails and phone numbers, and the user email of enrollment tokens and Apple
      // enrollments, are stored encrypted (storage/repositories/sensitive-identity-columns.ts). The
      // lower-cased user name kept for lookups gives way to a keyed hash; rows written before are
      // encrypted once after this migration (Storage.migrate) and by `custos keys rotate`.
      await db.schema.dropIndex('users_user_name').ifExists().execute();
      await db.schema.alterTable('users').dropColumn('user_name_key').execute();
      await db.schema.alterTable('users').addColumn('user_name_hash', 'text').execute();
      await db.schema.alterTable('users').addColumn('email_hash', 'text').execute();
      await db.schema.alterTable('users').addColumn('phone', 'text').execute();
      await db.schema.createIndex('users_user_name_hash').unique().on('users').columns(['tenant_id', 'user_name_hash']).execute();
      await db.schema.createIndex('users_email_hash').on('users').columns(['tenant_id', 'email_hash']).execute();
    },
  },
  '0018-apple-identity-renewal': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Apple MDM identity renewal (domain/apple-mdm/apple-mdm-service.ts): an enrollment made to
      // renew a device's identity names that device, and each device's certificate end is kept so
      // the renewal job finds the ones due without parsing certificates.
      await db.schema.alterTable('apple_mdm_enrollments').addColumn('renews_device_id', 'text').execute();
      await db.schema.alterTable('apple_mdm_devices').addColumn('certificate_not_after', 'bigint').execute();
    },
  },
  '0019-audit-encryption': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The actor name and targets of audit events (own and imported) are stored encrypted
      // (storage/repositories/sensitive-audit-columns.ts); the target ids stay in clear for the
      // target filter. Rows written before are encrypted and get their ids after this migration
      // (Storage.migrate), until which the marker below stays (a step cut short resumes on the next
      // migrate). Pruned imported chains resume from a checkpoint per source chain.
      await sql`insert into store_meta (key, value) values (${AUDIT_ENCRYPTION_PENDING}, 'pending')`.execute(db);
      await db.schema.alterTable('audit_events').addColumn('target_ids', 'text').execute();
      await db.schema.alterTable('imported_audit_events').addColumn('target_ids', 'text').execute();
      await db.schema
        .createTable('imported_audit_checkpoints')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('source_tenant_id', 'text', (c) => c.notNull())
        .addColumn('sequence', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('pruned_events', 'bigint', (c) => c.notNull())
        .addColumn('pruned_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('imported_audit_checkpoints_pk', ['tenant_id', 'source_tenant_id'])
        .execute();
    },
  },
};
