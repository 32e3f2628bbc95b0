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
};
