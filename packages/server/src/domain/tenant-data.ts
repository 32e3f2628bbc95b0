import type { AppleMdmStore } from './apple-mdm/apple-mdm-store.js';
import type { AuditStore } from './audit/audit-log.js';
import type { ImportedAuditStore } from './audit/imported-audit.js';
import type { CommandStore } from './commands/command-store.js';
import type { CompliancePolicyStore, ComplianceResultStore } from './compliance/compliance-store.js';
import type { NoncomplianceEpisodeStore, RetireListStore } from './compliance/noncompliance-store.js';
import type { DeviceReportStore } from './devices/device-reports.js';
import type { DeviceStore } from './devices/device-store.js';
import type { GroupStore, RoleAssignmentStore, RoleStore, SessionStore, UserStore } from './identity/identity-stores.js';
import type { PasskeyStore, PasswordResetStore, RecoveryCodeStore, SignInThrottleStore, TotpStore } from './identity/sign-in-stores.js';
import type { FederatedIdentityStore, IdentityProviderStore, OidcLoginStateStore } from './identity/oidc-stores.js';
import type { ScimDirectoryStore, ScimTokenStore } from './identity/scim-stores.js';
import type { LockboxStore } from './operators/operator-store.js';
import type { EnrollmentTokenStore } from './enrollment/enrollment-token.js';
import type { ConfigurationProfileStore, DeviceProfileStateStore } from './profiles/profile-store.js';
import type { CertificateAuthorityStore, TenantSettingsStore } from './tenants/tenant-stores.js';
import type { ApiTokenStore } from './tokens/api-token.js';
import type { RetentionStore } from './retention/retention-store.js';
import type { ExportJobStore } from './export/export-job-store.js';
import type { TenantRowStore } from './export/tenant-row-store.js';

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
  readonly deviceReports: DeviceReportStore;
  readonly commands: CommandStore;
  readonly compliancePolicies: CompliancePolicyStore;
  readonly complianceResults: ComplianceResultStore;
  readonly complianceEpisodes: NoncomplianceEpisodeStore;
  readonly retireList: RetireListStore;
  readonly users: UserStore;
  readonly groups: GroupStore;
  readonly roles: RoleStore;
  readonly roleAssignments: RoleAssignmentStore;
  readonly sessions: SessionStore;
  readonly signInThrottles: SignInThrottleStore;
  readonly totp: TotpStore;
  readonly recoveryCodes: RecoveryCodeStore;
  readonly passkeys: PasskeyStore;
  readonly passwordResets: PasswordResetStore;
  readonly audit: AuditStore;
  /** Audit chains an import brought along, read-only (domain/audit/imported-audit.ts). */
  readonly importedAudit: ImportedAuditStore;
  readonly identityProvider: IdentityProviderStore;
  readonly oidcLoginStates: OidcLoginStateStore;
  readonly federatedIdentities: FederatedIdentityStore;
  /** Operators' lockbox requests for access to this tenant (domain/operators/lockbox-service.ts). */
  readonly lockbox: LockboxStore;
  readonly scimTokens: ScimTokenStore;
  readonly scimDirectory: ScimDirectoryStore;
  readonly configurationProfiles: ConfigurationProfileStore;
  readonly deviceProfileStates: DeviceProfileStateStore;
  /** The retention rules' reads and deletes (domain/retention/). */
  readonly retention: RetentionStore;
  /** Apple MDM: push certificate, served enrollment profiles, Apple devices and their command queue. */
  readonly appleMdm: AppleMdmStore;
  /** Whole-table pages and inserts, for export and import only (domain/export). */
  readonly tableRows: TenantRowStore;
  readonly exportJobs: ExportJobStore;
  /**
   * Runs `work` in one transaction of the region's database; it commits only if `work` resolves. A
   * write refused by a uniqueness constraint (a concurrent request stored the same key first)
   * rejects with `StoreConflictError`.
   */
  transaction<T>(work: (data: TenantData) => Promise<T>): Promise<T>;
}
