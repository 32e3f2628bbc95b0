/**
 * Bearer authentication for the admin API. Installed on the admin scope only: routes registered in
 * that scope see `request.actor`, and a request without a valid token never reaches them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/access/authorize.js';
import { DomainError } from '../../domain/domain-error.js';
import type { ApiTokenService } from '../../domain/tokens/api-token-service.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

/** The tenant the authenticated actor belongs to; the admin API always works inside it. */
export function actorTenant(request: FastifyRequest): string {
  if (request.actor.type !== 'apiToken') throw new DomainError('forbidden', 'This endpoint needs a tenant-bound credential.');
  return request.actor.tenantId;
}

export function installBearerAuthentication(scope: FastifyInstance, tokens: ApiTokenService): void {
  scope.decorateRequest('actor', null as unknown as { getter(): Actor });
  scope.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(header) : null;
    if (!match?.[1]) throw new DomainError('unauthenticated', 'Send an API token as "Authorization: Bearer <token>".');
    request.actor = await tokens.authenticate(match[1]);
  });
}
