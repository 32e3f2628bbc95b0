/**
 * Every admin route declares the permission it needs, in its route options:
 * `config: { permission: 'devices.read' }`. The admin scope copies the declaration into the OpenAPI
 * document as `x-custos-permission`, where the authorization matrix test
 * (http/authorization-matrix.test.ts) reads it and checks, for every role, that the service behind
 * the route allows exactly the callers holding it. A route without a declaration fails that test.
 *
 * The declaration documents; the service's `authorize` call decides.
 */
import type { RouteOptions } from 'fastify';
import type { Permission } from '@custos/shared';

/**
 * - a permission: the caller needs it (somewhere in its tenant; scope tags narrow objects later);
 * - `authenticated`: any credential of the tenant (e.g. `GET /me/permissions`);
 * - `{ param, values }`: the permission depends on a path parameter (e.g. the device action);
 * - `self`: a signed-in user acting on their own objects (the Company Portal); every API token is refused.
 */
export type RoutePermission = Permission | 'authenticated' | 'self' | { param: string; values: Readonly<Record<string, Permission>> };

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: RoutePermission;
  }
}

export const PERMISSION_EXTENSION = 'x-custos-permission';

/** For the admin scope's `onRoute` hook: publishes the route's declared permission in OpenAPI. */
export function publishRoutePermission(route: RouteOptions): void {
  const permission = route.config?.permission;
  if (permission !== undefined) route.schema = withPermissionExtension(route.schema, permission);
}

/** The route schema with the OpenAPI extension added (FastifySchema has no index signature for `x-` keys). */
export function withPermissionExtension(schema: RouteOptions['schema'], permission: RoutePermission | 'operator'): RouteOptions['schema'] {
  return Object.assign({}, schema, { [PERMISSION_EXTENSION]: permission });
}
