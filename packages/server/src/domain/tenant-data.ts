import type { CommandStore } from './commands/command-store.js';
import type { CompliancePolicyStore, ComplianceResultStore } from './compliance/compliance-store.js';
import type { DeviceStore } from './devices/device-store.js';
import type { EnrollmentTokenStore } from './enrollment/enrollment-token.js';
import type { CertificateAuthorityStore, TenantSettingsStore } from './tenants/tenant-stores.js';
import type { ApiTokenStore } from './tokens/api-token.js';

/**
 * Every store of one tenant, bound to that tenant and to its region's database. Obtained only from
 * `TenantDirectory.openTenantData`; no store method takes a tenant id, so none can be given the
 * wrong one.
 */
export interface TenantData {
  readonly tenantId: string;
  readonly region: string;
  readonly settings: TenantSettingsStore;
  readonly certificateAuthority: CertificateAuthorityStore;
  readonly apiTokens: ApiTokenStore;
  readonly enrollmentTokens: EnrollmentTokenStore;
  readonly devices: DeviceStore;
  readonly commands: CommandStore;
  readonly compliancePolicies: CompliancePolicyStore;
  readonly complianceResults: ComplianceResultStore;
  /** Runs `work` in one transaction of the region's database; it commits only if `work` resolves. */
  transaction<T>(work: (data: TenantData) => Promise<T>): Promise<T>;
}
