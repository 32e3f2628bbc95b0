/**
 * Tenant export and import (SPEC §9 "Export"). An export is every entity of the tenant as JSON
 * lines in one tar archive with a manifest of counts and SHA-256 checksums (export-archive.ts),
 * written as a stream. `POST /api/v1/exports` runs one in the background, recording progress and a
 * heartbeat in an export job row and the archive in a file under the export directory; a job whose
 * process died is declared interrupted (by the `export.maintain` job or the next read of it), and a
 * completed archive is deleted when its published lifetime ends. `custos export` writes one straight
 * to a file. Every export is audited (operation `export`).
 *
 * Import writes an archive into a new tenant, keeping the exported ids (every primary key is scoped
 * by the tenant id, so they cannot collide with another tenant's). It runs in one transaction: an
 * archive that fails its checksums changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { authorize, type Actor } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { ChainedAuditEvent } from '../audit/audit-chain.js';
import type { Clock } from '../clock.js';
import type { DeviceRecord } from '../devices/device-store.js';
import { DomainError } from '../domain-error.js';
import type { UserRecord } from '../identity/identity-stores.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { IMPORT_ACTIVITY, IMPORTED_CHAINS_PROPERTY } from '../audit/imported-audit.js';
import { EXPORT_ENTITIES, importableRow } from './export-entities.js';
import { ImportedAuditRows } from './imported-audit-rows.js';
import { MANIFEST_VERSION, manifestChecksum, readExportArchive, writeExportArchive, type ExportManifest } from './export-archive.js';
import { DEFAULT_EXPORT_JOB_OPTIONS, type ExportJobChanges, type ExportJobOptions, type ExportJobRecord } from './export-job-store.js';
import { DAY_MS } from '../lifecycle/lifecycle.js';

export interface ExportResult {
  manifest: ExportManifest;
  manifestSha256: string;
}

export interface ImportResult {
  tenantId: string;
  sourceTenantId: string;
  sourceManifestSha256: string;
  counts: Record<string, number>;
}

/** A signed-in user's own data (`GET /api/v1/me/export`). */
export interface PersonalExport {
  exportedAt: number;
  user: Omit<UserRecord, 'passwordHash'>;
  devices: DeviceRecord[];
  auditEvents: ChainedAuditEvent[];
}

/** Tables that must be empty for an import: anything beyond what `tenant create` makes. */
const MUST_BE_EMPTY = [
  'users',
  'groups',
  'roles',
  'devices',
  'enrollment_tokens',
  'compliance_policies',
  'configuration_profiles',
  'imported_audit_events',
] as const;
/** At most this many audit events about a user go into their personal export. */
const PERSONAL_AUDIT_LIMIT = 1000;

/** What one sweep of a tenant's export jobs did (export-maintenance-job.ts). */
export interface ExportSweep {
  interrupted: number;
  expired: number;
}

/** Who ends interrupted jobs and expired archives in the audit log. */
const EXPORT_KEEPER: Actor = { type: 'system', id: 'scheduler', name: 'export clean-up' };

/** Thrown inside a job whose row another process already declared interrupted: stop writing. */
class JobTakenOver extends Error {}

export class ExportService {
  /** Background exports of this process, awaited by `close` (and by tests). */
  private readonly running = new Set<Promise<void>>();
  /** `tenantId/exportId` of the jobs this process is running: alive whatever their heartbeat says. */
  private readonly local = new Set<string>();
  private readonly options: ExportJobOptions;

  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
    /** Where background exports' archives are kept (`<exportDir>/<tenantId>/<exportId>.tar`). */
    private readonly exportDir: string,
    options: Partial<ExportJobOptions> = {},
  ) {
    this.options = { ...DEFAULT_EXPORT_JOB_OPTIONS, ...options };
  }

  /** The published lifetime of a completed archive, in days (the privacy catalog's `export-archives` rule). */
  get archiveLifetimeDays(): number {
    return this.options.archiveLifetimeDays;
  }

  /** Writes the tenant's export archive to `out` and audits it. */
  async exportTo(actor: Actor, tenantId: string, out: Writable): Promise<ExportResult> {
    authorize(actor, 'export.run', { tenantId });
    const data = await this.tenants.data(tenantId);
    const manifest = await writeExportArchive(data.tableRows, tenantId, this.clock.now(), out);
    const manifestSha256 = manifestChecksum(manifest);
    await this.auditExport(data, actor, manifestSha256, manifest);
    return { manifest, manifestSha256 };
  }

  private async auditExport(
    data: TenantData,
    actor: Actor,
    manifestSha256: string,
    manifest: ExportManifest,
    exportId?: string,
  ): Promise<void> {
    await recordAudit(data, actor, this.clock, {
      activity: 'Export tenant data',
      category: 'Export',
      operation: 'export',
      targets: [
        {
          type: 'export',
          id: exportId ?? manifestSha256,
          modifiedProperties: [
            { name: 'manifestSha256', oldValue: null, newValue: manifestSha256 },
            { name: 'rows', oldValue: null, newValue: manifest.files.reduce((n, f) => n + f.count, 0) },
          ],
        },
      ],
    });
  }

  /** Starts a background export; the returned job is `running`. Audited at once (the request is the export). */
  async start(actor: Actor, tenantId: string): Promise<ExportJobRecord> {
    authorize(actor, 'export.run', { tenantId });
    const data = await this.tenants.data(tenantId);
    const now = this.clock.now();
    const job: ExportJobRecord = {
      id: randomUUID(),
      status: 'running',
      requestedBy: actor.id,
      createdAt: now,
      finishedAt: null,
      entitiesDone: 0,
      entitiesTotal: EXPORT_ENTITIES.length,
      rowsWritten: 0,
      bytes: null,
      manifestSha256: null,
      error: null,
      errorCode: null,
      heartbeatAt: now,
      expiresAt: null,
    };
    await data.transaction(async (trx) => {
      await trx.exportJobs.insert(job);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Export tenant data',
        category: 'Export',
        operation: 'export',
        targets: [{ type: 'export', id: job.id }],
      });
    });
    const key = `${tenantId}/${job.id}`;
    this.local.add(key);
    const run = this.runJob(data, job.id).finally(() => {
      this.local.delete(key);
      this.running.delete(run);
    });
    this.running.add(run);
    return job;
  }

  /** Where the archive of a background export is written (`<exportDir>/<tenantId>/<exportId>.tar`). */
  archivePath(tenantId: string, id: string): string {
    return join(this.exportDir, tenantId, `${id}.tar`);
  }

  /**
   * Writes the archive, recording progress and a heartbeat (at least every quarter of the stale
   * bound, whatever the progress). Every change names the status `running`: when another process
   * declared the job interrupted meanwhile, this one stops and removes its file.
   */
  private async runJob(data: TenantData, id: string): Promise<void> {
    const path = this.archivePath(data.tenantId, id);
    let writes = Promise.resolve();
    const progress = (changes: ExportJobChanges) => {
      writes = writes.then(async () => {
        if (!(await data.exportJobs.updateRunning(id, { ...changes, heartbeatAt: this.clock.now() }))) throw new JobTakenOver();
      });
      return writes;
    };
    const beat = setInterval(() => void progress({}).catch(() => undefined), Math.min((this.options.staleAfterSeconds * 1000) / 4, 30_000));
    beat.unref();
    try {
      await mkdir(join(this.exportDir, data.tenantId), { recursive: true, mode: 0o700 });
      const manifest = await writeExportArchive(
        data.tableRows,
        data.tenantId,
        this.clock.now(),
        createWriteStream(path, { mode: 0o600 }),
        (p) => void progress({ entitiesDone: p.entitiesDone, rowsWritten: p.rowsWritten }).catch(() => undefined),
      );
      clearInterval(beat);
      await writes;
      const finishedAt = this.clock.now();
      const completed = await data.exportJobs.updateRunning(id, {
        status: 'completed',
        finishedAt,
        entitiesDone: manifest.files.length,
        rowsWritten: manifest.files.reduce((n, f) => n + f.count, 0),
        bytes: (await stat(path)).size,
        manifestSha256: manifestChecksum(manifest),
        expiresAt: finishedAt + this.options.archiveLifetimeDays * DAY_MS,
      });
      if (!completed) throw new JobTakenOver();
    } catch (error) {
      clearInterval(beat);
      await rm(path, { force: true });
      if (error instanceof JobTakenOver) return;
      await data.exportJobs.updateRunning(id, {
        status: 'failed',
        finishedAt: this.clock.now(),
        errorCode: 'export-failed',
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** A job as it stands: a stale running job is declared interrupted and an archive past its lifetime expired first. */
  async get(actor: Actor, tenantId: string, id: string): Promise<ExportJobRecord> {
    authorize(actor, 'export.run', { tenantId });
    const data = await this.tenants.data(tenantId);
    const job = await data.exportJobs.get(id);
    if (!job) throw new DomainError('not-found', `No export has the id ${id}.`);
    const now = this.clock.now();
    const settled = (await this.settleStale(data, [job], now)) + (await this.expire(data, [job], now));
    return settled > 0 ? ((await data.exportJobs.get(id)) ?? job) : job;
  }

  /** The finished archive of an export job, as a stream. */
  async download(actor: Actor, tenantId: string, id: string): Promise<{ stream: Readable; bytes: number; job: ExportJobRecord }> {
    const job = await this.get(actor, tenantId, id);
    if (job.status === 'expired') {
      throw new DomainError(
        'export-expired',
        `The archive of export ${id} was deleted when its lifetime of ${this.options.archiveLifetimeDays} days ended; start a new export.`,
      );
    }
    if (job.status !== 'completed' || job.bytes === null) {
      throw new DomainError('export-not-ready', `Export ${id} is ${job.status}${job.error ? `: ${job.error}` : ''}.`);
    }
    return { stream: createReadStream(this.archivePath(tenantId, id)), bytes: job.bytes, job };
  }

  /** Ends the tenant's interrupted jobs and deletes its archives past their lifetime (the `export.maintain` job). */
  async sweep(tenantId: string, now = this.clock.now()): Promise<ExportSweep> {
    const data = await this.tenants.data(tenantId);
    const stale = await data.exportJobs.listStale(now - this.options.staleAfterSeconds * 1000);
    return {
      interrupted: await this.settleStale(data, stale, now),
      expired: await this.expire(data, await data.exportJobs.listExpired(now), now),
    };
  }

  /** Declares `jobs` that are running elsewhere without a recent heartbeat interrupted, and removes their partial files. */
  private async settleStale(data: TenantData, jobs: readonly ExportJobRecord[], now: number): Promise<number> {
    const bound = now - this.options.staleAfterSeconds * 1000;
    let settled = 0;
    for (const job of jobs) {
      const lastSign = job.heartbeatAt ?? job.createdAt;
      if (job.status !== 'running' || lastSign >= bound || this.local.has(`${data.tenantId}/${job.id}`)) continue;
      const ended = await data.transaction(async (trx) => {
        const changed = await trx.exportJobs.updateRunning(job.id, {
          status: 'failed',
          finishedAt: now,
          errorCode: 'interrupted',
          error: `The export was interrupted: the process writing it stopped (no sign of life since ${new Date(lastSign).toISOString()}). Start a new export.`,
        });
        if (changed) await this.auditKeeper(trx, 'Interrupt tenant export', job.id, 'running', 'failed');
        return changed;
      });
      if (!ended) continue;
      await rm(this.archivePath(data.tenantId, job.id), { force: true });
      settled++;
    }
    return settled;
  }

  /** Deletes the archives of completed `jobs` whose lifetime ended; the rows say `expired`. */
  private async expire(data: TenantData, jobs: readonly ExportJobRecord[], now: number): Promise<number> {
    let expired = 0;
    for (const job of jobs) {
      if (job.status !== 'completed' || job.expiresAt === null || job.expiresAt > now) continue;
      // The file goes first: after a crash in between, the row still says `completed` and the next sweep ends it.
      await rm(this.archivePath(data.tenantId, job.id), { force: true });
      const marked = await data.transaction(async (trx) => {
        const changed = await trx.exportJobs.markExpired(job.id);
        if (changed) await this.auditKeeper(trx, 'Delete expired export archive', job.id, 'completed', 'expired');
        return changed;
      });
      if (marked) expired++;
    }
    return expired;
  }

  private async auditKeeper(data: TenantData, activity: string, id: string, from: string, to: string): Promise<void> {
    await recordAudit(data, EXPORT_KEEPER, this.clock, {
      activity,
      category: 'Export',
      operation: 'delete',
      targets: [{ type: 'export', id, modifiedProperties: [{ name: 'status', oldValue: from, newValue: to }] }],
    });
  }

  /** Resolves when every background export of this process has finished. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /**
   * Imports an archive into `tenantId`, a tenant created for it (`custos tenant create`) that holds
   * nothing yet but its settings. The tenant's settings are replaced by the exported ones. The source
   * audit log cannot continue in the new tenant's chain (its hashes cover the source tenant id): it
   * is checked and kept as an imported, read-only chain (domain/audit/imported-audit.ts), and the new
   * tenant's chain records one `Import tenant data` event naming the source tenant, the manifest's
   * checksum and the extent of every imported chain. Archives of earlier format versions are read
   * too: the columns their rows hold that the schema no longer has are dropped (export-entities.ts).
   */
  async importFrom(actor: Actor, tenantId: string, input: Readable): Promise<ImportResult> {
    authorize(actor, 'tenant.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    for (const table of MUST_BE_EMPTY) {
      if ((await data.tableRows.count(table)) > 0) {
        throw new DomainError(
          'import-target-not-empty',
          `Tenant ${tenantId} already holds ${table.replace(/_/g, ' ')}; import into a new tenant.`,
        );
      }
    }
    const counts: Record<string, number> = {};
    return data.transaction(async (trx) => {
      let audit: ImportedAuditRows | undefined;
      let manifestVersion = MANIFEST_VERSION;
      const manifest = await readExportArchive(
        input,
        (m) => {
          audit = new ImportedAuditRows(m.tenantId);
          manifestVersion = m.version;
          return Promise.resolve();
        },
        async (entity, rows) => {
          counts[entity.file] = (counts[entity.file] ?? 0) + rows.length;
          if (entity.table === 'tenant_settings') {
            for (const row of rows) await trx.tableRows.replaceSettings(row);
            return;
          }
          // The source's audit chains become imported chains of this tenant (domain/audit/imported-audit.ts).
          if (entity.table === 'audit_events' && audit) {
            await trx.tableRows.insert('imported_audit_events', audit.own(entity.file, rows));
            return;
          }
          if (entity.table === 'imported_audit_events' && audit) rows = audit.carried(entity.file, rows);
          // Rows of an archive of an earlier version lose the columns this schema no longer has.
          await trx.tableRows.insert(
            entity.table,
            rows.map((row) => importableRow(entity, manifestVersion, row)),
          );
        },
      );
      const sourceManifestSha256 = manifestChecksum(manifest);
      await recordAudit(trx, actor, this.clock, {
        activity: IMPORT_ACTIVITY,
        category: 'Export',
        operation: 'create',
        targets: [
          {
            type: 'import',
            id: sourceManifestSha256,
            modifiedProperties: [
              { name: 'sourceTenantId', oldValue: null, newValue: manifest.tenantId },
              { name: 'sourceManifestSha256', oldValue: null, newValue: sourceManifestSha256 },
              // What `custos audit verify` checks the imported chains against.
              { name: IMPORTED_CHAINS_PROPERTY, oldValue: null, newValue: audit?.chains() ?? [] },
            ],
          },
        ],
      });
      return { tenantId, sourceTenantId: manifest.tenantId, sourceManifestSha256, counts };
    });
  }

  /** A signed-in user's own data: their user record, their devices and the audit events about or by them. */
  async personalExport(actor: Actor): Promise<PersonalExport> {
    if (actor.type !== 'user') throw new DomainError('forbidden', 'A personal export is for signed-in users.');
    const data = await this.tenants.data(actor.tenantId);
    const user = await data.users.get(actor.id);
    if (!user) throw new DomainError('not-found', 'Your user account no longer exists.');
    const record: Omit<UserRecord, 'passwordHash'> & { passwordHash?: string | null } = { ...user };
    delete record.passwordHash;
    const email = user.email ?? (/@/.test(user.userName) ? user.userName : null);
    const devices: DeviceRecord[] = [];
    for (const id of email ? await data.deviceReports.idsForUser(email) : []) {
      const device = await data.devices.get(id);
      if (device) devices.push(device);
    }
    const about = await data.audit.list({ targetId: user.id }, { limit: PERSONAL_AUDIT_LIMIT });
    const by = await data.audit.list({ actorId: user.id }, { limit: PERSONAL_AUDIT_LIMIT });
    const events = new Map([...about, ...by].map((e) => [e.sequence, e]));
    const auditEvents = [...events.values()].sort((a, b) => a.sequence - b.sequence);
    await recordAudit(data, actor, this.clock, {
      activity: 'Export personal data',
      category: 'Export',
      operation: 'export',
      targets: [{ type: 'user', id: user.id, name: user.userName }],
    });
    return { exportedAt: this.clock.now(), user: record, devices, auditEvents };
  }
}
