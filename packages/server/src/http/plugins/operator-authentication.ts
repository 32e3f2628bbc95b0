/**
 * An operator inside a tenant (SPEC §5 lockbox): the operator session cookie plus
 * `X-Custos-Tenant: <tenant id>` on an admin API request. The operator becomes an `operator` actor
 * with the approved request's role only while an approved, unexpired lockbox request covers the
 * tenant; every such request is audited in the tenant's log (domain/operators/lockbox-service.ts).
 * Without both the cookie and the header this does nothing and the usual credentials apply.
 */
import type { FastifyRequest } from 'fastify';
import type { Actor, RequestContext } from '../../domain/access/authorize.js';
import type { LockboxService } from '../../domain/operators/lockbox-service.js';
import { OPERATOR_SESSION_COOKIE, type OperatorService } from '../../domain/operators/operator-service.js';

export const TENANT_HEADER = 'x-custos-tenant';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type OperatorTenantAuthentication = (request: FastifyRequest, context: RequestContext) => Promise<Actor | undefined>;

export function operatorTenantAuthentication(services: {
  operators: OperatorService;
  lockbox: LockboxService;
}): OperatorTenantAuthentication {
  return async (request, context) => {
    const cookie = request.cookies[OPERATOR_SESSION_COOKIE];
    const tenantId = request.headers[TENANT_HEADER];
    if (cookie === undefined || typeof tenantId !== 'string') return undefined;
    const { operator, session } = await services.operators.authenticate(cookie);
    if (!SAFE_METHODS.has(request.method)) {
      const csrf = request.headers['x-csrf-token'];
      services.operators.checkCsrf(session.id, typeof csrf === 'string' ? csrf : undefined);
    }
    const route = request.routeOptions.url ?? request.url.split('?')[0] ?? '';
    return services.lockbox.enterTenant(operator, tenantId, `${request.method} ${route}`, context);
  };
}
