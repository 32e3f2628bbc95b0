/**
 * Export endpoints (SPEC §9): a tenant export as a background job with progress and a download, the
 * signed-in user's own data, and CSV reports streamed from keyset pages.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DeviceFilterSchema, ExportIdParams, ExportJobSchema, ProblemSchema } from '@custos/shared';
import type { ExportJobRecord } from '../../domain/export/export-job-store.js';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';
import { toDeviceDto } from './device-dto.js';
import { toAuditEventDto } from './audit-routes.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };

function iso(at: number | null): string | null {
  return at === null ? null : new Date(at).toISOString();
}

function toExportJobDto(job: ExportJobRecord) {
  return {
    id: job.id,
    status: job.status,
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: iso(job.finishedAt),
    progress: { entitiesDone: job.entitiesDone, entitiesTotal: job.entitiesTotal, rowsWritten: job.rowsWritten },
    bytes: job.bytes,
    manifestSha256: job.manifestSha256,
    error: job.error,
    errorCode: job.errorCode,
    expiresAt: iso(job.expiresAt),
    downloadUrl: job.status === 'completed' ? `/api/v1/exports/${job.id}/download` : null,
  };
}

export const exportRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.post(
    '/api/v1/exports',
    {
      config: { permission: 'export.run' },
      schema: {
        tags: ['export'],
        summary: 'Start an export of all tenant data (JSON lines per entity in a tar archive, with a manifest); poll it, then download',
        response: { 202: ExportJobSchema, ...errors },
      },
    },
    async (request, reply) => {
      const job = await services.exports.start(request.actor, actorTenant(request));
      return reply.code(202).header('location', `/api/v1/exports/${job.id}`).send(toExportJobDto(job));
    },
  );

  app.get(
    '/api/v1/exports/:id',
    {
      config: { permission: 'export.run' },
      schema: {
        tags: ['export'],
        summary: "An export's status and progress (an export whose process stopped shows failed, errorCode interrupted)",
        params: ExportIdParams,
        response: { 200: ExportJobSchema, ...errors },
      },
    },
    async (request) => toExportJobDto(await services.exports.get(request.actor, actorTenant(request), request.params.id)),
  );

  app.get(
    '/api/v1/exports/:id/download',
    {
      config: { permission: 'export.run' },
      schema: {
        tags: ['export'],
        summary: 'The archive of a completed export (application/x-tar); 410 once its lifetime ended',
        params: ExportIdParams,
        response: { 200: Type.Any({ description: 'The tar archive' }), 409: ProblemSchema, 410: ProblemSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { stream, bytes, job } = await services.exports.download(request.actor, actorTenant(request), request.params.id);
      return reply
        .type('application/x-tar')
        .header('content-length', bytes)
        .header('content-disposition', `attachment; filename="custos-export-${job.id}.tar"`)
        .send(stream);
    },
  );

  app.get(
    '/api/v1/me/export',
    {
      config: { permission: 'self' },
      schema: {
        tags: ['portal'],
        summary: "Company Portal: the signed-in user's own data — their user record, their devices and the audit events about them",
        response: {
          200: Type.Object({
            exportedAt: Type.String({ format: 'date-time' }),
            user: Type.Record(Type.String(), Type.Unknown()),
            devices: Type.Array(Type.Record(Type.String(), Type.Unknown())),
            auditEvents: Type.Array(Type.Record(Type.String(), Type.Unknown())),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      const data = await services.exports.personalExport(request.actor);
      const { user } = data;
      return {
        exportedAt: new Date(data.exportedAt).toISOString(),
        user: {
          ...user,
          passwordChangedAt: iso(user.passwordChangedAt),
          lastSignInAt: iso(user.lastSignInAt),
          createdAt: iso(user.createdAt),
          updatedAt: iso(user.updatedAt),
        },
        devices: data.devices.map((d) => toDeviceDto(tenantId, d) as unknown as Record<string, unknown>),
        auditEvents: data.auditEvents.map((e) => toAuditEventDto(e) as unknown as Record<string, unknown>),
      };
    },
  );

  app.get(
    '/api/v1/reports/devices.csv',
    {
      config: { permission: 'devices.read' },
      schema: {
        tags: ['reports'],
        summary: 'The device report as CSV (text/csv), with the device list filters; streamed',
        querystring: DeviceFilterSchema,
        response: { 200: Type.Any({ description: 'CSV, one header line then one line per row' }), ...errors },
      },
    },
    async (request, reply) => {
      const lines = services.reports.devices(request.actor, actorTenant(request), request.query);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="devices.csv"')
        .send(Readable.from(lines));
    },
  );

  app.get(
    '/api/v1/reports/compliance.csv',
    {
      config: { permission: 'policies.read' },
      schema: {
        tags: ['reports'],
        summary: 'The compliance report as CSV: each device against each policy that applies to it, with the device list filters; streamed',
        querystring: DeviceFilterSchema,
        response: { 200: Type.Any({ description: 'CSV, one header line then one line per row' }), ...errors },
      },
    },
    async (request, reply) => {
      const lines = services.reports.compliance(request.actor, actorTenant(request), request.query);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="compliance.csv"')
        .send(Readable.from(lines));
    },
  );
};
