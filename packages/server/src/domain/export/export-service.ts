/**
 * Tenant export and import (SPEC §9 "Export"). An export is every entity of the tenant as JSON
 * lines in one tar archive with a manifest of counts and SHA-256 checksums (export-archive.ts),
 * written as a stream. `POST /api/v1/exports` runs one in the background, recording progress in an
 * export job row and the archive in a file under the export directory; `custos export` writes one
 * straight to a file. Every export is audited (operation `export`).
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
import { EXPORT_ENTITIES } from './export-entities.js';
import { manifestChecksum, readExportArchive, writeExportArchive, type ExportManifest } from './export-archive.js';
import type { ExportJobRecord } from './export-job-store.js';

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
] as const;
/** At most this many audit events about a user go into their personal export. */
const PERSONAL_AUDIT_LIMIT = 1000;

export class ExportService {
  /** Background exports of this process, awaited by `close` (and by tests). */
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
    /** Where background exports' archives are kept (`<exportDir>/<tenantId>/<exportId>.tar`). */
    private readonly exportDir: string,
  ) {}

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
    const job: ExportJobRecord = {
      id: randomUUID(),
      status: 'running',
      requestedBy: actor.id,
      createdAt: this.clock.now(),
      finishedAt: null,
      entitiesDone: 0,
      entitiesTotal: EXPORT_ENTITIES.length,
      rowsWritten: 0,
      bytes: null,
      manifestSha256: null,
      error: null,
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
    const run = this.runJob(data, job.id).finally(() => this.running.delete(run));
    this.running.add(run);
    return job;
  }

  private archivePath(tenantId: string, id: string): string {
    return join(this.exportDir, tenantId, `${id}.tar`);
  }

  private async runJob(data: TenantData, id: string): Promise<void> {
    const path = this.archivePath(data.tenantId, id);
    try {
      await mkdir(join(this.exportDir, data.tenantId), { recursive: true, mode: 0o700 });
      let lastWrite = Promise.resolve();
      const manifest = await writeExportArchive(
        data.tableRows,
        data.tenantId,
        this.clock.now(),
        createWriteStream(path, { mode: 0o600 }),
        (p) => {
          lastWrite = lastWrite.then(() => data.exportJobs.update(id, { entitiesDone: p.entitiesDone, rowsWritten: p.rowsWritten }));
        },
      );
      await lastWrite;
      await data.exportJobs.update(id, {
        status: 'completed',
        finishedAt: this.clock.now(),
        entitiesDone: manifest.files.length,
        rowsWritten: manifest.files.reduce((n, f) => n + f.count, 0),
        bytes: (await stat(path)).size,
        manifestSha256: manifestChecksum(manifest),
      });
    } catch (error) {
      await rm(path, { force: true });
      await data.exportJobs.update(id, {
        status: 'failed',
        finishedAt: this.clock.now(),
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  async get(actor: Actor, tenantId: string, id: string): Promise<ExportJobRecord> {
    authorize(actor, 'export.run', { tenantId });
    const job = await (await this.tenants.data(tenantId)).exportJobs.get(id);
    if (!job) throw new DomainError('not-found', `No export has the id ${id}.`);
    return job;
  }

  /** The finished archive of an export job, as a stream. */
  async download(actor: Actor, tenantId: string, id: string): Promise<{ stream: Readable; bytes: number; job: ExportJobRecord }> {
    const job = await this.get(actor, tenantId, id);
    if (job.status !== 'completed' || job.bytes === null) {
      throw new DomainError('export-not-ready', `Export ${id} is ${job.status}${job.error ? `: ${job.error}` : ''}.`);
    }
    return { stream: createReadStream(this.archivePath(tenantId, id)), bytes: job.bytes, job };
  }

  /** Resolves when every background export of this process has finished. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /**
   * Imports an archive into `tenantId`, a tenant created for it (`custos tenant create`) that holds
   * nothing yet but its settings. The tenant's settings are replaced by the exported ones; the
   * source audit log is not replayed (it stays verifiable in the archive): the new tenant's chain
   * records one `Import tenant data` event naming the source manifest's checksum.
   */
  async importFrom(actor: Actor, tenantId: string, input: Readable): Promise<ImportResult> {
    authorize(actor, 'tenant.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    for (const table of MUST_BE_EMPTY) {
      if ((await data.tableRows.count(table)) > 0) {
        throw new DomainError(
          'import-target-not-empty',
          `Tenant ${tenantId} already holds ${table.replace('_', ' ')}; import into a new tenant.`,
        );
      }
    }
    const counts: Record<string, number> = {};
    return data.transaction(async (trx) => {
      const manifest = await readExportArchive(
        input,
        () => Promise.resolve(),
        async (entity, rows) => {
          if (!entity.imported) return;
          counts[entity.file] = (counts[entity.file] ?? 0) + rows.length;
          if (entity.table === 'tenant_settings') {
            for (const row of rows) await trx.tableRows.replaceSettings(row);
            return;
          }
          await trx.tableRows.insert(entity.table, entity.fillOnImport ? rows.map(entity.fillOnImport) : rows);
        },
      );
      const sourceManifestSha256 = manifestChecksum(manifest);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Import tenant data',
        category: 'Export',
        operation: 'create',
        targets: [
          {
            type: 'import',
            id: sourceManifestSha256,
            modifiedProperties: [
              { name: 'sourceTenantId', oldValue: null, newValue: manifest.tenantId },
              { name: 'sourceManifestSha256', oldValue: null, newValue: sourceManifestSha256 },
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
