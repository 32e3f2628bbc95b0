/**
 * Importing archives of earlier format versions (SPEC §9), on SQLite and PostgreSQL: a version-1
 * archive, whose user rows still carry the lower-cased `user_name_key` that region migration 0016
 * replaced by a keyed hash, imports with that column dropped and the hashes and encrypted values
 * computed again (sign-in lookups find the user); a manifest of a newer version is refused and
 * nothing is imported.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { MANIFEST_VERSION, type ExportManifest } from '../domain/export/export-archive.js';
import { toJsonLine } from '../domain/export/export-entities.js';
import { DomainError } from '../domain/domain-error.js';
import { BACKENDS } from '../test-support/backends.js';
import { SYSTEM, harnessPerSuite, seedTenant, type Harness } from '../test-support/harness.js';

type Archive = Map<string, Buffer>;

async function readArchive(bytes: Buffer): Promise<Archive> {
  const files: Archive = new Map();
  const extract = tar.extract();
  Readable.from([bytes]).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    files.set(entry.header.name, Buffer.concat(chunks));
  }
  return files;
}

async function collect(run: (out: PassThrough) => Promise<unknown>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await run(out);
  return Buffer.concat(chunks);
}

/** The archive with its manifest rewritten to `version` and `users.jsonl` replaced, checksums matching. */
function rewritten(archive: Archive, version: number, users: Record<string, unknown>[]): Promise<Buffer> {
  const usersFile = Buffer.from(users.map(toJsonLine).join(''), 'utf8');
  const manifest = JSON.parse(archive.get('manifest.json')!.toString('utf8')) as ExportManifest;
  manifest.version = version;
  manifest.files = manifest.files.map((f) =>
    f.name === 'users.jsonl'
      ? { ...f, count: users.length, bytes: usersFile.length, sha256: createHash('sha256').update(usersFile).digest('hex') }
      : f,
  );
  const pack = tar.pack();
  for (const [name, content] of archive) {
    const changed = name === 'manifest.json' ? Buffer.from(JSON.stringify(manifest)) : name === 'users.jsonl' ? usersFile : content;
    pack.entry({ name }, changed);
  }
  pack.finalize();
  return collect(async (out) => {
    pack.pipe(out);
    await new Promise((resolve) => out.on('end', resolve));
  });
}

function rowsOf(archive: Archive, file: string): Record<string, unknown>[] {
  return archive
    .get(file)!
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

for (const { name, create } of BACKENDS) {
  describe(`importing archives of earlier versions on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));

    /** An archive of a tenant with one user, as this version writes it. */
    async function currentArchive(): Promise<{ archive: Archive; userId: string }> {
      const t = await seedTenant(h, 'FR');
      const user = await h.runtime.services.users.createUser(SYSTEM, t.tenantId, {
        userName: 'Ana.Lima@example.com',
        email: 'ana@example.com',
      });
      const bytes = await collect((out) => h.runtime.services.exports.exportTo(SYSTEM, t.tenantId, out));
      return { archive: await readArchive(bytes), userId: user.id };
    }

    test('a version-1 archive whose users carry user_name_key imports; lookups find the user by the recomputed hashes', async () => {
      const { archive, userId } = await currentArchive();
      const manifest = JSON.parse(archive.get('manifest.json')!.toString('utf8')) as ExportManifest;
      assert.equal(manifest.version, MANIFEST_VERSION);
      assert.ok(MANIFEST_VERSION > 1, 'archives since migration 0016 are of a later version than 1');
      // The row as an archive written before migration 0016 holds it: the lower-cased user name, no phone column.
      const users = rowsOf(archive, 'users.jsonl').map((row) => {
        const old: Record<string, unknown> = { ...row, user_name_key: String(row['user_name']).toLowerCase() };
        delete old['phone'];
        return old;
      });
      assert.ok(users.some((u) => u['id'] === userId && u['user_name_key'] === 'ana.lima@example.com'));
      const { tenant: target } = await h.runtime.services.tenants.create({ name: 'Target', country: 'FR' });
      const result = await h.runtime.services.exports.importFrom(SYSTEM, target.id, Readable.from([await rewritten(archive, 1, users)]));
      assert.equal(result.counts['users.jsonl'], users.length);
      const data = await h.runtime.services.tenants.data(target.id);
      const found = await data.users.findByUserName('ANA.LIMA@example.com');
      assert.equal(found?.id, userId, 'the user name hash was computed for the importing tenant');
      assert.equal(found?.email, 'ana@example.com');
      assert.equal(found?.phone, null);
      const page = await data.tableRows.page('users', ['id'], null, 10);
      assert.ok(
        page.every((row) => !('user_name_key' in row)),
        'the retired column is gone',
      );
    });

    test('a manifest of a newer version is refused and nothing is imported', async () => {
      const { archive } = await currentArchive();
      const users = rowsOf(archive, 'users.jsonl');
      const { tenant: target } = await h.runtime.services.tenants.create({ name: 'Target', country: 'FR' });
      await assert.rejects(
        h.runtime.services.exports.importFrom(SYSTEM, target.id, Readable.from([await rewritten(archive, MANIFEST_VERSION + 1, users)])),
        (e: unknown) => e instanceof DomainError && e.code === 'import-archive-invalid' && /newer than this server reads/.test(e.message),
      );
      const data = await h.runtime.services.tenants.data(target.id);
      assert.equal(await data.tableRows.count('users'), 0, 'nothing was imported');
      assert.equal((await data.audit.list({ activity: 'Import tenant data' }, { limit: 5 })).length, 0);
    });
  });
}
