import { randomUUID } from 'node:crypto';
import { BUILT_IN_ROLES, isBuiltInRole } from '@custos/shared';
import { authorize, permissionsOfRole, type Actor } from '../access/authorize.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import { hashSecret, newSecret, tenantOfSecret } from '../secrets.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { ApiTokenRecord } from './api-token.js';

const DAY = 24 * 60 * 60 * 1000;
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

  async create(actor: Actor, tenantId: string, input: { role: string; name?: string; expiresInDays?: number }): Promise<CreatedApiToken> {
    authorize(actor, 'tokens.write', { tenantId });
    if (!isBuiltInRole(input.role)) {
      throw new DomainError(
        'validation-failed',
        `Unknown role "${input.role}". Built-in roles: ${Object.keys(BUILT_IN_ROLES).join(', ')}.`,
      );
    }
    const days = input.expiresInDays ?? DEFAULT_TOKEN_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) {
      throw new DomainError('validation-failed', `Token lifetime must be 1 to ${MAX_TOKEN_DAYS} days.`);
    }
    const data = await this.tenants.data(tenantId);
    const now = this.clock.now();
    const { secret, hash } = newSecret('api', tenantId);
    const record: ApiTokenRecord = {
      id: randomUUID(),
      name: input.name ?? `${input.role} token`,
      role: input.role,
      secretHash: hash,
      createdAt: now,
      expiresAt: now + days * DAY,
      revokedAt: null,
      lastUsedAt: null,
    };
    await data.apiTokens.insert(record);
    return { token: secret, record };
  }

  async list(actor: Actor, tenantId: string): Promise<ApiTokenRecord[]> {
    authorize(actor, 'tokens.read', { tenantId });
    return (await this.tenants.data(tenantId)).apiTokens.list();
  }

  async revoke(actor: Actor, tenantId: string, id: string): Promise<void> {
    authorize(actor, 'tokens.write', { tenantId });
    if (!(await (await this.tenants.data(tenantId)).apiTokens.revoke(id, this.clock.now()))) {
      throw new DomainError('not-found', `No active token has the id ${id}.`);
    }
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
    return { type: 'apiToken', id: record.id, name: record.name, tenantId, role: record.role, permissions: permissionsOfRole(record.role) };
  }
}
