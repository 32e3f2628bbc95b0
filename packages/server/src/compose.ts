/**
 * Wiring: configuration → storage → services. Shared by `custos serve`, every other command and the
 * tests, so all of them run the same objects.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { retentionRules } from '@custos/shared';
import type { CustosConfig } from './config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { AuditService } from './domain/audit/audit-service.js';
import { CommandService } from './domain/commands/command-service.js';
import { AppleIdentityVerifier } from './domain/apple-mdm/apple-identity.js';
import { AppleMdmService } from './domain/apple-mdm/apple-mdm-service.js';
import { ApnsProvider, ApplePushHook } from './domain/apple-mdm/apns-provider.js';
import { AppleIdentityRenewalJob, AppleInventoryRefreshJob } from './domain/apple-mdm/apple-inventory-job.js';
import { ScepService } from './domain/apple-mdm/scep-service.js';
import { SecretBox } from './domain/secret-box.js';
import { ComplianceService } from './domain/compliance/compliance-service.js';
import { ComplianceReevaluationJob } from './domain/compliance/compliance-reevaluation-job.js';
import { NoncomplianceActions } from './domain/compliance/noncompliance-actions.js';
import type { JobLogger } from './domain/jobs/job.js';
import { JobRegistry } from './domain/jobs/job-registry.js';
import { DEFAULT_JOB_INTERVAL_SECONDS, JobScheduler } from './domain/jobs/job-scheduler.js';
import type { Mailer } from './domain/mail/mailer.js';
import { DEFAULT_MAIL_FROM, SmtpMailer } from './mail/smtp-mailer.js';
import { JobLeaseRepository } from './storage/repositories/job-lease-repository.js';
import type { DeviceWakeups } from './domain/commands/device-wakeups.js';
import type { TenantChangeFeed } from './domain/tenants/tenant-changes.js';
import { DeviceAuthenticator } from './domain/device-auth/device-authenticator.js';
import { CheckInService } from './domain/devices/check-in-service.js';
import { DeviceService } from './domain/devices/device-service.js';
import { ProfileSecretBox } from './domain/profiles/profile-secret-box.js';
import { ProfileService } from './domain/profiles/profile-service.js';
import { IdentitySettingsService } from './domain/identity/identity-settings-service.js';
import { LoginThrottle } from './domain/identity/login-throttle.js';
import { MfaSecretBox } from './domain/identity/mfa-secret-box.js';
import { MfaService } from './domain/identity/mfa-service.js';
import { PasskeyService, relyingPartyOf } from './domain/identity/passkeys.js';
import { PasswordResetService } from './domain/identity/password-reset.js';
import { SessionService } from './domain/identity/session-service.js';
import { SignInService } from './domain/identity/sign-in-service.js';
import { UserService } from './domain/identity/user-service.js';
import { OidcProviders } from './domain/identity/oidc-client.js';
import { IdentityProviderService } from './domain/identity/oidc-configuration-service.js';
import { OidcSecretBox } from './domain/identity/oidc-secret-box.js';
import { OidcSignInService } from './domain/identity/oidc-sign-in-service.js';
import { ScimService } from './domain/identity/scim-service.js';
import { ScimTokenService } from './domain/identity/scim-token-service.js';
import { PortalSettingsService } from './domain/tenants/portal-settings-service.js';
import { SelfService } from './domain/portal/self-service.js';
import { EnrollmentService } from './domain/enrollment/enrollment-service.js';
import { TenantService } from './domain/tenants/tenant-service.js';
import { ApiTokenService } from './domain/tokens/api-token-service.js';
import { RoleService } from './domain/identity/role-service.js';
import { AccessReviewService } from './domain/operators/access-review.js';
import { LockboxExpiryJob, LockboxService } from './domain/operators/lockbox-service.js';
import { OperatorService } from './domain/operators/operator-service.js';
import { OperatorRepository } from './storage/repositories/operator-repositories.js';
import type { AppServices } from './http/services.js';
import { InProcessWakeups } from './storage/in-process-wakeups.js';
import { PostgresWakeups } from './storage/postgres-wakeups.js';
import { Storage } from './storage/storage.js';
import { KeyRotationService } from './domain/encryption/key-rotation-service.js';
import { CsvReports } from './domain/export/csv-reports.js';
import { ExportService } from './domain/export/export-service.js';
import { ExportMaintenanceJob } from './domain/export/export-maintenance-job.js';
import { DEFAULT_LIFECYCLE_DURATIONS } from './domain/lifecycle/lifecycle.js';
import { LifecycleTickJob } from './domain/lifecycle/lifecycle-job.js';
import { RetentionJob } from './domain/retention/retention-job.js';
import { RetentionService } from './domain/retention/retention-service.js';
import { LifecycleService } from './domain/lifecycle/lifecycle-service.js';
import { PurgeReceiptSigner } from './domain/lifecycle/purge-receipt.js';
import { LifecycleRepository } from './storage/repositories/lifecycle-repository.js';

export interface Runtime {
  storage: Storage;
  services: AppServices;
  clock: Clock;
  /** The periodic jobs of this process; a feature registers its own here (compliance re-evaluation, …). */
  jobs: JobRegistry;
  /** A scheduler over `jobs` (not started); `close` stops every scheduler made here. */
  jobScheduler(log: JobLogger): JobScheduler;
  /** Undefined when no SMTP server is configured; features then skip mail and say so. */
  mailer: Mailer | undefined;
  close(): Promise<void>;
}

/** Opens the stores, migrates them to the latest schema, and builds the services on top. */
export async function openRuntime(
  config: Pick<CustosConfig, 'storage' | 'regions' | 'regionMap'> &
    Partial<
      Pick<
        CustosConfig,
        'jobIntervalSeconds' | 'smtpUrl' | 'mailFrom' | 'publicUrl' | 'lifecycle' | 'appleMdmTrustClientCert' | 'apnsUrl' | 'exportJobs'
      >
    >,
  clock: Clock = systemClock,
): Promise<Runtime> {
  const storage = Storage.open(config.storage, config.regions);
  try {
    await storage.migrate();
  } catch (error) {
    await storage.close();
    throw error;
  }
  // One process on SQLite; several sharing PostgreSQL fan wake-ups out through its LISTEN/NOTIFY.
  let wakeups: DeviceWakeups & TenantChangeFeed;
  try {
    wakeups =
      config.storage.kind === 'postgres'
        ? await PostgresWakeups.open(config.storage.directoryUrl, storage.directory as Kysely<unknown>)
        : new InProcessWakeups();
  } catch (error) {
    await storage.close();
    throw error;
  }
  // Apple MDM devices are woken through APNs by the process that publishes the wake-up.
  const applePush = new ApplePushHook();
  const tenants = new TenantService(storage, config.regionMap, clock);
  // Lifecycle changes and purges made by any process drop this process's cached tenant at once.
  tenants.follow(wakeups);
  const deviceWakeups = applePush.wrap(wakeups);
  const deviceAuth = new DeviceAuthenticator(tenants, Buffer.from(await storage.readSecret('device-session'), 'base64url'), clock);
  const commands = new CommandService(tenants, deviceAuth, deviceWakeups, clock);
  const compliance = new ComplianceService(tenants, clock);
  const profiles = new ProfileService(
    tenants,
    deviceAuth,
    deviceWakeups,
    new ProfileSecretBox(Buffer.from(await storage.readSecret('profile-key'), 'base64url')),
    clock,
  );
  const sessions = new SessionService(tenants, clock, Buffer.from(await storage.readSecret('portal-csrf'), 'base64url'));
  // One throttle for passwords and second factors: failures of either count towards the lockout.
  const loginThrottle = new LoginThrottle(clock);
  const publicUrl = config.publicUrl ?? 'http://127.0.0.1:8080';
  const appleMdm = new AppleMdmService(
    tenants,
    compliance,
    new SecretBox(Buffer.from(await storage.readSecret('apple-mdm-key'), 'base64url'), 'Apple MDM secret'),
    publicUrl,
    clock,
  );
  const mailer = config.smtpUrl ? new SmtpMailer(config.smtpUrl, config.mailFrom ?? DEFAULT_MAIL_FROM) : undefined;
  const noncompliance = new NoncomplianceActions(tenants, commands, mailer, clock);
  const jobs = new JobRegistry();
  jobs.register(new ComplianceReevaluationJob(tenants, compliance, noncompliance));
  const schedulers: JobScheduler[] = [];
  const users = new UserService(tenants, clock);
  // Policies and profiles assigned to groups follow a user's devices when memberships change.
  users.onMembershipChange(async (tenantId, userNames) => {
    const data = await tenants.data(tenantId);
    const deviceIds: string[] = [];
    for (const userName of userNames) deviceIds.push(...(await data.deviceReports.idsForUser(userName)));
    if (deviceIds.length === 0) return;
    await compliance.reevaluateDevices(data, deviceIds);
    await profiles.refreshDevices(data, deviceIds);
  });
  const oidcProviders = new OidcProviders(clock);
  const identityProviders = new IdentityProviderService(
    tenants,
    oidcProviders,
    new OidcSecretBox(Buffer.from(await storage.readSecret('idp-key'), 'base64url')),
    clock,
  );
  // RBAC administration and the operator plane (lockbox, access review).
  const apiTokens = new ApiTokenService(tenants, clock);
  const roles = new RoleService(tenants, clock);
  const operatorStore = new OperatorRepository(storage.directory);
  const operators = new OperatorService(
    operatorStore,
    new MfaSecretBox(Buffer.from(await storage.readSecret('operator-totp'), 'base64url')),
    Buffer.from(await storage.readSecret('portal-csrf'), 'base64url'),
    clock,
  );
  const lockbox = new LockboxService(tenants, clock);
  jobs.register(new LockboxExpiryJob(tenants, lockbox));
  const enrollment = new EnrollmentService(tenants, clock, config.exportJobs?.archiveLifetimeDays);
  // Apple MDM devices receive configuration profiles as InstallProfile/RemoveProfile commands.
  // `custos serve` always has an APNs URL (Apple's by default); a runtime without one sends no pushes.
  if (config.apnsUrl) applePush.provider = new ApnsProvider(tenants, appleMdm, clock, { url: config.apnsUrl });
  appleMdm.setPusher((tenantId, deviceIds) => applePush.push(tenantId, deviceIds));
  jobs.register(new AppleInventoryRefreshJob(tenants, appleMdm));
  jobs.register(new AppleIdentityRenewalJob(tenants, appleMdm));
  appleMdm.setProfiles(profiles);
  profiles.setAppleDelivery(appleMdm.deliverProfiles);
  // Background exports' archives: beside the stores' data directory (or the system temp directory).
  const exportRoot = config.storage.kind === 'sqlite' ? config.storage.dataDir : (config.storage.keyDir ?? tmpdir());
  const exports = new ExportService(tenants, clock, join(exportRoot, 'exports'), config.exportJobs);
  jobs.register(new ExportMaintenanceJob(tenants, exports));
  // The subscription lifecycle and the provable purge (domain/lifecycle/).
  const lifecycle = new LifecycleService({
    directory: new LifecycleRepository(storage.directory),
    purger: storage,
    tenants,
    destroyTenantKey: async (tenantId) => {
      await storage.tenantKeys.destroy(tenantId);
      return !(await storage.tenantKeys.hasKeys(tenantId));
    },
    // Files outside the stores that hold tenant data: its export archives.
    destroyTenantFiles: (tenantId) => rm(join(exportRoot, 'exports', tenantId), { recursive: true, force: true }),
    signer: new PurgeReceiptSigner(Buffer.from(await storage.readSecret('purge-receipt-key'), 'base64url')),
    mailer,
    durations: config.lifecycle ?? DEFAULT_LIFECYCLE_DURATIONS,
    clock,
  });
  jobs.register(new LifecycleTickJob(lifecycle));
  const devices = new DeviceService(tenants, clock);
  const retention = new RetentionService(tenants, devices, clock, retentionRules(exports.archiveLifetimeDays));
  jobs.register(new RetentionJob(tenants, retention));
  const services: AppServices = {
    tenants,
    apiTokens,
    roles,
    operators,
    lockbox,
    accessReview: new AccessReviewService(tenants, operators, operatorStore, lockbox, roles, apiTokens, clock),
    enrollment,
    lifecycle,
    retention,
    devices,
    checkIn: new CheckInService(tenants, deviceAuth, commands, compliance, clock, profiles),
    commands,
    compliance,
    noncompliance,
    profiles,
    users,
    sessions,
    identityProviders,
    oidcSignIn: new OidcSignInService(tenants, identityProviders, oidcProviders, sessions, publicUrl, clock),
    scim: new ScimService(tenants, users, publicUrl),
    scimTokens: new ScimTokenService(tenants, clock),
    signIn: new SignInService(tenants, sessions, loginThrottle, clock),
    mfa: new MfaService(tenants, new MfaSecretBox(Buffer.from(await storage.readSecret('mfa-key'), 'base64url')), loginThrottle, clock),
    passkeys: new PasskeyService(tenants, relyingPartyOf(publicUrl), loginThrottle, clock),
    passwordResets: new PasswordResetService(tenants, mailer, publicUrl, clock),
    identitySettings: new IdentitySettingsService(tenants, clock),
    audit: new AuditService(tenants, clock),
    selfService: new SelfService(tenants, commands, enrollment),
    keyRotation: new KeyRotationService(tenants, storage.tenantKeys, clock),
    exports,
    reports: new CsvReports(tenants),
    portalSettings: new PortalSettingsService(tenants, clock),
    wakeups: deviceWakeups,
    deviceAuth,
    appleMdm,
    applePush,
    scep: new ScepService(tenants, clock),
    appleIdentity: new AppleIdentityVerifier(tenants, clock, config.appleMdmTrustClientCert ?? false),
    checkReady: async () => {
      await sql`select 1`.execute(storage.directory);
      for (const region of storage.regions) await sql`select 1`.execute(storage.inspectRegionStore(region));
    },
  };
  return {
    storage,
    services,
    clock,
    jobs,
    jobScheduler: (log) => {
      const scheduler = new JobScheduler(jobs, new JobLeaseRepository(storage.directory), clock, log, {
        intervalSeconds: config.jobIntervalSeconds ?? DEFAULT_JOB_INTERVAL_SECONDS,
        holder: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
      });
      schedulers.push(scheduler);
      return scheduler;
    },
    mailer,
    close: async () => {
      for (const scheduler of schedulers) await scheduler.stop();
      await exports.settle();
      mailer?.close();
      await deviceWakeups.close();
      await storage.close();
    },
  };
}
