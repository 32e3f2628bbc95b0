/**
 * The admin API's half of "retention is read-only" (SPEC §9): in the admin scope, a state-changing
 * request of a tenant in retention is refused with `tenant-read-only` before its handler runs. The
 * storage guard (storage/lifecycle-write-guard.ts) refuses every other write; this hook covers the
 * few tables that stay writable there for sign-in (users). Exports (routes declaring `export.run`)
 * work during retention; any other route that must declares `config: { allowedInRetention: true }`.
 */
import type { FastifyInstance } from 'fastify';
import { tenantOf } from '../../domain/access/authorize.js';
import { DomainError } from '../../domain/domain-error.js';
import type { TenantService } from '../../domain/tenants/tenant-service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This state-changing admin route works while the tenant is in retention (exports). */
    allowedInRetention?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function installLifecycleGuard(scope: FastifyInstance, tenants: TenantService): void {
  scope.addHook('preHandler', async (request) => {
    const config = request.routeOptions.config;
    // Exports (`export.run`) are what retention is for; other routes may opt in explicitly.
    if (SAFE_METHODS.has(request.method) || config.allowedInRetention === true || config.permission === 'export.run') return;
    const tenantId = tenantOf(request.actor);
    if (tenantId === null) return;
    const tenant = await tenants.get(tenantId);
    if (tenant.subscriptionState === 'retention') {
      throw new DomainError(
        'tenant-read-only',
        `Tenant ${tenantId} is in retention: its data can be read and exported but not changed until the subscription is renewed.`,
      );
    }
  });
}
