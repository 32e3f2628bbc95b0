/**
 * The storage backends every storage test runs against: SQLite files in a temporary directory and
 * real PostgreSQL databases created for the test and dropped after it. PostgreSQL is required: a
 * test run without it fails instead of quietly testing one dialect.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StorageConfig } from '../storage/storage.js';

export const TEST_REGIONS = ['eu', 'us', 'apac'];

/** Server URL used to create and drop the test databases (any database on the server). */
export const TEST_PG_URL = process.env['CUSTOS_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestBackend {
  name: 'sqlite' | 'postgres';
  config: StorageConfig;
  /** Removes every file or database the backend created. */
  dispose(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function sqliteBackend(): TestBackend {
  const dataDir = mkdtempSync(join(tmpdir(), 'custos-test-'));
  return {
    name: 'sqlite',
    config: { kind: 'sqlite', dataDir },
    dispose: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
  };
}

export async function postgresBackend(): Promise<TestBackend> {
  const prefix = `custos_t_${randomBytes(5).toString('hex')}`;
  const names = ['directory', ...TEST_REGIONS].map((n) => `${prefix}_${n}`);
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is required for the storage tests and is not reachable at ${TEST_PG_URL} (set CUSTOS_TEST_PG_URL): ${String(error)}`,
    );
  }
  try {
    for (const name of names) await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const [directory, ...regions] = names as [string, ...string[]];
  return {
    name: 'postgres',
    config: {
      kind: 'postgres',
      directoryUrl: withDatabase(TEST_PG_URL, directory),
      regionUrls: Object.fromEntries(TEST_REGIONS.map((r, i) => [r, withDatabase(TEST_PG_URL, regions[i] as string)])),
      maxConnections: 4,
    },
    dispose: async () => {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      try {
        for (const name of names) await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

export const BACKENDS: readonly { name: 'sqlite' | 'postgres'; create: () => Promise<TestBackend> }[] = [
  { name: 'sqlite', create: () => Promise.resolve(sqliteBackend()) },
  { name: 'postgres', create: postgresBackend },
];
