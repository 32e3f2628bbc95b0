import type { AppleIdentityVerifier } from '../domain/apple-mdm/apple-identity.js';
import type { AppleMdmService } from '../domain/apple-mdm/apple-mdm-service.js';
import type { ApplePushHook } from '../domain/apple-mdm/apns-provider.js';
import type { ScepService } from '../domain/apple-mdm/scep-service.js';
import type { RoleService } from '../domain/identity/role-service.js';
import type { AccessReviewService } from '../domain/operators/access-review.js';
import type { LockboxService } from '../domain/operators/lockbox-service.js';
import type { OperatorService } from '../domain/operators/operator-service.js';
import type { AuditService } from '../domain/audit/audit-service.js';
import type { CommandService } from '../domain/commands/command-service.js';
import type { ComplianceService } from '../domain/compliance/compliance-service.js';
import type { NoncomplianceActions } from '../domain/compliance/noncompliance-actions.js';
import type { DeviceWakeups } from '../domain/commands/device-wakeups.js';
import type { DeviceAuthenticator } from '../domain/device-auth/device-authenticator.js';
import type { CheckInService } from '../domain/devices/check-in-service.js';
import type { DeviceService } from '../domain/devices/device-service.js';
import type { ProfileService } from '../domain/profiles/profile-service.js';
import type { IdentitySettingsService } from '../domain/identity/identity-settings-service.js';
import type { MfaService } from '../domain/identity/mfa-service.js';
import type { PasskeyService } from '../domain/identity/passkeys.js';
import type { PasswordResetService } from '../domain/identity/password-reset.js';
import type { SessionService } from '../domain/identity/session-service.js';
import type { SignInService } from '../domain/identity/sign-in-service.js';
import type { UserService } from '../domain/identity/user-service.js';
import type { IdentityProviderService } from '../domain/identity/oidc-configuration-service.js';
import type { OidcSignInService } from '../domain/identity/oidc-sign-in-service.js';
import type { ScimService } from '../domain/identity/scim-service.js';
import type { ScimTokenService } from '../domain/identity/scim-token-service.js';
import type { PortalSettingsService } from '../domain/tenants/portal-settings-service.js';
import type { SelfService } from '../domain/portal/self-service.js';
import type { EnrollmentService } from '../domain/enrollment/enrollment-service.js';
import type { LifecycleService } from '../domain/lifecycle/lifecycle-service.js';
import type { RetentionService } from '../domain/retention/retention-service.js';
import type { TenantService } from '../domain/tenants/tenant-service.js';
import type { ApiTokenService } from '../domain/tokens/api-token-service.js';

/** Everything the HTTP layer calls. Built by main.ts (or a test) and handed to `buildApp`. */
import type { KeyRotationService } from '../domain/encryption/key-rotation-service.js';
import type { CsvReports } from '../domain/export/csv-reports.js';
import type { ExportService } from '../domain/export/export-service.js';

export interface AppServices {
  tenants: TenantService;
  apiTokens: ApiTokenService;
  enrollment: EnrollmentService;
  /** The subscription lifecycle: state, transitions, purge receipts (domain/lifecycle/). */
  lifecycle: LifecycleService;
  /** Retention rules and the stale-device setting (domain/retention/). */
  retention: RetentionService;
  devices: DeviceService;
  checkIn: CheckInService;
  commands: CommandService;
  compliance: ComplianceService;
  /** Actions for non-compliance: the retire list (the scheduled job runs the rest). */
  noncompliance: NoncomplianceActions;
  profiles: ProfileService;
  users: UserService;
  sessions: SessionService;
  /** The tenant's OpenID Connect IdP, sign-in through it, and SCIM provisioning. */
  identityProviders: IdentityProviderService;
  oidcSignIn: OidcSignInService;
  scim: ScimService;
  scimTokens: ScimTokenService;
  signIn: SignInService;
  mfa: MfaService;
  passkeys: PasskeyService;
  passwordResets: PasswordResetService;
  identitySettings: IdentitySettingsService;
  audit: AuditService;
  selfService: SelfService;
  portalSettings: PortalSettingsService;
  /** Roles, role assignments and the caller's permissions (RBAC administration). */
  roles: RoleService;
  /** The operator plane: operator accounts, lockbox requests, the access review. */
  operators: OperatorService;
  lockbox: LockboxService;
  accessReview: AccessReviewService;
  /** Encryption at rest: `custos keys rotate` (domain/encryption/). */
  keyRotation: KeyRotationService;
  /** Tenant export and import, the personal export (domain/export/). */
  exports: ExportService;
  /** CSV reports of devices and compliance. */
  reports: CsvReports;
  /** Tells the process holding a device's push channel to wake it (see routes/agent-push-routes.ts). */
  wakeups: DeviceWakeups;
  deviceAuth: DeviceAuthenticator;
  /** Apple MDM: enrollment profile, check-in and commands; SCEP; who signed a message. */
  appleMdm: AppleMdmService;
  /** APNs wake-ups of Apple devices (its `provider` is replaceable, for tests against a local APNs server). */
  applePush: ApplePushHook;
  scep: ScepService;
  appleIdentity: AppleIdentityVerifier;
  /** Resolves when every store answers; rejects otherwise (for /readyz). */
  checkReady(): Promise<void>;
}
