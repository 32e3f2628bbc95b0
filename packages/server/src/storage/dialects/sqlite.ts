/**
 * SQLite, the embedded default: one file per store, WAL journal so readers never wait on the writer,
 * NORMAL sync (safe with WAL: a crash loses at most the last transactions, never corrupts).
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';

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
  return new Kysely<DB>({ dialect: new SqliteDialect({ database }) });
}
