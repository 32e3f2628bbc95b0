/**
 * "Every admin write leaves an audit event", checked on every request: each state-changing route's
 * handler runs with an audit counter (domain/audit/audit-scope.ts), and a successful response whose
 * handler appended no event is reported to `onUnaudited`. The server logs it as an error; the test
 * harness fails the suite, so a new route that forgets its audit event fails the tests that call it.
 *
 * Routes that legitimately change nothing a tenant must account for declare it, with the reason, in
 * their options: `config: { auditExempt: 'why' }`. Device-side routes (the agent's check-ins, device
 * enrollment's own event aside) are not admin writes and are not guarded.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { countingAudit, type AuditCounter } from '../../domain/audit/audit-scope.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Why this state-changing route records no audit event (see http/plugins/audit-guard.ts). */
    auditExempt?: string;
  }
  interface FastifyRequest {
    auditCounter?: AuditCounter;
  }
}

export interface UnauditedWrite {
  method: string;
  route: string;
  statusCode: number;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Device-side endpoints: devices authenticate with their key; their writes are not admin writes. */
const DEVICE_PREFIXES = ['/api/v1/agent/', '/api/v1/enroll', '/mdm/'];

export function installAuditGuard(app: FastifyInstance, onUnaudited: (write: UnauditedWrite) => void): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => UNSAFE.has(m))) return;
    if (DEVICE_PREFIXES.some((p) => route.url.startsWith(p))) return;
    if (route.config?.auditExempt !== undefined) return;
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const counter: AuditCounter = { appended: 0 };
      request.auditCounter = counter;
      return countingAudit(counter, () => handler.call(this, request, reply));
    };
  });
  app.addHook('onResponse', async (request, reply) => {
    const counter = request.auditCounter;
    if (!counter || counter.appended > 0 || reply.statusCode >= 300) return;
    onUnaudited({ method: request.method, route: request.routeOptions.url ?? request.url, statusCode: reply.statusCode });
  });
}
