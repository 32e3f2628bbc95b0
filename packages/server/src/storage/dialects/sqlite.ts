/**
 * SQLite, the embedded default: one file per store, WAL journal so readers never wait on the writer,
 * NORMAL sync (safe with WAL: a crash loses at most the last transactions, never corrupts).
 *
 * Kysely's SQLite driver prepares every statement anew; preparing costs as much as running a small
 * statement. The database handed to Kysely keeps prepared statements by SQL text (bounded), which
 * better-sqlite3 allows because a statement is run synchronously to completion each time.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';

const MAX_CACHED_STATEMENTS = 500;

function cachingDatabase(database: Database.Database): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = database.prepare(sql);
        if (statements.size >= MAX_CACHED_STATEMENTS) statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

export function openSqlite<DB>(file: string): Kysely<DB> {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const database = new Database(file);
  // The stores hold tenant keys and device data: readable by the service's user only. SQLite gives
  // the -wal and -shm files the same mode as the database file.
  if (file !== ':memory:') chmodSync(file, 0o600);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: cachingDatabase(database) }) });
}
