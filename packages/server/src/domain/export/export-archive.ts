/**
 * The export archive: a POSIX tar (tar-stream) holding `manifest.json` first, then one JSON-lines
 * file per entity. Each file is written to a temporary file page by page (keyset paging, one page in
 * memory), hashed and counted on the way, then streamed into the tar — a tar header needs the entry
 * size before its bytes, which is why the file is staged on disk rather than held in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';
import tar from 'tar-stream';
import { DomainError } from '../domain-error.js';
import { EXPORT_ENTITIES, toJsonLine, type ExportEntity } from './export-entities.js';
import type { ExportedRow, TenantRowStore } from './tenant-row-store.js';

export const MANIFEST_FORMAT = 'custos-tenant-export';
/**
 * The archive format's version. 2: users without `user_name_key` (region migration 0016). An import
 * reads every version from EARLIEST_MANIFEST_VERSION on (export-entities.ts, `retiredColumns`).
 */
export const MANIFEST_VERSION = 2;
export const EARLIEST_MANIFEST_VERSION = 1;
/** Rows per page read from the store. */
const PAGE = 1000;

export interface ManifestFile {
  name: string;
  entity: string;
  count: number;
  bytes: number;
  sha256: string;
}

export interface ExportManifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  tenantId: string;
  createdAt: string;
  files: ManifestFile[];
}

export interface ExportProgress {
  entitiesDone: number;
  entitiesTotal: number;
  rowsWritten: number;
}

export function manifestChecksum(manifest: ExportManifest): string {
  return createHash('sha256').update(JSON.stringify(manifest)).digest('hex');
}

function entityName(entity: ExportEntity): string {
  return entity.file.replace(/\.jsonl$/, '');
}

/** Every row of `entity`, page by page, redacted for export. */
async function* exportRows(rows: TenantRowStore, entity: ExportEntity): AsyncGenerator<ExportedRow> {
  let after: unknown[] | null = null;
  for (;;) {
    const page = await rows.page(entity.table, entity.key, after, PAGE);
    for (const stored of page) {
      let row: ExportedRow = { ...stored };
      for (const column of entity.omit ?? []) delete row[column];
      if (entity.redact) row = entity.redact(row);
      yield row;
    }
    const last = page.at(-1);
    if (page.length < PAGE || !last || entity.key.length === 0) return;
    after = entity.key.map((k) => last[k]);
  }
}

async function writeEntityFile(rows: TenantRowStore, entity: ExportEntity, path: string, onRow: () => void): Promise<ManifestFile> {
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  let count = 0;
  let bytes = 0;
  try {
    for await (const row of exportRows(rows, entity)) {
      const line = Buffer.from(toJsonLine(row), 'utf8');
      hash.update(line);
      bytes += line.length;
      count++;
      onRow();
      if (!out.write(line)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { name: entity.file, entity: entityName(entity), count, bytes, sha256: hash.digest('hex') };
}

/** Writes the tenant's export archive to `out`; resolves with its manifest once `out` has it all. */
export async function writeExportArchive(
  rows: TenantRowStore,
  tenantId: string,
  createdAt: number,
  out: Writable,
  onProgress: (progress: ExportProgress) => void = () => undefined,
): Promise<ExportManifest> {
  const dir = await mkdtemp(join(tmpdir(), 'custos-export-'));
  try {
    const progress: ExportProgress = { entitiesDone: 0, entitiesTotal: EXPORT_ENTITIES.length, rowsWritten: 0 };
    const files: ManifestFile[] = [];
    for (const entity of EXPORT_ENTITIES) {
      files.push(
        await writeEntityFile(rows, entity, join(dir, entity.file), () => {
          progress.rowsWritten++;
          if (progress.rowsWritten % PAGE === 0) onProgress({ ...progress });
        }),
      );
      progress.entitiesDone++;
      onProgress({ ...progress });
    }
    const manifest: ExportManifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      tenantId,
      createdAt: new Date(createdAt).toISOString(),
      files,
    };
    const pack = tar.pack();
    const piped = pipeline(pack, out);
    const mtime = new Date(createdAt);
    pack.entry({ name: 'manifest.json', mtime }, `${JSON.stringify(manifest, null, 2)}\n`);
    for (const file of files) {
      const path = join(dir, file.name);
      const entry = pack.entry({ name: file.name, size: (await stat(path)).size, mtime });
      await pipeline(createReadStream(path), entry);
    }
    pack.finalize();
    await piped;
    return manifest;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function invalid(detail: string): DomainError {
  return new DomainError('import-archive-invalid', detail);
}

/**
 * Reads an export archive: checks the manifest, then hands each entity file's rows to `onRows` in
 * batches, verifying the file's SHA-256 and row count against the manifest as it streams.
 */
export async function readExportArchive(
  input: Readable,
  onManifest: (manifest: ExportManifest) => Promise<void>,
  onRows: (entity: ExportEntity, rows: ExportedRow[]) => Promise<void>,
  batchSize = 200,
): Promise<ExportManifest> {
  const extract = tar.extract();
  input.on('error', (error) => extract.destroy(error));
  input.pipe(extract);
  try {
    return await readEntries(extract, onManifest, onRows, batchSize);
  } catch (error) {
    input.unpipe(extract);
    input.resume();
    if (error instanceof DomainError) throw error;
    throw invalid(`The archive cannot be read as a tar file (${error instanceof Error ? error.message : String(error)}).`);
  }
}

async function readEntries(
  extract: tar.Extract,
  onManifest: (manifest: ExportManifest) => Promise<void>,
  onRows: (entity: ExportEntity, rows: ExportedRow[]) => Promise<void>,
  batchSize: number,
): Promise<ExportManifest> {
  let manifest: ExportManifest | undefined;
  const seen = new Set<string>();
  for await (const entry of extract) {
    const name = entry.header.name;
    if (!manifest) {
      if (name !== 'manifest.json') throw invalid('The archive does not start with manifest.json.');
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      manifest = parseManifest(Buffer.concat(chunks).toString('utf8'));
      await onManifest(manifest);
      continue;
    }
    const listed = manifest.files.find((f) => f.name === name);
    const entity = EXPORT_ENTITIES.find((e) => e.file === name);
    if (!listed || !entity || seen.has(name)) throw invalid(`The archive holds ${name}, which its manifest does not list once.`);
    seen.add(name);
    const hash = createHash('sha256');
    const decoder = new StringDecoder('utf8');
    let pending = '';
    let count = 0;
    let batch: ExportedRow[] = [];
    const takeLine = async (line: string): Promise<void> => {
      if (line === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw invalid(`${name} line ${count + 1} is not JSON.`);
      }
      if (row === null || typeof row !== 'object' || Array.isArray(row)) throw invalid(`${name} line ${count + 1} is not an object.`);
      count++;
      batch.push(row as ExportedRow);
      if (batch.length >= batchSize) {
        await onRows(entity, batch);
        batch = [];
      }
    };
    for await (const chunk of entry) {
      hash.update(chunk as Buffer);
      pending += decoder.write(chunk as Buffer);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) await takeLine(line);
    }
    await takeLine(pending + decoder.end());
    if (hash.digest('hex') !== listed.sha256) throw invalid(`${name} does not match its SHA-256 checksum in the manifest.`);
    if (count !== listed.count) throw invalid(`${name} holds ${count} rows; its manifest says ${listed.count}.`);
    if (batch.length > 0) await onRows(entity, batch);
  }
  if (!manifest) throw invalid('The archive is empty.');
  const missing = manifest.files.filter((f) => !seen.has(f.name));
  if (missing.length > 0) throw invalid(`The archive lacks ${missing.map((f) => f.name).join(', ')}.`);
  return manifest;
}

function parseManifest(text: string): ExportManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('manifest.json is not JSON.');
  }
  const m = value as Partial<ExportManifest>;
  const version = m.version;
  const known = typeof version === 'number' && Number.isInteger(version) && version >= EARLIEST_MANIFEST_VERSION;
  if (m.format !== MANIFEST_FORMAT || !known || !Array.isArray(m.files) || typeof m.tenantId !== 'string') {
    throw invalid(`manifest.json is not a ${MANIFEST_FORMAT} manifest of version ${EARLIEST_MANIFEST_VERSION} to ${MANIFEST_VERSION}.`);
  }
  if (version > MANIFEST_VERSION) {
    throw invalid(`The archive is of version ${version}, newer than this server reads (${MANIFEST_VERSION}); upgrade Custos first.`);
  }
  for (const f of m.files) {
    if (typeof f?.name !== 'string' || typeof f.sha256 !== 'string' || typeof f.count !== 'number')
      throw invalid('manifest.json lists a malformed file.');
  }
  return m as ExportManifest;
}
