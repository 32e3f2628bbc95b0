/**
 * The periodic access review (SPEC §5, SCENARIOS 8): every principal that can reach customer data,
 * across every tenant — deployment operators (with their active lockbox grants), tenant users
 * holding a role, and unrevoked, unexpired API tokens — each with when it was last used, so an
 * approver can confirm or revoke. Revoking disables an operator (and ends their lockbox grants),
 * revokes a token, or removes a role assignment, each audited in the tenant concerned. Recording a
 * review stores it in the directory and writes an event into every tenant's audit log.
 *
 * SCIM provisioning tokens are listed too: they read and write the tenant's users and groups. Their
 * last use is not recorded; revoking one ends the tenant's SCIM provisioning until a new token.
 */
import { randomUUID } from 'node:crypto';
import { isBuiltInRole } from '@custos/shared';
import type { Actor } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { RoleService } from '../identity/role-service.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { ApiTokenService } from '../tokens/api-token-service.js';
import type { LockboxService } from './lockbox-service.js';
import type { OperatorService } from './operator-service.js';
import type { AccessReviewRecord, OperatorStore } from './operator-store.js';

export interface ReviewGrant {
  /** What `--revoke` takes to remove this grant (a role assignment id), or null. */
  id: string | null;
  role: string;
  scopeTags: string[] | null;
  /** `direct`, `group:<name>`, or `lockbox` (until `expiresAt`). */
  via: string;
  expiresAt?: string;
}

export interface ReviewedPrincipal {
  kind: 'operator' | 'user' | 'apiToken' | 'scimToken';
  /** What `--revoke` takes for the whole principal (operator or token); users are revoked per grant. */
  id: string;
  name: string;
  tenantId: string | null;
  tenantName: string | null;
  grants: ReviewGrant[];
  lastUsedAt: string | null;
  /** Extra facts for the approver (who created a token, when it expires, whether an operator is disabled). */
  notes: string[];
}

export interface AccessReviewReport {
  generatedAt: string;
  principals: ReviewedPrincipal[];
}

export interface RevocationResult {
  id: string;
  kind: 'operator' | 'apiToken' | 'roleAssignment' | 'scimToken';
  tenantId: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class AccessReviewService {
  constructor(
    private readonly tenants: TenantService,
    private readonly operators: OperatorService,
    private readonly operatorStore: OperatorStore,
    private readonly lockbox: LockboxService,
    private readonly roles: RoleService,
    private readonly apiTokens: ApiTokenService,
    private readonly clock: Clock,
  ) {}

  async report(): Promise<AccessReviewReport> {
    const now = this.clock.now();
    const tenants = await this.tenants.list();
    const principals: ReviewedPrincipal[] = [];
    const operatorGrants = new Map<string, ReviewGrant[]>();
    for (const tenant of tenants) {
      const data = this.tenants.dataOf(tenant);
      await this.lockbox.recordExpiries(data);
      for (const request of await data.lockbox.list()) {
        if (request.status !== 'approved' || request.expiresAt === null || request.expiresAt <= now) continue;
        const grants = operatorGrants.get(request.operatorId) ?? [];
        grants.push({
          id: null,
          role: request.role,
          scopeTags: null,
          via: `lockbox:${tenant.id}`,
          expiresAt: new Date(request.expiresAt).toISOString(),
        });
        operatorGrants.set(request.operatorId, grants);
      }

      const customNames = new Map((await data.roles.list()).map((r) => [r.id, r.name]));
      const roleName = (role: string) => (isBuiltInRole(role) ? role : (customNames.get(role) ?? `deleted role ${role}`));
      const byUser = new Map<string, ReviewGrant[]>();
      for (const assignment of await data.roleAssignments.list()) {
        const grant = (via: string): ReviewGrant => ({
          id: assignment.id,
          role: roleName(assignment.role),
          scopeTags: assignment.scopeTags,
          via,
        });
        if (assignment.principalKind === 'user') {
          byUser.set(assignment.principalId, [...(byUser.get(assignment.principalId) ?? []), grant('direct')]);
        } else {
          const group = await data.groups.get(assignment.principalId);
          for (const member of await data.groups.members(assignment.principalId)) {
            byUser.set(member, [...(byUser.get(member) ?? []), grant(`group:${group?.displayName ?? assignment.principalId}`)]);
          }
        }
      }
      for (const [userId, grants] of byUser) {
        const user = await data.users.get(userId);
        if (!user || !user.active) continue;
        principals.push({
          kind: 'user',
          id: user.id,
          name: user.userName,
          tenantId: tenant.id,
          tenantName: tenant.name,
          grants,
          lastUsedAt: iso(user.lastSignInAt),
          notes: [`source ${user.source}`],
        });
      }

      for (const token of await data.apiTokens.list()) {
        if (token.revokedAt !== null || token.expiresAt <= now) continue;
        principals.push({
          kind: 'apiToken',
          id: token.id,
          name: token.name,
          tenantId: tenant.id,
          tenantName: tenant.name,
          grants: [
            { id: null, role: roleName(token.role), scopeTags: token.scopeTags === null ? null : [...token.scopeTags], via: 'token' },
          ],
          lastUsedAt: iso(token.lastUsedAt),
          notes: [`created by ${token.createdBy ?? 'unknown'}`, `expires ${new Date(token.expiresAt).toISOString()}`],
        });
      }
      for (const scim of await data.scimTokens.listOpen()) {
        principals.push({
          kind: 'scimToken',
          id: scim.id,
          name: 'SCIM provisioning token',
          tenantId: tenant.id,
          tenantName: tenant.name,
          grants: [{ id: null, role: 'SCIM provisioning (users and groups)', scopeTags: null, via: 'scim' }],
          lastUsedAt: null,
          notes: [`created by ${scim.createdBy ?? 'unknown'} ${new Date(scim.createdAt).toISOString()}`, 'last use not recorded'],
        });
      }
    }
    for (const operator of await this.operators.list()) {
      principals.unshift({
        kind: 'operator',
        id: operator.id,
        name: operator.email,
        tenantId: null,
        tenantName: null,
        grants: operatorGrants.get(operator.id) ?? [],
        lastUsedAt: iso(operator.lastSignInAt),
        notes: operator.disabledAt === null ? ['MFA: TOTP (always)'] : [`disabled ${new Date(operator.disabledAt).toISOString()}`],
      });
    }
    return { generatedAt: new Date(now).toISOString(), principals };
  }

  /** Revokes each id: an operator (disabled, grants ended), an API token, or a role assignment. */
  async revoke(actor: Actor, ids: readonly string[]): Promise<RevocationResult[]> {
    const results: RevocationResult[] = [];
    const tenants = await this.tenants.list();
    for (const id of ids) {
      if (await this.operators.get(id)) {
        await this.operators.disable(id);
        await this.lockbox.revokeAllOf(actor, id);
        results.push({ id, kind: 'operator', tenantId: null });
        continue;
      }
      let found: RevocationResult | undefined;
      for (const tenant of tenants) {
        const data = this.tenants.dataOf(tenant);
        const token = await data.apiTokens.get(id);
        if (token && token.revokedAt === null) {
          await this.apiTokens.revoke(actor, tenant.id, id);
          found = { id, kind: 'apiToken', tenantId: tenant.id };
          break;
        }
        if ((await data.scimTokens.listOpen()).some((t) => t.id === id)) {
          await data.transaction(async (trx) => {
            await trx.scimTokens.revokeAll(this.clock.now());
            await recordAudit(trx, actor, this.clock, {
              activity: 'Revoke SCIM token',
              category: 'AccessReview',
              operation: 'update',
              targets: [{ type: 'scimToken', id, modifiedProperties: [{ name: 'revoked', oldValue: false, newValue: true }] }],
            });
          });
          found = { id, kind: 'scimToken', tenantId: tenant.id };
          break;
        }
        if (await data.roleAssignments.get(id)) {
          await this.roles.deleteAssignment(actor, tenant.id, id);
          found = { id, kind: 'roleAssignment', tenantId: tenant.id };
          break;
        }
      }
      if (!found) throw new DomainError('not-found', `No operator, active API token, SCIM token or role assignment has the id ${id}.`);
      results.push(found);
    }
    return results;
  }

  /** Stores the review in the directory and writes it into every tenant's audit log. */
  async record(reviewer: string, report: AccessReviewReport, revoked: readonly RevocationResult[]): Promise<AccessReviewRecord> {
    const name = reviewer.trim();
    if (name.length === 0 || name.length > 256) throw new DomainError('validation-failed', 'Name the reviewer (1 to 256 characters).');
    const review: AccessReviewRecord = {
      id: randomUUID(),
      reviewer: name,
      recordedAt: this.clock.now(),
      principals: report.principals.length,
      revoked: revoked.map((r) => r.id),
      report,
    };
    await this.operatorStore.insertReview(review);
    const actor: Actor = { type: 'system', id: 'cli', name: `access review by ${name}` };
    for (const tenant of await this.tenants.list()) {
      const inTenant = report.principals.filter((p) => p.tenantId === tenant.id || p.grants.some((g) => g.via === `lockbox:${tenant.id}`));
      await recordAudit(this.tenants.dataOf(tenant), actor, this.clock, {
        activity: 'Access review',
        category: 'AccessReview',
        operation: 'read',
        targets: [
          {
            type: 'accessReview',
            id: review.id,
            name,
            modifiedProperties: [
              { name: 'principals', oldValue: null, newValue: inTenant.map((p) => `${p.kind}:${p.id}`) },
              {
                name: 'revoked',
                oldValue: null,
                newValue: revoked.filter((r) => r.tenantId === tenant.id || r.kind === 'operator').map((r) => r.id),
              },
            ],
          },
        ],
      });
    }
    return review;
  }

  listRecorded(): Promise<AccessReviewRecord[]> {
    return this.operatorStore.listReviews();
  }
}
