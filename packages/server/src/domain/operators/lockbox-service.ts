/**
 * Lockbox (SPEC §5): an operator sees no tenant data unless a tenant admin approved a time-boxed
 * request. The request, the decision, every access under it and its expiry are written to the
 * TENANT's audit log, so the customer sees exactly when the people running the service looked.
 *
 * Access is recorded per request: every admin API call an operator makes inside a tenant appends
 * one `Lockbox access` event naming the method and route (and bumps the request's last access). An
 * attempt without an approved, unexpired request is refused and recorded as a failed access.
 *
 * The expiry is recorded once, by whichever comes first after it: the operator's next attempt, an
 * admin listing the requests, the access review, or the periodic `lockbox-expiry` job.
 */
import { randomUUID } from 'node:crypto';
import { BUILT_IN_ROLES, isBuiltInRole, type BuiltInRole } from '@custos/shared';
import { authorize, type Actor, type RequestContext } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { Job, JobContext, JobSummary } from '../jobs/job.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { LockboxRequestRecord, OperatorRecord } from './operator-store.js';

export const MAX_LOCKBOX_MINUTES = 480;
export const DEFAULT_LOCKBOX_ROLE: BuiltInRole = 'Read Only Operator';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type OperatorActor = Extract<Actor, { type: 'operator' }>;

/** The operator as the tenant's audit log names them; grants only while a request is approved. */
function operatorActor(
  tenantId: string,
  operator: Pick<OperatorRecord, 'id' | 'email'>,
  lockboxRequestId: string,
  grants: OperatorActor['grants'],
  context?: RequestContext,
): OperatorActor {
  return {
    type: 'operator',
    id: operator.id,
    name: `operator ${operator.email}`,
    tenantId,
    lockboxRequestId,
    grants,
    ...(context ? { context } : {}),
  };
}

export class LockboxService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  /** An operator asks for access to a tenant; audited in that tenant's log. */
  async request(
    operator: OperatorRecord,
    input: { tenantId: string; reason: string; durationMinutes: number; role?: string },
    context: RequestContext,
  ): Promise<LockboxRequestRecord> {
    const role = input.role ?? DEFAULT_LOCKBOX_ROLE;
    if (!isBuiltInRole(role)) throw new DomainError('validation-failed', `Unknown role "${role}"; name a built-in role.`);
    if (!Number.isInteger(input.durationMinutes) || input.durationMinutes < 1 || input.durationMinutes > MAX_LOCKBOX_MINUTES) {
      throw new DomainError('validation-failed', `The duration is 1 to ${MAX_LOCKBOX_MINUTES} minutes.`);
    }
    const reason = input.reason.trim();
    if (reason.length < 10)
      throw new DomainError('validation-failed', 'Give a reason of at least 10 characters; the tenant admin decides on it.');
    const data = await this.tenants.data(input.tenantId);
    const record: LockboxRequestRecord = {
      id: randomUUID(),
      operatorId: operator.id,
      operatorEmail: operator.email,
      reason,
      role,
      durationMinutes: input.durationMinutes,
      status: 'pending',
      requestedAt: this.clock.now(),
      decidedAt: null,
      decidedBy: null,
      expiresAt: null,
      expiryRecordedAt: null,
      lastAccessAt: null,
    };
    await data.transaction(async (trx) => {
      await trx.lockbox.insert(record);
      await recordAudit(trx, operatorActor(input.tenantId, operator, record.id, [], context), this.clock, {
        activity: 'Request lockbox access',
        category: 'Lockbox',
        operation: 'create',
        targets: [{ type: 'lockboxRequest', id: record.id, name: operator.email, modifiedProperties: lockboxProperties(record) }],
      });
    });
    return record;
  }

  /** The tenant's requests, newest first (expiries are recorded first, so the list is current). */
  async list(actor: Actor, tenantId: string): Promise<LockboxRequestRecord[]> {
    authorize(actor, 'lockbox.approve', { tenantId });
    const data = await this.tenants.data(tenantId);
    await this.recordExpiries(data);
    return data.lockbox.list();
  }

  /** An operator's own requests in one tenant (for the operator API). */
  async listOwn(operator: OperatorRecord, tenantId: string): Promise<LockboxRequestRecord[]> {
    const data = await this.tenants.data(tenantId);
    await this.recordExpiries(data);
    return (await data.lockbox.list()).filter((r) => r.operatorId === operator.id);
  }

  /** The request's state as the tenant sees it: an approval that ended (or was revoked) is `expired`. */
  statusOf(request: LockboxRequestRecord): 'pending' | 'approved' | 'denied' | 'expired' {
    if (request.status === 'pending' || request.status === 'denied') return request.status;
    const ended = request.status === 'revoked' || request.expiryRecordedAt !== null || (request.expiresAt ?? 0) <= this.clock.now();
    return ended ? 'expired' : 'approved';
  }

  approve(actor: Actor, tenantId: string, id: string): Promise<LockboxRequestRecord> {
    return this.decide(actor, tenantId, id, 'approved');
  }

  deny(actor: Actor, tenantId: string, id: string): Promise<LockboxRequestRecord> {
    return this.decide(actor, tenantId, id, 'denied');
  }

  /**
   * The actor for an operator's admin API call into `tenantId`: the approved request's role over
   * every object, until it expires. Each call is audited in the tenant's log; without an approved,
   * unexpired request the call is refused (and that is audited too).
   */
  async enterTenant(operator: OperatorRecord, tenantId: string, requestLine: string, context: RequestContext): Promise<OperatorActor> {
    const refused = new DomainError('forbidden', 'No approved, unexpired access request of yours covers this tenant (lockbox).');
    if (!UUID.test(tenantId)) throw refused;
    let data: TenantData;
    try {
      data = await this.tenants.data(tenantId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') throw refused;
      throw error;
    }
    await this.recordExpiries(data);
    const now = this.clock.now();
    const active = (await data.lockbox.activeFor(operator.id, now))[0];
    if (!active) {
      await recordAudit(data, operatorActor(tenantId, operator, 'none', [], context), this.clock, {
        activity: 'Lockbox access refused',
        category: 'Lockbox',
        operation: 'read',
        result: 'failure',
        targets: [{ type: 'request', id: context.correlationId ?? 'unknown', name: requestLine }],
      });
      throw refused;
    }
    const grants = isBuiltInRole(active.role) ? [{ permissions: new Set(BUILT_IN_ROLES[active.role]), scopeTags: null }] : [];
    const actor = operatorActor(tenantId, operator, active.id, grants, context);
    await data.transaction(async (trx) => {
      await trx.lockbox.update({ ...active, lastAccessAt: now });
      await recordAudit(trx, actor, this.clock, {
        activity: 'Lockbox access',
        category: 'Lockbox',
        operation: 'read',
        targets: [
          { type: 'lockboxRequest', id: active.id, name: operator.email },
          { type: 'request', id: context.correlationId ?? 'unknown', name: requestLine },
        ],
      });
    });
    return actor;
  }

  /**
   * Ends every approved, unexpired request of the operator in every tenant (an access review
   * revoked the operator); each end is audited in its tenant's log. Returns how many.
   */
  async revokeAllOf(actor: Actor, operatorId: string): Promise<number> {
    let revoked = 0;
    const now = this.clock.now();
    for (const tenant of await this.tenants.list()) {
      const data = this.tenants.dataOf(tenant);
      for (const request of await data.lockbox.activeFor(operatorId, now)) {
        await data.transaction(async (trx) => {
          await trx.lockbox.update({ ...request, status: 'revoked', expiresAt: now, expiryRecordedAt: now });
          await recordAudit(trx, actor, this.clock, {
            activity: 'Revoke lockbox access',
            category: 'Lockbox',
            operation: 'update',
            targets: [
              {
                type: 'lockboxRequest',
                id: request.id,
                name: request.operatorEmail,
                modifiedProperties: [{ name: 'status', oldValue: 'approved', newValue: 'revoked' }],
              },
            ],
          });
        });
        revoked++;
      }
    }
    return revoked;
  }

  /** Writes each expiry not yet in the tenant's log; returns how many. */
  async recordExpiries(data: TenantData): Promise<number> {
    const now = this.clock.now();
    const expired = await data.lockbox.expiredUnrecorded(now);
    for (const request of expired) {
      await data.transaction(async (trx) => {
        await trx.lockbox.update({ ...request, expiryRecordedAt: now });
        await recordAudit(trx, { type: 'system', id: 'scheduler', name: 'lockbox expiry' }, this.clock, {
          activity: 'Lockbox access expired',
          category: 'Lockbox',
          operation: 'update',
          targets: [
            {
              type: 'lockboxRequest',
              id: request.id,
              name: request.operatorEmail,
              modifiedProperties: [{ name: 'expiresAt', oldValue: null, newValue: new Date(request.expiresAt ?? now).toISOString() }],
            },
          ],
        });
      });
    }
    return expired.length;
  }

  private async decide(actor: Actor, tenantId: string, id: string, status: 'approved' | 'denied'): Promise<LockboxRequestRecord> {
    authorize(actor, 'lockbox.approve', { tenantId });
    // An operator inside the tenant under lockbox never decides lockbox requests, its own or others'.
    if (actor.type === 'operator') throw new DomainError('forbidden', 'An operator cannot decide lockbox requests.');
    const data = await this.tenants.data(tenantId);
    return data.transaction(async (trx) => {
      const before = await trx.lockbox.get(id);
      if (!before) throw new DomainError('not-found', `No access request has the id ${id}.`);
      if (before.status !== 'pending')
        throw new DomainError('conflict', `The access request is already ${before.status}.`, { requestStatus: before.status });
      const now = this.clock.now();
      const after: LockboxRequestRecord = {
        ...before,
        status,
        decidedAt: now,
        decidedBy: actor.type === 'system' ? actor.id : `${actor.type}:${actor.id}`,
        expiresAt: status === 'approved' ? now + before.durationMinutes * 60_000 : null,
      };
      await trx.lockbox.update(after);
      await recordAudit(trx, actor, this.clock, {
        activity: status === 'approved' ? 'Approve lockbox access' : 'Deny lockbox access',
        category: 'Lockbox',
        operation: 'update',
        targets: [
          {
            type: 'lockboxRequest',
            id,
            name: before.operatorEmail,
            modifiedProperties: [
              { name: 'status', oldValue: before.status, newValue: status },
              ...(after.expiresAt === null
                ? []
                : [{ name: 'expiresAt', oldValue: null, newValue: new Date(after.expiresAt).toISOString() }]),
            ],
          },
        ],
      });
      return after;
    });
  }
}

function lockboxProperties(r: LockboxRequestRecord) {
  return [
    { name: 'reason', oldValue: null, newValue: r.reason },
    { name: 'role', oldValue: null, newValue: r.role },
    { name: 'durationMinutes', oldValue: null, newValue: r.durationMinutes },
  ];
}

/** Records lockbox expiries in every tenant's audit log, so an expiry is logged even when nobody looks. */
export class LockboxExpiryJob implements Job {
  readonly name = 'lockbox-expiry';

  constructor(
    private readonly tenants: TenantService,
    private readonly lockbox: LockboxService,
  ) {}

  async run(_context: JobContext): Promise<JobSummary> {
    let expired = 0;
    const tenants = await this.tenants.list();
    for (const tenant of tenants) expired += await this.lockbox.recordExpiries(this.tenants.dataOf(tenant));
    return { tenants: tenants.length, expired };
  }
}
