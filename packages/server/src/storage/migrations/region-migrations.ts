/** Migrations of a region store. Every tenant table's primary key starts with tenant_id. */
import { sql, type Kysely, type Migration } from 'kysely';
import { isPostgres } from '../dialects/postgres.js';

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
};
