/**
 * PostgreSQL, for production: one database per region (and one for the global directory).
 *
 * - BIGINT (int8) values are epoch milliseconds and byte counts, all far below 2^53, so they are
 *   parsed as JS numbers instead of pg's default strings.
 * - Kysely sends every statement unnamed, so PostgreSQL parses and plans it each time. The pool
 *   handed to Kysely names each statement by a hash of its text, so each connection prepares a
 *   statement once and reuses the plan (the check-in UPDATE and the app INSERT batches are the
 *   hot ones). Naming stops after MAX_NAMED_STATEMENTS distinct texts, which bounds server memory
 *   if some query builds ever-new texts.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Kysely, PostgresAdapter, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';

pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

const MAX_NAMED_STATEMENTS = 2000;
const statementNames = new Map<string, string>();

function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `custos_${createHash('sha1').update(sql).digest('base64url')}`;
    statementNames.set(sql, name);
  }
  return name;
}

function preparingPool(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      return {
        query: ((sql: unknown, parameters?: readonly unknown[]) => {
          if (typeof sql !== 'string') return client.query(sql as pg.QueryConfig);
          const name = statementName(sql);
          return client.query(name ? { name, text: sql, values: parameters as unknown[] } : { text: sql, values: parameters as unknown[] });
        }) as unknown as PostgresPoolClient['query'],
        release: () => client.release(),
      };
    },
    end: () => pool.end(),
  };
}

export function openPostgres<DB>(connectionString: string, maxConnections = 10): Kysely<DB> {
  const pool = new pg.Pool({ connectionString, max: maxConnections });
  // An idle connection the server closes (restart, failover, a dropped database) emits 'error' on the
  // pool; unhandled, that would crash the process. The pool discards the client and opens a new one
  // on the next query, so noting it is all there is to do. The message carries no credentials.
  pool.on('error', (error) => {
    process.emitWarning(`PostgreSQL closed an idle connection: ${error.message}`, { code: 'CUSTOS_PG_IDLE_ERROR' });
  });
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
}

/** For the rare migration step that only one dialect needs. */
export function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
