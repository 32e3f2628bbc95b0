/**
 * PostgreSQL, for production: one database per region (and one for the global directory).
 * BIGINT (int8) values are epoch milliseconds and byte counts, all far below 2^53, so they are parsed
 * as JS numbers instead of pg's default strings.
 */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';

pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export function openPostgres<DB>(connectionString: string, maxConnections = 10): Kysely<DB> {
  const pool = new pg.Pool({ connectionString, max: maxConnections });
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}
