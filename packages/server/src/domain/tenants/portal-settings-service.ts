/**
 * What admins say to their employees: the privacy statement (text and/or link), the support contact
 * and the portals' branding (SCENARIO 1). Changing the statement raises its version, so every
 * enrollment from then on records that the user accepted the new one. Audited like every admin write.
 */
import type { TenantSettingsUpdate } from '@custos/shared';
import { authorize, type Actor } from '../access/authorize.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantService } from './tenant-service.js';
import type { Tenant, TenantSettings } from './tenant.js';

export class PortalSettingsService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  async get(actor: Actor, tenantId: string): Promise<{ tenant: Tenant; settings: TenantSettings }> {
    authorize(actor, 'tenant.read', { tenantId });
    return { tenant: await this.tenants.get(tenantId), settings: await this.tenants.settings(tenantId) };
  }

  async update(actor: Actor, tenantId: string, input: TenantSettingsUpdate): Promise<{ tenant: Tenant; settings: TenantSettings }> {
    authorize(actor, 'tenant.write', { tenantId });
    const url = input.privacyStatementUrl;
    if (url !== undefined && url !== null && !/^https?:\/\//i.test(url)) {
      throw new DomainError('validation-failed', 'The privacy statement link must be an http(s) URL.');
    }
    const data = await this.tenants.data(tenantId);
    await data.transaction(async (trx) => {
      const before = await trx.settings.get();
      if (!before) throw new DomainError('tenant-not-found', `Tenant ${tenantId} has no settings in its region store.`);
      const text = input.privacyStatementText === undefined ? before.privacyStatement.text : input.privacyStatementText;
      const link = url === undefined ? before.privacyStatement.url : url;
      const statementChanged = text !== before.privacyStatement.text || link !== before.privacyStatement.url;
      const after: Pick<TenantSettings, 'privacyStatement' | 'supportContact' | 'branding'> = {
        privacyStatement: {
          version: statementChanged ? nextVersion(before.privacyStatement.version) : before.privacyStatement.version,
          text,
          url: link,
        },
        supportContact: input.supportContact === undefined ? before.supportContact : input.supportContact,
        branding: { ...before.branding, ...input.branding },
      };
      await trx.settings.setPortalSettings(after, this.clock.now());
      await recordAudit(trx, actor, this.clock, {
        activity: 'Update organization settings',
        category: 'Tenant',
        operation: 'update',
        targets: [
          {
            type: 'tenant',
            id: tenantId,
            modifiedProperties: changedProperties(
              { privacyStatement: before.privacyStatement, supportContact: before.supportContact, branding: before.branding },
              { ...after },
            ),
          },
        ],
      });
    });
    this.tenants.forgetSettings(tenantId);
    return this.get(actor, tenantId);
  }
}

/** "1" → "2"; a version that is not a whole number gets ".1" appended instead. */
function nextVersion(version: string): string {
  return /^\d+$/.test(version) ? String(Number(version) + 1) : `${version}.1`;
}
