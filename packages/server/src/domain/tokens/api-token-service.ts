import { randomUUID } from 'node:crypto';
import { BUILT_IN_ROLES, isBuiltInRole } from '@custos/shared';
import { authorize, type Actor } from '../access/authorize.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import { hashSecret, newSecret, tenantOfSecret } from '../secrets.js';
import { checkScopeTags } from '../devices/device-scope.js';
import { permissionsOfRoleRef } from '../identity/principals.js';
import { assertCanDelegate } from '../identity/role-service.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { ApiTokenRecord } from './api-token.js';

const DAY = 24 * 60 * 60 * 1000;
const LAST_USE_EVERY = 60_000;
export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 730;

export interface CreatedApiToken {
  token: string;
  record: ApiTokenRecord;
}

/** API tokens: bound to one tenant and one role, shown once, stored as a hash, expiring, revocable. */
export class ApiTokenService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  /**
   * Creates a token for a built-in role (by name) or a custom role (by id) over `scopeTags` (null or
   * absent: every object). The caller must hold every permission of the role over that scope itself.
   */
  async create(
    actor: Actor,
    tenantId: string,
    input: { role: string; name?: string; expiresInDays?: number; scopeTags?: readonly string[] | null },
  ): Promise<CreatedApiToken> {
    authorize(actor, 'tokens.write', { tenantId });
    const days = input.expiresInDays ?? DEFAULT_TOKEN_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) {
      throw new DomainError('validation-failed', `Token lifetime must be 1 to ${MAX_TOKEN_DAYS} days.`);
    }
    const scopeTags = input.scopeTags === undefined || input.scopeTags === null ? null : checkScopeTags(input.scopeTags);
    if (scopeTags !== null && scopeTags.length === 0)
      throw new DomainError('validation-failed', 'scopeTags is null (every object) or names at least one tag.');
    const data = await this.tenants.data(tenantId);
    const permissions = await permissionsOfRoleRef(data, input.role);
    if (!permissions) {
      throw new DomainError(
        'validation-failed',
        `Unknown role "${input.role}": name a built-in role (${Object.keys(BUILT_IN_ROLES).join(', ')}) or a custom role's id.`,
      );
    }
    assertCanDelegate(actor, tenantId, permissions, scopeTags);
    const roleName = isBuiltInRole(input.role) ? input.role : ((await data.roles.get(input.role))?.name ?? input.role);
    const now = this.clock.now();
    const { secret, hash } = newSecret('api', tenantId);
    const record: ApiTokenRecord = {
      id: randomUUID(),
      name: input.name ?? `${roleName} token`,
      role: input.role,
      secretHash: hash,
      createdAt: now,
      expiresAt: now + days * DAY,
      revokedAt: null,
      lastUsedAt: null,
      scopeTags,
      createdBy: actor.type === 'system' ? actor.id : `${actor.type}:${actor.id}`,
    };
    await data.transaction(async (trx) => {
      await trx.apiTokens.insert(record);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Create API token',
        category: 'RoleManagement',
        operation: 'create',
        targets: [
          {
            type: 'apiToken',
            id: record.id,
            name: record.name,
            modifiedProperties: changedProperties(undefined, {
              role: record.role,
              scopeTags: record.scopeTags,
              expiresAt: new Date(record.expiresAt).toISOString(),
            }),
          },
        ],
      });
    });
    return { token: secret, record };
  }

  async list(actor: Actor, tenantId: string): Promise<ApiTokenRecord[]> {
    authorize(actor, 'tokens.read', { tenantId });
    return (await this.tenants.data(tenantId)).apiTokens.list();
  }

  async revoke(actor: Actor, tenantId: string, id: string): Promise<void> {
    authorize(actor, 'tokens.write', { tenantId });
    await (
      await this.tenants.data(tenantId)
    ).transaction(async (trx) => {
      if (!(await trx.apiTokens.revoke(id, this.clock.now()))) throw new DomainError('not-found', `No active token has the id ${id}.`);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Revoke API token',
        category: 'RoleManagement',
        operation: 'update',
        targets: [{ type: 'apiToken', id, modifiedProperties: [{ name: 'revoked', oldValue: false, newValue: true }] }],
      });
    });
  }

  /**
   * Resolves a bearer secret to its actor. Every failure is the same `unauthenticated` answer, so a
   * caller learns nothing about which part was wrong.
   */
  async authenticate(secret: string): Promise<Actor> {
    const tenantId = tenantOfSecret('api', secret);
    if (!tenantId) throw new DomainError('unauthenticated', 'The bearer token is not valid.');
    let record: ApiTokenRecord | undefined;
    try {
      record = await (await this.tenants.data(tenantId)).apiTokens.findBySecretHash(hashSecret(secret));
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') record = undefined;
      else throw error;
    }
    const now = this.clock.now();
    if (!record || record.revokedAt !== null || record.expiresAt <= now)
      throw new DomainError('unauthenticated', 'The bearer token is not valid.');
    const data = await this.tenants.data(tenantId);
    // Last use, for the access review: written at most once a minute per token, not per request.
    if (record.lastUsedAt === null || now - record.lastUsedAt >= LAST_USE_EVERY) await data.apiTokens.touch(record.id, now);
    // A custom role is resolved now, so a change to it applies at once; a deleted one grants nothing.
    const permissions = (await permissionsOfRoleRef(data, record.role)) ?? new Set();
    return { type: 'apiToken', id: record.id, name: record.name, tenantId, grants: [{ permissions, scopeTags: record.scopeTags }] };
  }
}
