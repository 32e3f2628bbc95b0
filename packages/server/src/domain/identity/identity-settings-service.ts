/**
 * The tenant's sign-in settings (SPEC §5): MFA for admins, session inactivity timeout and absolute
 * lifetime, minimum password length. Read with `tenant.read`, changed with `tenant.write`, audited;
 * a change applies to existing sessions at their next request.
 */
import { authorize, type Actor } from '../access/authorize.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { IdentitySettings } from '../tenants/tenant.js';

/** Allowed ranges, inclusive. */
export const IDENTITY_SETTING_RANGES = {
  sessionIdleMinutes: [5, 24 * 60],
  sessionAbsoluteHours: [1, 30 * 24],
  passwordMinLength: [8, 128],
} as const satisfies Partial<Record<keyof IdentitySettings, readonly [number, number]>>;

export class IdentitySettingsService {
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
  ) {}

  async get(actor: Actor, tenantId: string): Promise<IdentitySettings> {
    authorize(actor, 'tenant.read', { tenantId });
    return (await this.tenants.settings(tenantId)).identity;
  }

  async update(actor: Actor, tenantId: string, input: IdentitySettings): Promise<IdentitySettings> {
    authorize(actor, 'tenant.write', { tenantId });
    for (const [name, [min, max]] of Object.entries(IDENTITY_SETTING_RANGES)) {
      const value = input[name as keyof typeof IDENTITY_SETTING_RANGES];
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new DomainError('validation-failed', `${name} must be a whole number from ${min} to ${max}.`);
      }
    }
    if (input.sessionIdleMinutes > input.sessionAbsoluteHours * 60) {
      throw new DomainError('validation-failed', 'sessionIdleMinutes cannot be longer than the absolute lifetime (sessionAbsoluteHours).');
    }
    const data = await this.tenants.data(tenantId);
    const before = (await data.settings.get())?.identity;
    // Settings this endpoint does not own (another feature's) are kept as they are.
    const next: IdentitySettings = {
      ...(before ?? input),
      mfaRequiredForAdmins: input.mfaRequiredForAdmins,
      sessionIdleMinutes: input.sessionIdleMinutes,
      sessionAbsoluteHours: input.sessionAbsoluteHours,
      passwordMinLength: input.passwordMinLength,
    };
    await data.transaction(async (trx) => {
      await trx.settings.setIdentitySettings(next, this.clock.now());
      await recordAudit(trx, actor, this.clock, {
        activity: 'Update sign-in settings',
        category: 'TenantManagement',
        operation: 'update',
        targets: [{ type: 'tenant', id: tenantId, modifiedProperties: changedProperties({ ...before }, { ...next }) }],
      });
    });
    this.tenants.forgetSettings(tenantId);
    return next;
  }
}
