/**
 * Roles, permissions and role assignments (SPEC §3), and the caller's own permissions. Creating or
 * assigning a role needs `roles.write` and every permission of that role over the scope it grants
 * (domain/identity/role-service.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  IdentityIdParams,
  MePermissionsSchema,
  PermissionListSchema,
  ProblemSchema,
  RoleAssignmentCreateSchema,
  RoleAssignmentListSchema,
  RoleAssignmentSchema,
  RoleCreateSchema,
  RoleListSchema,
  RoleSchema,
  RoleUpdateSchema,
} from '@custos/shared';
import type { AssignmentView } from '../../domain/identity/role-service.js';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

function toAssignmentDto(a: AssignmentView) {
  return {
    id: a.id,
    role: a.role,
    roleName: a.roleName,
    principalKind: a.principalKind,
    principalId: a.principalId,
    scopeTags: a.scopeTags,
    createdAt: new Date(a.createdAt).toISOString(),
  };
}

export const roleRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/me/permissions',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['roles'],
        summary: 'What the caller may do in its tenant: every permission, and each grant with its scope tags',
        response: { 200: MePermissionsSchema, ...errors },
      },
    },
    (request) => services.roles.myPermissions(request.actor, actorTenant(request)),
  );

  app.get(
    '/api/v1/permissions',
    {
      config: { permission: 'roles.read' },
      schema: { tags: ['roles'], summary: 'Every permission a role can be built from', response: { 200: PermissionListSchema, ...errors } },
    },
    (request) => ({ items: services.roles.listPermissions(request.actor, actorTenant(request)) }),
  );

  app.get(
    '/api/v1/roles',
    {
      config: { permission: 'roles.read' },
      schema: {
        tags: ['roles'],
        summary: "The built-in roles (with their permissions and purpose) and the tenant's custom roles",
        response: { 200: RoleListSchema, ...errors },
      },
    },
    async (request) => ({ items: await services.roles.listRoles(request.actor, actorTenant(request)) }),
  );

  app.post(
    '/api/v1/roles',
    {
      config: { permission: 'roles.write' },
      schema: {
        tags: ['roles'],
        summary: 'Create a custom role from permissions the caller holds itself',
        body: RoleCreateSchema,
        response: { 201: RoleSchema, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(await services.roles.createRole(request.actor, actorTenant(request), request.body)),
  );

  app.get(
    '/api/v1/roles/:id',
    {
      config: { permission: 'roles.read' },
      schema: { tags: ['roles'], summary: 'One custom role', params: IdentityIdParams, response: { 200: RoleSchema, ...errors } },
    },
    (request) => services.roles.getRole(request.actor, actorTenant(request), request.params.id),
  );

  app.patch(
    '/api/v1/roles/:id',
    {
      config: { permission: 'roles.write' },
      schema: {
        tags: ['roles'],
        summary: 'Change a custom role (its holders gain or lose the permissions at once)',
        params: IdentityIdParams,
        body: RoleUpdateSchema,
        response: { 200: RoleSchema, ...errors },
      },
    },
    (request) => services.roles.updateRole(request.actor, actorTenant(request), request.params.id, request.body),
  );

  app.delete(
    '/api/v1/roles/:id',
    {
      config: { permission: 'roles.write' },
      schema: {
        tags: ['roles'],
        summary: 'Delete a custom role and every assignment of it',
        params: IdentityIdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.roles.deleteRole(request.actor, actorTenant(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/role-assignments',
    {
      config: { permission: 'roles.read' },
      schema: { tags: ['roles'], summary: 'Every role assignment of the tenant', response: { 200: RoleAssignmentListSchema, ...errors } },
    },
    async (request) => ({ items: (await services.roles.listAssignments(request.actor, actorTenant(request))).map(toAssignmentDto) }),
  );

  app.post(
    '/api/v1/role-assignments',
    {
      config: { permission: 'roles.write' },
      schema: {
        tags: ['roles'],
        summary:
          'Assign a built-in role (by name) or custom role (by id) to a user or group of the tenant, over every object or scope tags',
        body: RoleAssignmentCreateSchema,
        response: { 201: RoleAssignmentSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(toAssignmentDto(await services.roles.createAssignment(request.actor, actorTenant(request), request.body))),
  );

  app.delete(
    '/api/v1/role-assignments/:id',
    {
      config: { permission: 'roles.write' },
      schema: {
        tags: ['roles'],
        summary: 'Remove a role assignment',
        params: IdentityIdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.roles.deleteAssignment(request.actor, actorTenant(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
