/**
 * A tenant's OpenID Connect identity provider (SPEC §5): issuer, client, claim mappings and the
 * "remember me" rule. The client secret is write-only — sealed with AES-256-GCM before it is stored,
 * never returned, never in the audit log. A configuration is stored only after the issuer's
 * discovery document was read and names that issuer.
 */
import { MAX_REMEMBER_ME_HOURS, type IdentityProviderInput } from '@custos/shared';
import { authorize, type Actor } from '../access/authorize.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { OidcProviders } from './oidc-client.js';
import type { OidcSecretBox } from './oidc-secret-box.js';
import type { IdentityProviderOptions, IdentityProviderRecord } from './oidc-stores.js';
import { permissionsOfRoleRef } from './principals.js';

export const DEFAULT_SCOPES = ['openid', 'profile', 'email'];
export const DEFAULT_GROUPS_CLAIM = 'groups';

function auditView(record: IdentityProviderRecord | undefined): Record<string, unknown> | undefined {
  if (!record) return undefined;
  return { issuer: record.issuer, clientId: record.clientId, clientSecret: record.clientSecretEncrypted, ...record.options };
}

export class IdentityProviderService {
  constructor(
    private readonly tenants: TenantService,
    private readonly providers: OidcProviders,
    private readonly secrets: OidcSecretBox,
    private readonly clock: Clock,
  ) {}

  /**
   * What the sign-in page may offer, asked before anyone is signed in. An unknown tenant gets the same
   * answer as one without SSO, so the endpoint tells nobody which tenant ids exist.
   */
  async signInOptions(tenantId: string): Promise<{ sso: boolean }> {
    try {
      return { sso: (await (await this.tenants.data(tenantId)).identityProvider.get()) !== undefined };
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') return { sso: false };
      throw error;
    }
  }

  async get(actor: Actor, tenantId: string): Promise<IdentityProviderRecord> {
    authorize(actor, 'tenant.read', { tenantId });
    const record = await (await this.tenants.data(tenantId)).identityProvider.get();
    if (!record) throw new DomainError('idp-not-configured', 'This tenant has no identity provider; PUT one first.');
    return record;
  }

  /** Creates or replaces the configuration; `clientSecret` omitted keeps the stored one. */
  async put(actor: Actor, tenantId: string, input: IdentityProviderInput): Promise<IdentityProviderRecord> {
    authorize(actor, 'tenant.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const before = await data.identityProvider.get();
    const issuer = input.issuer.trim();
    const clientId = input.clientId.trim();
    const options: IdentityProviderOptions = {
      scopes: [...new Set(['openid', ...(input.scopes ?? DEFAULT_SCOPES)])],
      groupsClaim: input.groupsClaim ?? DEFAULT_GROUPS_CLAIM,
      groupMappings: (input.groupMappings ?? []).map((m) => ({ claimValue: m.claimValue, group: m.group.trim() })),
      createMissingGroups: input.createMissingGroups ?? false,
      roleMappings: input.roleMappings ?? [],
      trustIdpMfa: input.trustIdpMfa ?? false,
      rememberMe: input.rememberMe ?? null,
    };
    if (options.rememberMe && options.rememberMe.absoluteHours > MAX_REMEMBER_ME_HOURS) {
      throw new DomainError('validation-failed', `"Remember me" may extend a session to at most ${MAX_REMEMBER_ME_HOURS} hours.`);
    }
    for (const mapping of options.roleMappings) {
      if (!(await permissionsOfRoleRef(data, mapping.role))) throw new DomainError('validation-failed', `Unknown role "${mapping.role}".`);
    }
    if (options.roleMappings.length > 0) authorize(actor, 'roles.write', { tenantId });
    const sameClient = before !== undefined && before.issuer === issuer && before.clientId === clientId;
    if (input.clientSecret === undefined && before?.clientSecretEncrypted && !sameClient) {
      throw new DomainError('validation-failed', 'A new issuer or client id needs its client secret too.');
    }
    const clientSecretEncrypted =
      input.clientSecret === undefined
        ? sameClient
          ? before.clientSecretEncrypted
          : null
        : this.secrets.seal(tenantId, input.clientSecret);
    // Nothing is stored unless the issuer answers as an OpenID provider with exactly this issuer;
    // its own spelling is kept, as ID tokens carry it.
    const discovered = await this.providers.discover({ issuer, clientId, clientSecret: input.clientSecret ?? null });
    const now = this.clock.now();
    const record: IdentityProviderRecord = {
      issuer: discovered.serverMetadata().issuer,
      clientId,
      clientSecretEncrypted,
      options,
      createdAt: before?.createdAt ?? now,
      updatedAt: now,
    };
    await data.transaction(async (trx) => {
      await trx.identityProvider.put(record);
      await recordAudit(trx, actor, this.clock, {
        activity: before ? 'Update identity provider' : 'Configure identity provider',
        category: 'Federation',
        operation: before ? 'update' : 'create',
        targets: [
          {
            type: 'identityProvider',
            id: tenantId,
            name: issuer,
            modifiedProperties: changedProperties(auditView(before), auditView(record), ['clientSecret']),
          },
        ],
      });
    });
    this.providers.forget(tenantId);
    return record;
  }

  async delete(actor: Actor, tenantId: string): Promise<void> {
    authorize(actor, 'tenant.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      const before = await trx.identityProvider.get();
      if (!before) throw new DomainError('idp-not-configured', 'This tenant has no identity provider.');
      await trx.identityProvider.delete();
      await recordAudit(trx, actor, this.clock, {
        activity: 'Remove identity provider',
        category: 'Federation',
        operation: 'delete',
        targets: [
          {
            type: 'identityProvider',
            id: tenantId,
            name: before.issuer,
            modifiedProperties: changedProperties(auditView(before), undefined, ['clientSecret']),
          },
        ],
      });
    });
    this.providers.forget(tenantId);
  }

  /** The stored client secret in clear, for the token request only. */
  clientSecretOf(tenantId: string, record: IdentityProviderRecord): string | null {
    return record.clientSecretEncrypted === null ? null : this.secrets.open(tenantId, record.clientSecretEncrypted);
  }
}
