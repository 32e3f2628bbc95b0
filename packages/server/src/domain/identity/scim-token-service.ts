/**
 * The tenant's SCIM bearer token (RFC 7644 §2): `custos_scim_<tenant>_<256 random bits>`, shown once,
 * stored as its SHA-256. A tenant has at most one open token: creating one revokes the previous one
 * (rotation), so the IdP's "secret token" field is the only place it lives.
 */
import { randomUUID } from 'node:crypto';
import type { Permission } from '@custos/shared';
import { authorize, type Actor, type RequestContext } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import { hashSecret, newSecret, tenantOfSecret } from '../secrets.js';
import type { TenantService } from '../tenants/tenant-service.js';

/** What the IdP may do over SCIM: read and write users and groups, nothing else. */
const SCIM_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>(['users.read', 'users.write']);

export class ScimTokenService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  /** Creates the tenant's SCIM token, revoking any earlier one. */
  async create(actor: Actor, tenantId: string): Promise<{ token: string; createdAt: number }> {
    authorize(actor, 'tenant.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const now = this.clock.now();
    const { secret, hash } = newSecret('scim', tenantId);
    const id = randomUUID();
    await data.transaction(async (trx) => {
      const revoked = await trx.scimTokens.revokeAll(now);
      await trx.scimTokens.insert({
        id,
        secretHash: hash,
        createdBy: actor.type === 'system' ? actor.id : `${actor.type}:${actor.id}`,
        createdAt: now,
        revokedAt: null,
      });
      await recordAudit(trx, actor, this.clock, {
        activity: revoked > 0 ? 'Rotate SCIM token' : 'Create SCIM token',
        category: 'Federation',
        operation: 'create',
        targets: [{ type: 'scimToken', id, modifiedProperties: [{ name: 'revokedTokens', oldValue: null, newValue: revoked }] }],
      });
    });
    return { token: secret, createdAt: now };
  }

  async revoke(actor: Actor, tenantId: string): Promise<void> {
    authorize(actor, 'tenant.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      const revoked = await trx.scimTokens.revokeAll(this.clock.now());
      if (revoked === 0) throw new DomainError('not-found', 'This tenant has no open SCIM token.');
      await recordAudit(trx, actor, this.clock, {
        activity: 'Revoke SCIM token',
        category: 'Federation',
        operation: 'delete',
        targets: [{ type: 'scimToken', id: tenantId, modifiedProperties: [{ name: 'revokedTokens', oldValue: null, newValue: revoked }] }],
      });
    });
  }

  /** The SCIM actor of a bearer secret; every failure is the same `unauthenticated`. */
  async authenticate(secret: string, context: RequestContext): Promise<Extract<Actor, { type: 'scim' }>> {
    const tenantId = tenantOfSecret('scim', secret);
    const refused = new DomainError('unauthenticated', 'The SCIM bearer token is not valid.');
    if (!tenantId) throw refused;
    let record;
    try {
      record = await (await this.tenants.data(tenantId)).scimTokens.findBySecretHash(hashSecret(secret));
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') throw refused;
      throw error;
    }
    if (!record || record.revokedAt !== null) throw refused;
    return {
      type: 'scim',
      id: record.id,
      name: 'SCIM provisioning',
      tenantId,
      grants: [{ permissions: SCIM_PERMISSIONS, scopeTags: null }],
      context,
    };
  }
}
