/** Raw access to a test backend's stores, for tests that look into (or tamper with) what is stored. */
import type { Kysely } from 'kysely';
import type { RegionDatabase } from '../storage/database.js';
import { Storage } from '../storage/storage.js';
import { TEST_REGIONS, type TestBackend } from './backends.js';

export async function withRegionStore<T>(
  backend: TestBackend,
  region: string,
  work: (db: Kysely<RegionDatabase>) => Promise<T>,
): Promise<T> {
  const storage = Storage.open(backend.config, TEST_REGIONS);
  try {
    return await work(storage.inspectRegionStore(region));
  } finally {
    await storage.close();
  }
}
