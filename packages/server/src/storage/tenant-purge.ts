/**
 * The purge of one tenant's rows from its region's store. The table list comes from the live schema
 * (Kysely's introspection works the same on SQLite and PostgreSQL): every table with a `tenant_id`
 * column — which, by the storage convention, is every region table but `store_meta` — so a table a
 * later migration adds is purged without anyone remembering to list it.
 */
import type { Kysely } from 'kysely';
import type { RegionDatabase } from './database.js';
import { isPostgres } from './dialects/postgres.js';

/** Region-store tables that hold no tenant's data (and so have no `tenant_id`). */
export const TENANTLESS_REGION_TABLES: readonly string[] = ['store_meta'];

export async function tablesWithTenantId(db: Kysely<RegionDatabase>): Promise<string[]> {
  const tables = await db.introspection.getTables();
  return tables
    .filter((t) => !t.isView && t.columns.some((c) => c.name === 'tenant_id'))
    .map((t) => t.name)
    .sort();
}

/** Rows of `tenantId` per table (zeros included), without changing anything. */
export async function countTenantRows(db: Kysely<RegionDatabase>, tenantId: string): Promise<Record<string, number>> {
  const untyped = db as unknown as Kysely<Record<string, { tenant_id: string }>>;
  const counts: Record<string, number> = {};
  for (const table of await tablesWithTenantId(db)) {
    const row = await untyped
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  return counts;
}

/**
 * Deletes every row of `tenantId` in one transaction; returns the rows each table held (zeros
 * included). Rows are counted before anything is deleted, so a row removed by a foreign key's
 * `on delete cascade` is counted in its own table.
 */
export async function purgeTenantRows(db: Kysely<RegionDatabase>, tenantId: string): Promise<Record<string, number>> {
  const tables = await tablesWithTenantId(db);
  // Untyped: the table names come from the schema at run time, not from RegionDatabase.
  const untyped = db as unknown as Kysely<Record<string, { tenant_id: string }>>;
  return untyped.transaction().execute(async (trx) => {
    // The audit chain head first: an audited write in flight finishes before the purge reads (and
    // deletes) its rows, and one that comes later finds no chain and no settings row, and is refused
    // (storage/repositories/audit-repository.ts). SQLite runs one writer at a time anyway.
    const region = trx as unknown as Kysely<RegionDatabase>;
    if (isPostgres(trx as unknown as Kysely<unknown>)) {
      await region.selectFrom('audit_chain_heads').select('tenant_id').where('tenant_id', '=', tenantId).forUpdate().execute();
    }
    const counts = await countTenantRows(region, tenantId);
    for (const table of tables) await trx.deleteFrom(table).where('tenant_id', '=', tenantId).execute();
    return counts;
  });
}
