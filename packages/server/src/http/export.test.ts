/**
 * Export and import (SPEC §9) on SQLite and PostgreSQL: the archive's manifest counts and checksums,
 * what is never exported, the background export API with progress and download, the round trip
 * export → import into a new tenant → export (the audit log as an imported chain, verified and
 * listed apart), a personal export, and the CSV reports.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import type { Actor } from '../domain/access/authorize.js';
import type { ExportManifest } from '../domain/export/export-archive.js';
import { toJsonLine } from '../domain/export/export-entities.js';
import { DomainError } from '../domain/domain-error.js';
import { runCli } from '../cli/program.js';
import { BACKENDS, sqliteBackend } from '../test-support/backends.js';
import { deviceRecord } from '../test-support/device-fixture.js';
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

function omit(row: Record<string, unknown>, columns: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !columns.includes(k)));
}

function manifestOf(archive: Archive): ExportManifest {
  return JSON.parse(archive.get('manifest.json')!.toString('utf8')) as ExportManifest;
}

function rowsOf(archive: Archive, file: string): Record<string, unknown>[] {
  return archive
    .get(file)!
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function collect(run: (out: PassThrough) => Promise<unknown>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await run(out);
  return Buffer.concat(chunks);
}

function repack(archive: Archive, change: (name: string, content: Buffer) => Buffer): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of archive) pack.entry({ name }, change(name, content));
  pack.finalize();
  return collect(async (out) => {
    pack.pipe(out);
    await new Promise((resolve) => out.on('end', resolve));
  });
}

for (const { name, create } of BACKENDS) {
  describe(`export and import on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));

    const call = (token: string, method: 'GET' | 'POST', url: string, payload?: object) =>
      h.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

    /** A tenant with at least one row of every exported entity. */
    async function populatedTenant(country: string) {
      const t = await seedTenant(h, country);
      const s = h.runtime.services;
      const ana = await s.users.createUser(SYSTEM, t.tenantId, {
        userName: 'ana@example.com',
        email: 'ana@example.com',
        password: 'Export-round-trip-42!',
      });
      await s.users.createGroup(SYSTEM, t.tenantId, { displayName: 'Finance', members: [ana.id] });
      const data = await s.tenants.data(t.tenantId);
      const device = deviceRecord({
        hardware: { deviceName: '=HYPERLINK("http://x")', serialNumber: 'SER-EXPORT-1', wifiMac: 'aa:bb:cc:00:11:22' },
        userEmail: 'ana@example.com',
      });
      await data.devices.insert(device);
      await data.devices.replaceInventory(
        device.id,
        { deviceName: '=HYPERLINK("http://x")', serialNumber: 'SER-EXPORT-1', wifiMac: 'aa:bb:cc:00:11:22' },
        [
          {
            key: 'firefox',
            name: 'Firefox',
            version: '128',
            appId: 'org.mozilla.firefox',
            installLocation: null,
            sizeBytes: 1,
            managed: false,
          },
        ],
        'digest-1',
        2_000,
      );
      await data.devices.insert(deviceRecord({ hardware: { deviceName: 'second', serialNumber: 'SER-EXPORT-2' }, ownership: 'personal' }));
      await s.commands.enqueue(SYSTEM, t.tenantId, device.id, 'sync');
      const policy = await s.compliance.create(SYSTEM, t.tenantId, { name: 'Encrypted', settings: { requireEncryption: true } });
      await s.compliance.setAssignments(SYSTEM, t.tenantId, policy.id, [{ target: 'allDevices', mode: 'include' }]);
      await s.compliance.evaluateAll(SYSTEM, t.tenantId);
      const profile = await call(t.adminToken, 'POST', '/api/v1/configuration-profiles', {
        name: 'Office Wi-Fi',
        kind: 'wifi',
        wifi: { ssid: 'Office', security: 'wpa2-personal', passphrase: 'correct horse battery' },
      });
      assert.equal(profile.statusCode, 201, profile.body);
      return { ...t, ana, device };
    }

    test('an export holds every entity with counts and checksums, decrypted devices and no credentials', async () => {
      const t = await populatedTenant('DE');
      const bytes = await collect((out) => h.runtime.services.exports.exportTo(SYSTEM, t.tenantId, out));
      const archive = await readArchive(bytes);
      const manifest = manifestOf(archive);
      assert.equal(manifest.tenantId, t.tenantId);
      assert.equal([...archive.keys()][0], 'manifest.json', 'the manifest comes first');
      for (const file of manifest.files) {
        const content = archive.get(file.name);
        assert.ok(content, `${file.name} is in the archive`);
        assert.equal(createHash('sha256').update(content).digest('hex'), file.sha256, `${file.name} checksum`);
        assert.equal(rowsOf(archive, file.name).length, file.count, `${file.name} count`);
      }
      const count = (f: string) => manifest.files.find((x) => x.name === f)?.count;
      assert.equal(count('devices.jsonl'), 2);
      assert.equal(count('apps.jsonl'), 1);
      assert.equal(count('users.jsonl'), 1);
      assert.equal(count('group-members.jsonl'), 1);
      assert.equal(count('compliance-policies.jsonl'), 1);
      assert.ok((count('compliance-results.jsonl') ?? 0) >= 1);
      assert.equal(count('configuration-profiles.jsonl'), 1);
      assert.equal(count('enrollment-tokens.jsonl'), 1);
      assert.equal(count('commands.jsonl'), 1);
      assert.ok((count('audit-events.jsonl') ?? 0) >= 5);

      const devices = rowsOf(archive, 'devices.jsonl');
      assert.ok(
        devices.some((d) => d['serial_number'] === 'SER-EXPORT-1' && d['wifi_mac'] === 'aa:bb:cc:00:11:22'),
        'devices are decrypted',
      );
      assert.ok(devices.every((d) => !('tenant_id' in d) && !('serial_number_hash' in d)));
      const text = bytes.toString('latin1');
      assert.doesNotMatch(text, /\$argon2/, 'no password hash');
      assert.doesNotMatch(text, /correct horse battery/, 'no profile secret');
      assert.ok(rowsOf(archive, 'users.jsonl').every((u) => !('password_hash' in u)));
      assert.ok(rowsOf(archive, 'enrollment-tokens.jsonl').every((u) => !('secret_hash' in u)));

      // The audit chain can be checked from the export alone: each event links to the one before.
      const events = rowsOf(archive, 'audit-events.jsonl');
      for (let i = 1; i < events.length; i++) assert.equal(events[i]!['previous_hash'], events[i - 1]!['hash']);
      const exported = await (
        await h.runtime.services.tenants.data(t.tenantId)
      ).audit.list({ activity: 'Export tenant data' }, { limit: 5 });
      assert.equal(exported.length, 1, 'the export is audited');
      assert.equal(exported[0]!.operation, 'export');
    });

    test('export → import into a new tenant → export reproduces every entity and checksum, the audit log as an imported chain', async () => {
      const source = await populatedTenant('FR');
      const first = await readArchive(await collect((out) => h.runtime.services.exports.exportTo(SYSTEM, source.tenantId, out)));
      const { tenant: target } = await h.runtime.services.tenants.create({ name: 'Imported', country: 'FR' });
      const result = await h.runtime.services.exports.importFrom(SYSTEM, target.id, Readable.from([await repack(first, (_, c) => c)]));
      assert.equal(result.sourceTenantId, source.tenantId);
      const second = await readArchive(await collect((out) => h.runtime.services.exports.exportTo(SYSTEM, target.id, out)));
      const before = manifestOf(first);
      const after = manifestOf(second);
      for (const file of before.files) {
        const again = after.files.find((f) => f.name === file.name)!;
        if (file.name === 'audit-events.jsonl' || file.name === 'imported-audit-events.jsonl') continue;
        assert.equal(again.count, file.count, `${file.name}: same count`);
        assert.equal(again.sha256, file.sha256, `${file.name}: same content`);
      }
      // The source's audit file comes back as the imported chain: every event, byte for byte, with its source tenant and position.
      const sourceAudit = before.files.find((f) => f.name === 'audit-events.jsonl')!;
      const carried = after.files.find((f) => f.name === 'imported-audit-events.jsonl')!;
      assert.equal(before.files.find((f) => f.name === 'imported-audit-events.jsonl')?.count, 0);
      assert.equal(carried.count, sourceAudit.count, 'imported chain: the same count as the source audit file');
      const expected = rowsOf(first, 'audit-events.jsonl')
        .map((row, i) => toJsonLine({ ...row, source_tenant_id: source.tenantId, position: i + 1 }))
        .join('');
      assert.equal(
        carried.sha256,
        createHash('sha256').update(expected).digest('hex'),
        'imported chain: the checksum of the source audit file',
      );
      assert.equal(
        createHash('sha256')
          .update(
            rowsOf(second, 'imported-audit-events.jsonl')
              .map((r) => toJsonLine(omit(r, ['source_tenant_id', 'position'])))
              .join(''),
          )
          .digest('hex'),
        sourceAudit.sha256,
        'without the two added columns, the imported chain is the source audit file',
      );

      // The new tenant's chain: its creation, then the import naming the source and attesting the imported chain.
      const data = await h.runtime.services.tenants.data(target.id);
      const events = (await data.audit.list({}, { limit: 10 })).reverse();
      assert.deepEqual(events.map((e) => e.activity).slice(0, 2), ['Create tenant', 'Import tenant data']);
      assert.equal(events[1]!.targets[0]!.id, result.sourceManifestSha256);
      const attested = events[1]!.targets[0]!.modifiedProperties!.find((p) => p.name === 'importedAuditChains')!.newValue as {
        sourceTenantId: string;
        events: number;
      }[];
      assert.deepEqual(
        attested.map((c) => [c.sourceTenantId, c.events]),
        [[source.tenantId, sourceAudit.count]],
      );
      const verdict = await h.runtime.services.audit.verify(SYSTEM, target.id);
      assert.equal(verdict.intact, true);
      assert.deepEqual(
        verdict.imported.map((c) => [c.sourceTenantId, c.intact, c.events, c.attested]),
        [[source.tenantId, true, sourceAudit.count, true]],
      );
      // Imported devices are encrypted under the new tenant's key and searchable.
      const raw = await h.runtime.storage
        .inspectRegionStore(target.region)
        .selectFrom('devices')
        .selectAll()
        .where('tenant_id', '=', target.id)
        .execute();
      assert.ok(raw.every((r) => r.serial_number === null || r.serial_number.startsWith('v1:')));
      assert.equal((await data.devices.list({ search: 'SER-EXPORT-1' })).items.length, 1);

      // A second hop carries both chains on: the first source's and the intermediate tenant's own.
      const { tenant: third } = await h.runtime.services.tenants.create({ name: 'Imported twice', country: 'FR' });
      await h.runtime.services.exports.importFrom(SYSTEM, third.id, Readable.from([await repack(second, (_, c) => c)]));
      const twice = await h.runtime.services.audit.verify(SYSTEM, third.id);
      assert.equal(twice.intact, true);
      assert.deepEqual(twice.imported.map((c) => c.sourceTenantId).sort(), [source.tenantId, target.id].sort());
      assert.ok(twice.imported.every((c) => c.intact && c.attested));
    });

    test('imported audit events are listed apart with their source tenant, and a changed one fails verification', async () => {
      const source = await populatedTenant('PT');
      const archive = await collect((out) => h.runtime.services.exports.exportTo(SYSTEM, source.tenantId, out));
      const { tenant: target } = await h.runtime.services.tenants.create({ name: 'Listed', country: 'PT' });
      await h.runtime.services.exports.importFrom(SYSTEM, target.id, Readable.from([archive]));
      const { token } = await h.runtime.services.apiTokens.create(SYSTEM, target.id, { role: 'Tenant Administrator' });
      const page = await call(token, 'GET', '/api/v1/audit-events?source=imported&limit=2');
      assert.equal(page.statusCode, 200, page.body);
      const body = page.json<{ items: { sourceTenantId: string; sequence: number }[]; nextCursor: string | null }>();
      assert.equal(body.items.length, 2);
      assert.ok(body.items.every((e) => e.sourceTenantId === source.tenantId));
      assert.ok(body.items[0]!.sequence > body.items[1]!.sequence, 'newest first');
      assert.ok(body.nextCursor);
      const next = await call(token, 'GET', `/api/v1/audit-events?source=imported&limit=500&cursor=${body.nextCursor}`);
      assert.ok(next.json<{ items: unknown[] }>().items.length >= 3);
      const own = await call(token, 'GET', '/api/v1/audit-events?limit=500');
      assert.ok(
        own.json<{ items: { activity: string; sourceTenantId?: string }[] }>().items.every((e) => e.sourceTenantId === undefined),
        'the own chain is listed without a source',
      );
      const bad = await call(token, 'GET', '/api/v1/audit-events?source=elsewhere');
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json<{ code: string }>().code, 'validation-failed');

      // Someone with database access edits an imported event: verification names it.
      const store = h.runtime.storage.inspectRegionStore(target.region);
      const original = await store
        .selectFrom('imported_audit_events')
        .select('actor_name')
        .where('tenant_id', '=', target.id)
        .where('sequence', '=', 2)
        .executeTakeFirstOrThrow();
      await store
        .updateTable('imported_audit_events')
        .set({ actor_name: 'someone else' })
        .where('tenant_id', '=', target.id)
        .where('sequence', '=', 2)
        .execute();
      const verdict = await h.runtime.services.audit.verify(SYSTEM, target.id);
      assert.equal(verdict.intact, false);
      assert.equal(verdict.intact ? '' : verdict.problem, 'altered');
      assert.match(verdict.intact ? '' : verdict.detail, new RegExp(`imported chain of tenant ${source.tenantId}`));
      // Deleting the newest imported event is seen too: the import event attests where the chain ends.
      await store
        .updateTable('imported_audit_events')
        .set({ actor_name: original.actor_name })
        .where('tenant_id', '=', target.id)
        .where('sequence', '=', 2)
        .execute();
      assert.equal((await h.runtime.services.audit.verify(SYSTEM, target.id)).intact, true, 'restored');
      const last = await store
        .selectFrom('imported_audit_events')
        .select('position')
        .where('tenant_id', '=', target.id)
        .orderBy('position', 'desc')
        .executeTakeFirstOrThrow();
      await store.deleteFrom('imported_audit_events').where('tenant_id', '=', target.id).where('position', '=', last.position).execute();
      const truncated = (await h.runtime.services.audit.verify(SYSTEM, target.id)).imported[0]!;
      assert.equal(truncated.intact, false);
      assert.equal(truncated.intact ? '' : truncated.problem, 'missing');
    });

    test('an archive whose audit chain does not link is refused, even with a matching manifest', async () => {
      const source = await populatedTenant('AT');
      const archive = await readArchive(await collect((out) => h.runtime.services.exports.exportTo(SYSTEM, source.tenantId, out)));
      // Rewrite one event's actor and fix the manifest's count and checksum: only the chain can tell.
      const lines = archive
        .get('audit-events.jsonl')!
        .toString('utf8')
        .replace(/"actor_name":"[^"]*"/, '"actor_name":"forged"');
      const forged = Buffer.from(lines, 'utf8');
      const manifest = manifestOf(archive);
      const audit = manifest.files.find((f) => f.name === 'audit-events.jsonl')!;
      audit.sha256 = createHash('sha256').update(forged).digest('hex');
      audit.bytes = forged.length;
      const tampered = await repack(archive, (name, c) =>
        name === 'audit-events.jsonl' ? forged : name === 'manifest.json' ? Buffer.from(JSON.stringify(manifest)) : c,
      );
      const { tenant: target } = await h.runtime.services.tenants.create({ name: 'Forged', country: 'AT' });
      await assert.rejects(
        h.runtime.services.exports.importFrom(SYSTEM, target.id, Readable.from([tampered])),
        (e: unknown) =>
          e instanceof DomainError && e.code === 'import-archive-invalid' && /audit chain of tenant .* is broken/.test(e.message),
      );
      const data = await h.runtime.services.tenants.data(target.id);
      assert.equal(await data.tableRows.count('imported_audit_events'), 0, 'nothing was imported');
      assert.equal(await data.tableRows.count('users'), 0);
    });

    test('an import is refused into a tenant that holds data, and a tampered archive changes nothing', async () => {
      const source = await populatedTenant('IT');
      const bytes = await collect((out) => h.runtime.services.exports.exportTo(SYSTEM, source.tenantId, out));
      await assert.rejects(
        h.runtime.services.exports.importFrom(SYSTEM, source.tenantId, Readable.from([bytes])),
        (e: unknown) => e instanceof DomainError && e.code === 'import-target-not-empty',
      );
      const { tenant: target } = await h.runtime.services.tenants.create({ name: 'Target', country: 'IT' });
      const tampered = await repack(await readArchive(bytes), (name, c) =>
        name === 'devices.jsonl' ? Buffer.from(c.toString('utf8').replace('SER-EXPORT-2', 'SER-EXPORT-X')) : c,
      );
      await assert.rejects(
        h.runtime.services.exports.importFrom(SYSTEM, target.id, Readable.from([tampered])),
        (e: unknown) => e instanceof DomainError && e.code === 'import-archive-invalid' && /devices\.jsonl/.test(e.message),
      );
      await assert.rejects(
        h.runtime.services.exports.importFrom(SYSTEM, target.id, Readable.from([Buffer.from('not a tar archive at all')])),
        (e: unknown) => e instanceof DomainError && e.code === 'import-archive-invalid',
      );
      const data = await h.runtime.services.tenants.data(target.id);
      assert.equal(await data.tableRows.count('users'), 0, 'nothing was imported');
      assert.equal(await data.tableRows.count('devices'), 0);
      assert.equal((await data.audit.list({ activity: 'Import tenant data' }, { limit: 5 })).length, 0);
    });

    test('POST /api/v1/exports runs in the background with progress, then downloads; needs export.run', async () => {
      const t = await populatedTenant('ES');
      const started = await call(t.adminToken, 'POST', '/api/v1/exports');
      assert.equal(started.statusCode, 202, started.body);
      const job = started.json<{ id: string; status: string; progress: { entitiesTotal: number } }>();
      assert.equal(job.status, 'running');
      assert.equal(started.headers['location'], `/api/v1/exports/${job.id}`);
      await h.runtime.services.exports.settle();
      const done = (await call(t.adminToken, 'GET', `/api/v1/exports/${job.id}`)).json<{
        status: string;
        progress: { entitiesDone: number; entitiesTotal: number; rowsWritten: number };
        bytes: number;
        manifestSha256: string;
        downloadUrl: string;
      }>();
      assert.equal(done.status, 'completed');
      assert.equal(done.progress.entitiesDone, done.progress.entitiesTotal);
      const download = await h.app.inject({ method: 'GET', url: done.downloadUrl, headers: { authorization: `Bearer ${t.adminToken}` } });
      assert.equal(download.statusCode, 200);
      assert.equal(download.headers['content-type'], 'application/x-tar');
      assert.equal(download.rawPayload.length, done.bytes);
      const archive = await readArchive(download.rawPayload);
      assert.equal(
        createHash('sha256')
          .update(JSON.stringify(manifestOf(archive)))
          .digest('hex'),
        done.manifestSha256,
      );
      assert.equal(
        manifestOf(archive).files.reduce((n, f) => n + f.count, 0),
        done.progress.rowsWritten,
      );

      const missing = await call(t.adminToken, 'GET', '/api/v1/exports/6d1f7c59-0000-4000-8000-000000000000');
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json<{ code: string }>().code, 'not-found');
      const bad = await call(t.adminToken, 'GET', '/api/v1/exports/not-an-id/download');
      assert.equal(bad.statusCode, 400);
      const { token: helpDesk } = await h.runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role: 'Help Desk Operator' });
      const refused = await call(helpDesk, 'POST', '/api/v1/exports');
      assert.equal(refused.statusCode, 403);
      const data = await h.runtime.services.tenants.data(t.tenantId);
      assert.equal(
        (await data.audit.list({ activity: 'Export tenant data' }, { limit: 5 })).length,
        1,
        'only the allowed export is recorded',
      );
    });

    test("a user's personal export holds their record, their devices and the events about them, without the password", async () => {
      const t = await populatedTenant('NL');
      const actor: Actor = { type: 'user', id: t.ana.id, name: t.ana.userName, tenantId: t.tenantId, grants: [], sessionId: null };
      const mine = await h.runtime.services.exports.personalExport(actor);
      assert.equal(mine.user.id, t.ana.id);
      assert.ok(!('passwordHash' in mine.user));
      assert.deepEqual(
        mine.devices.map((d) => d.id),
        [t.device.id],
      );
      assert.equal(mine.devices[0]!.hardware['serialNumber'], 'SER-EXPORT-1');
      assert.ok(mine.auditEvents.some((e) => e.targets.some((x) => x.id === t.ana.id)));
      await assert.rejects(
        h.runtime.services.exports.personalExport(SYSTEM),
        (e: unknown) => e instanceof DomainError && e.code === 'forbidden',
      );
      const started = await h.runtime.services.sessions.start(t.tenantId, t.ana, {
        method: 'password',
        mfaSatisfied: false,
        context: { ip: '127.0.0.1', correlationId: null },
      });
      const response = await h.app.inject({
        method: 'GET',
        url: '/api/v1/me/export',
        headers: { cookie: `custos_session=${started.cookie}` },
      });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json<{ user: { id: string }; devices: { serialNumber: string }[] }>();
      assert.equal(body.user.id, t.ana.id);
      assert.deepEqual(
        body.devices.map((d) => d.serialNumber),
        ['SER-EXPORT-1'],
      );
    });

    test('CSV reports stream the filtered devices and compliance results, safe from CSV injection', async () => {
      const t = await populatedTenant('BE');
      const devices = await call(t.adminToken, 'GET', '/api/v1/reports/devices.csv?ownership=corporate');
      assert.equal(devices.statusCode, 200);
      assert.match(String(devices.headers['content-type']), /^text\/csv/);
      const lines = devices.body.trimEnd().split('\r\n');
      assert.equal(lines.length, 2, 'header and the one corporate device');
      assert.match(lines[0]!, /^"id","deviceName"/);
      assert.ok(lines[1]!.includes(`"'=HYPERLINK(""http://x"")"`), 'a formula is neutralised and quotes are doubled');
      assert.ok(lines[1]!.includes('"SER-EXPORT-1"'), 'sensitive values are decrypted for a devices.read role');
      assert.ok(lines[1]!.includes('"ana@example.com"'), 'the user email, for a role with users.read');
      const compliance = await call(t.adminToken, 'GET', '/api/v1/reports/compliance.csv');
      assert.equal(compliance.statusCode, 200);
      const rows = compliance.body.trimEnd().split('\r\n');
      assert.match(rows[0]!, /^"deviceId","deviceName","platform","policyId","policyName"/);
      assert.equal(rows.length, 3, 'one line per device under the all-devices policy');
      assert.ok(rows.slice(1).every((r) => r.includes('"Encrypted"')));
      const invalid = await call(t.adminToken, 'GET', '/api/v1/reports/devices.csv?ownership=stolen');
      assert.equal(invalid.statusCode, 400);
      assert.equal(invalid.json<{ code: string }>().code, 'validation-failed');
      const { token: privacy } = await h.runtime.services.apiTokens.create(SYSTEM, t.tenantId, { role: 'Privacy Officer' });
      assert.equal((await call(privacy, 'GET', '/api/v1/reports/compliance.csv')).statusCode, 403, 'policies.read is needed');
    });
  });
}

describe('custos export, import and keys rotate (command line, SQLite data directory)', () => {
  let h: Harness;
  let dataDir: string;
  harnessPerSuite(
    () => Promise.resolve(sqliteBackend()),
    (started) => {
      h = started.h;
      if (started.backend.config.kind !== 'sqlite') throw new Error('SQLite expected');
      dataDir = started.backend.config.dataDir;
    },
  );

  async function cli(args: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    };
    let code: number;
    try {
      code = await runCli(['node', 'custos', '--data-dir', dataDir, ...args, '--json']);
    } finally {
      process.stdout.write = write;
    }
    return { code, json: chunks.length ? (JSON.parse(chunks.join('')) as Record<string, unknown>) : {} };
  }

  test('export to a file, import it into a new tenant, rotate its key', async () => {
    const t = await seedTenant(h, 'DE');
    const data = await h.runtime.services.tenants.data(t.tenantId);
    await data.devices.insert(deviceRecord({ hardware: { serialNumber: 'CLI-SN-1' } }));
    const file = join(dataDir, 'cli-export.tar');
    const exported = await cli(['export', '--tenant', t.tenantId, '--out', file]);
    assert.equal(exported.code, 0);
    const manifest = (exported.json['manifest'] as ExportManifest).files;
    assert.equal(manifest.find((f) => f.name === 'devices.jsonl')?.count, 1);
    assert.equal((await stat(file)).mode & 0o777, 0o600, 'the archive is readable by its owner only');

    const { tenant: target } = await h.runtime.services.tenants.create({ name: 'CLI import', country: 'DE' });
    const imported = await cli(['import', '--tenant', target.id, '--from', file]);
    assert.equal(imported.code, 0);
    assert.equal((imported.json['counts'] as Record<string, number>)['devices.jsonl'], 1);
    assert.equal(imported.json['sourceManifestSha256'], exported.json['manifestSha256']);
    const verified = await cli(['audit', 'verify', '--tenant', target.id]);
    assert.equal(verified.code, 0, 'the new tenant chain and the imported chain verify');
    assert.deepEqual(
      (verified.json['imported'] as { sourceTenantId: string; intact: boolean }[]).map((c) => [c.sourceTenantId, c.intact]),
      [[t.tenantId, true]],
    );
    const again = await cli(['import', '--tenant', target.id, '--from', file]);
    assert.equal(again.code, 1, 'a second import into the same tenant is refused');

    const targetData = await h.runtime.services.tenants.data(target.id);
    const [device] = (await targetData.devices.list({ search: 'CLI-SN-1' })).items;
    assert.ok(device, 'the imported device is found by its serial (this process now caches key version 1)');
    const rotated = await cli(['keys', 'rotate', '--tenant', target.id, '--settle-seconds', '0']);
    assert.equal(rotated.code, 0);
    assert.equal(rotated.json['keyVersion'], 2);
    const audit = Number(rotated.json['auditEventsScanned']) + Number(rotated.json['importedAuditEventsScanned']);
    assert.ok(Number(rotated.json['importedAuditEventsScanned']) > 0);
    assert.equal(rotated.json['valuesReencrypted'], 1 + audit, 'the device and every audit event, own and imported');
    // Version 1 is gone; this process re-reads the key versions when it meets a value under version 2.
    assert.equal((await targetData.devices.get(device.id))?.hardware['serialNumber'], 'CLI-SN-1');
    assert.deepEqual(
      (await targetData.devices.list({ search: 'CLI-SN-1' })).items.map((d) => d.hardware['serialNumber']),
      ['CLI-SN-1'],
    );
  });
});
