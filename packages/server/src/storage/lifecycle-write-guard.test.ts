/**
 * The subscription-state write guard on compiled statements (no database needed: Kysely applies
 * plugins when it compiles): what `suspended` and `retention` refuse and let through, and that
 * anything it cannot classify is refused in retention (fail closed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql } from 'kysely';
import { DomainError } from '../domain/domain-error.js';
import type { RegionDatabase } from './database.js';
import { lifecycleWriteGuard } from './lifecycle-write-guard.js';

const base = new Kysely<RegionDatabase>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});

function guarded(state: 'suspended' | 'retention'): Kysely<RegionDatabase> {
  const guard = lifecycleWriteGuard('t', state);
  assert.ok(guard);
  return base.withPlugin(guard);
}

const refusedWith = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;

test('active and warning tenants get no guard', () => {
  assert.equal(lifecycleWriteGuard('t', 'active'), undefined);
  assert.equal(lifecycleWriteGuard('t', 'warning'), undefined);
});

test('suspended refuses new devices and enrollment tokens, nothing else', () => {
  const db = guarded('suspended');
  assert.throws(
    () =>
      db
        .insertInto('devices')
        .values({ tenant_id: 't', id: 'd' } as never)
        .compile(),
    refusedWith('tenant-suspended'),
  );
  assert.throws(
    () =>
      db
        .insertInto('enrollment_tokens')
        .values({ tenant_id: 't' } as never)
        .compile(),
    refusedWith('tenant-suspended'),
  );
  db.updateTable('devices').set({ device_name: 'x' }).where('tenant_id', '=', 't').compile();
  db.insertInto('users')
    .values({ tenant_id: 't' } as never)
    .compile();
  db.selectFrom('devices').selectAll().compile();
});

test('retention refuses every write but sign-in and audit bookkeeping, and anything it cannot classify', () => {
  const db = guarded('retention');
  const readOnly = refusedWith('tenant-read-only');
  assert.throws(
    () =>
      db
        .insertInto('devices')
        .values({ tenant_id: 't' } as never)
        .compile(),
    readOnly,
  );
  assert.throws(() => db.updateTable('devices').set({ device_name: 'x' }).compile(), readOnly);
  assert.throws(() => db.deleteFrom('device_apps').where('tenant_id', '=', 't').compile(), readOnly);
  assert.throws(() => db.updateTable('devices as d').set({ device_name: 'x' }).compile(), readOnly, 'an alias does not hide the table');
  assert.throws(
    () =>
      db
        .insertInto('users')
        .values({ tenant_id: 't' } as never)
        .compile(),
    readOnly,
    'users: update only',
  );
  assert.throws(() => db.deleteFrom('api_tokens').compile(), readOnly, 'tokens: update only');
  assert.throws(() => sql`delete from devices`.compile(db), readOnly, 'raw SQL other than a read');
  assert.throws(() => db.schema.dropTable('devices').compile(), readOnly);
  db.insertInto('audit_events')
    .values({ tenant_id: 't' } as never)
    .compile();
  db.insertInto('user_sessions')
    .values({ tenant_id: 't' } as never)
    .compile();
  db.updateTable('users').set({ last_sign_in_at: 1 }).compile();
  db.updateTable('api_tokens').set({ last_used_at: 1 }).compile();
  db.insertInto('tenant_exports')
    .values({ tenant_id: 't' } as never)
    .compile();
  db.selectFrom('devices').selectAll().compile();
  sql`select 1`.compile(db);
});
