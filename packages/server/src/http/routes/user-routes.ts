/**
 * Users and static groups of the caller's tenant (SPEC §3): the admin API over `UserService`.
 * A response never carries a password hash — only whether the user has a password.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  GroupCreateSchema,
  GroupListQuery,
  GroupListSchema,
  GroupSchema,
  GroupUpdateSchema,
  IdentityIdParams,
  ProblemSchema,
  UserCreateSchema,
  UserListQuery,
  UserListSchema,
  UserSchema,
  UserUpdateSchema,
  type UserDto,
} from '@custos/shared';
import type { GroupRecord, UserRecord } from '../../domain/identity/identity-stores.js';
import { actorTenant } from '../plugins/authenticate.js';
import type { AppServices } from '../services.js';

const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema };

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function toUserDto(u: UserRecord): UserDto {
  return {
    id: u.id,
    userName: u.userName,
    displayName: u.displayName,
    email: u.email,
    phone: u.phone,
    source: u.source,
    externalId: u.externalId,
    active: u.active,
    hasPassword: u.passwordHash !== null,
    passwordChangedAt: isoOrNull(u.passwordChangedAt),
    lastSignInAt: isoOrNull(u.lastSignInAt),
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.updatedAt),
  };
}

function toGroupDto(g: GroupRecord & { members?: string[] }) {
  return {
    id: g.id,
    displayName: g.displayName,
    description: g.description,
    source: g.source,
    externalId: g.externalId,
    ...(g.members ? { members: g.members } : {}),
    createdAt: iso(g.createdAt),
    updatedAt: iso(g.updatedAt),
  };
}

export const userRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/api/v1/users',
    {
      config: { permission: 'users.read' },
      schema: {
        tags: ['users'],
        summary: "The tenant's users by user name (exact `userName` filter, cursor paging)",
        querystring: UserListQuery,
        response: { 200: UserListSchema, ...errors },
      },
    },
    async (request) => {
      const page = await services.users.listUsers(request.actor, actorTenant(request), request.query);
      return { items: page.items.map(toUserDto), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/v1/users',
    {
      config: { permission: 'users.write' },
      schema: {
        tags: ['users'],
        summary: 'Create a cloud-only user (optionally with a password and built-in or custom roles over every object)',
        body: UserCreateSchema,
        response: { 201: UserSchema, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const user = await services.users.createUser(request.actor, actorTenant(request), {
        userName: b.userName,
        ...(b.displayName === undefined ? {} : { displayName: b.displayName }),
        ...(b.email === undefined ? {} : { email: b.email }),
        ...(b.phone === undefined ? {} : { phone: b.phone }),
        ...(b.password === undefined ? {} : { password: b.password }),
        ...(b.active === undefined ? {} : { active: b.active }),
        ...(b.roles === undefined ? {} : { roles: b.roles }),
      });
      return reply.code(201).send(toUserDto(user));
    },
  );

  app.get(
    '/api/v1/users/:id',
    {
      config: { permission: 'users.read' },
      schema: { tags: ['users'], summary: 'One user', params: IdentityIdParams, response: { 200: UserSchema, ...errors } },
    },
    async (request) => toUserDto(await services.users.getUser(request.actor, actorTenant(request), request.params.id)),
  );

  app.patch(
    '/api/v1/users/:id',
    {
      config: { permission: 'users.write' },
      schema: {
        tags: ['users'],
        summary: 'Change a user; `active: false` deactivates (sessions and API tokens stop at once)',
        params: IdentityIdParams,
        body: UserUpdateSchema,
        response: { 200: UserSchema, ...errors },
      },
    },
    async (request) => toUserDto(await services.users.updateUser(request.actor, actorTenant(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/users/:id',
    {
      config: { permission: 'users.write' },
      schema: {
        tags: ['users'],
        summary: 'Delete a user, their sessions, role assignments and API tokens',
        params: IdentityIdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.users.deleteUser(request.actor, actorTenant(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/groups',
    {
      config: { permission: 'users.read' },
      schema: {
        tags: ['users'],
        summary: "The tenant's static groups (exact `displayName` filter, cursor paging)",
        querystring: GroupListQuery,
        response: { 200: GroupListSchema, ...errors },
      },
    },
    async (request) => {
      const page = await services.users.listGroups(request.actor, actorTenant(request), request.query);
      return { items: page.items.map(toGroupDto), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/api/v1/groups',
    {
      config: { permission: 'users.write' },
      schema: { tags: ['users'], summary: 'Create a static group', body: GroupCreateSchema, response: { 201: GroupSchema, ...errors } },
    },
    async (request, reply) => {
      const tenantId = actorTenant(request);
      const b = request.body;
      const group = await services.users.createGroup(request.actor, tenantId, {
        displayName: b.displayName,
        ...(b.description === undefined ? {} : { description: b.description }),
        ...(b.members === undefined ? {} : { members: b.members }),
      });
      return reply.code(201).send(toGroupDto({ ...group, members: [...new Set(b.members ?? [])] }));
    },
  );

  app.get(
    '/api/v1/groups/:id',
    {
      config: { permission: 'users.read' },
      schema: {
        tags: ['users'],
        summary: 'One group with its members',
        params: IdentityIdParams,
        response: { 200: GroupSchema, ...errors },
      },
    },
    async (request) => toGroupDto(await services.users.getGroup(request.actor, actorTenant(request), request.params.id)),
  );

  app.patch(
    '/api/v1/groups/:id',
    {
      config: { permission: 'users.write' },
      schema: {
        tags: ['users'],
        summary: 'Rename a group or change its members (`members` replaces the list; `add` and `remove` edit it)',
        params: IdentityIdParams,
        body: GroupUpdateSchema,
        response: { 200: GroupSchema, ...errors },
      },
    },
    async (request) => toGroupDto(await services.users.updateGroup(request.actor, actorTenant(request), request.params.id, request.body)),
  );

  app.delete(
    '/api/v1/groups/:id',
    {
      config: { permission: 'users.write' },
      schema: {
        tags: ['users'],
        summary: 'Delete a group and the role assignments made to it',
        params: IdentityIdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await services.users.deleteGroup(request.actor, actorTenant(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
