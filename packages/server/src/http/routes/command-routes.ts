/**
 * Device actions for admins (SPEC §6, §11): queue a command for one device or for every device a
 * filter matches, and read a device's command history.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ActionRequestSchema,
  BulkActionParams,
  BulkActionRequestSchema,
  BulkActionResultSchema,
  CommandListQuery,
  CommandListSchema,
  CommandSchema,
  DeviceActionParams,
  DeviceCommandParams,
  DeviceIdParams,
  ProblemSchema,
} from '@custos/shared';
import { ACTION_PERMISSIONS } from '../../domain/commands/command-service.js';
import { DomainError } from '../../domain/domain-error.js';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';
import { toCommandDto } from './command-dto.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

export const commandRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  // An action's body is optional: `Content-Type: application/json` with no body at all means "{}".
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    try {
      done(null, text === '' ? undefined : (JSON.parse(text) as unknown));
    } catch (error) {
      done(new DomainError('malformed-json', error instanceof Error ? error.message : 'The body is not JSON.'), undefined);
    }
  });

  app.post(
    '/api/v1/devices/actions/:action',
    {
      config: { permission: { param: 'action', values: ACTION_PERMISSIONS } },
      schema: {
        tags: ['device actions'],
        summary: 'Queue an action for every active device matching a filter (at most 10,000); wipe and retire need "confirm": true',
        params: BulkActionParams,
        body: BulkActionRequestSchema,
        response: { 202: BulkActionResultSchema, ...errors },
      },
    },
    async (request, reply) => {
      const tenantId = actorTenant(request);
      const commands = await services.commands.enqueueBulk(request.actor, tenantId, request.params.action, request.body);
      return reply.code(202).send({ queued: commands.length, commands: commands.map((c) => c.id) });
    },
  );

  app.post(
    '/api/v1/devices/:id/actions/:action',
    {
      config: { permission: { param: 'action', values: ACTION_PERMISSIONS } },
      schema: {
        tags: ['device actions'],
        summary: 'Queue an action for the device; it is delivered at its next check-in, at once when it is online',
        params: DeviceActionParams,
        body: Type.Optional(ActionRequestSchema),
        response: { 202: CommandSchema, ...errors },
      },
      // No body at all means no options; the schema then checks `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const tenantId = actorTenant(request);
      const command = await services.commands.enqueue(request.actor, tenantId, request.params.id, request.params.action, request.body);
      return reply.code(202).send(toCommandDto(command));
    },
  );

  app.get(
    '/api/v1/devices/:id/commands',
    {
      config: { permission: 'devices.read' },
      schema: {
        tags: ['device actions'],
        summary: "The device's commands, newest first",
        params: DeviceIdParams,
        querystring: CommandListQuery,
        response: { 200: CommandListSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      const items = await services.commands.list(request.actor, tenantId, request.params.id, request.query.limit);
      return { items: items.map(toCommandDto) };
    },
  );

  app.get(
    '/api/v1/devices/:id/commands/:commandId',
    {
      config: { permission: 'devices.read' },
      schema: {
        tags: ['device actions'],
        summary: 'One command of the device',
        params: DeviceCommandParams,
        response: { 200: CommandSchema, ...errors },
      },
    },
    async (request) => {
      const tenantId = actorTenant(request);
      return toCommandDto(await services.commands.get(request.actor, tenantId, request.params.id, request.params.commandId));
    },
  );
};
