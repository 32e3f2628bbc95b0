/**
 * The stores of a deployment: the global directory and one store per region, each a SQLite file
 * (embedded default) or a PostgreSQL database (production). A tenant's rows are reachable only
 * through `openTenantData(tenant)`, which binds the tenant to the one store of its region; the
 * region stores themselves are private to this class.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Migrator, type Kysely, type Migration, type MigrationResult } from 'kysely';
import { StoreConflictError } from '../domain/domain-error.js';
import type { TenantData } from '../domain/tenant-data.js';
import type { SubscriptionState, Tenant } from '../domain/tenants/tenant.js';
import type { TenantDirectory } from '../domain/tenants/tenant-stores.js';
import type { TenantRowPurger } from '../domain/lifecycle/lifecycle-store.js';
import type { GlobalDatabase, RegionDatabase } from './database.js';
import { openPostgres } from './dialects/postgres.js';
import { openSqlite } from './dialects/sqlite.js';
import { globalMigrations } from './migrations/global-migrations.js';
import { AUDIT_ENCRYPTION_PENDING, regionMigrations } from './migrations/region-migrations.js';
import { lifecycleWriteGuard } from './lifecycle-write-guard.js';
import { countTenantRows, purgeTenantRows } from './tenant-purge.js';
import { isUniqueViolation } from './unique-violation.js';
import { RetentionRepository } from './repositories/retention-repository.js';
import { AppleMdmRepository } from './repositories/apple-mdm-repository.js';
import { AuditRepository } from './repositories/audit-repository.js';
import { ImportedAuditRepository } from './repositories/imported-audit-repository.js';
import { LockboxRepository } from './repositories/operator-repositories.js';
import { CommandRepository } from './repositories/command-repository.js';
import { CompliancePolicyRepository, ComplianceResultRepository } from './repositories/compliance-repositories.js';
import { DeviceReportRepository } from './repositories/device-report-repository.js';
import { DeviceRepository } from './repositories/device-repository.js';
import { NoncomplianceEpisodeRepository, RetireListRepository } from './repositories/noncompliance-repositories.js';
import { ConfigurationProfileRepository, DeviceProfileStateRepository } from './repositories/profile-repositories.js';
import {
  GroupRepository,
  RoleAssignmentRepository,
  RoleRepository,
  SessionRepository,
  UserRepository,
} from './repositories/identity-repositories.js';
import {
  FederatedIdentityRepository,
  IdentityProviderRepository,
  OidcLoginStateRepository,
  ScimDirectoryRepository,
  ScimTokenRepository,
} from './repositories/federation-repositories.js';
import {
  PasskeyRepository,
  PasswordResetRepository,
  RecoveryCodeRepository,
  SignInThrottleRepository,
  TotpRepository,
} from './repositories/sign-in-repositories.js';
import { CertificateAuthorityRepository, TenantSettingsRepository } from './repositories/tenant-settings-repository.js';
import { ApiTokenRepository, EnrollmentTokenRepository } from './repositories/token-repositories.js';
import { masterKeyFromEnvironment, type KeyProvider } from '../domain/encryption/key-provider.js';
import type { CipherSource } from '../domain/encryption/tenant-cipher.js';
import { encryptLegacyDeviceValues } from './repositories/sensitive-device-columns.js';
import { encryptLegacyValues } from './repositories/sealed-columns.js';
import { IDENTITY_SEALED_TABLES } from './repositories/sensitive-identity-columns.js';
import { AUDIT_SEALED_TABLES } from './repositories/sensitive-audit-columns.js';
import { TenantKeyStore } from './tenant-key-store.js';
import { ExportJobRepository } from './repositories/export-job-repository.js';
import { TenantRowRepository } from './repositories/tenant-row-repository.js';

export type StorageConfig =
  | { kind: 'sqlite'; dataDir: string }
  | {
      kind: 'postgres';
      directoryUrl: string;
      regionUrls: Record<string, string>;
      maxConnections?: number;
      /** Where a development master key is generated when none is configured (the data directory). */
      keyDir?: string;
    };

/** Random keys the deployment creates once: device-session MACs and portal CSRF tokens. */
const SERVER_SECRETS = [
  'device-session',
  'portal-csrf',
  'idp-key',
  'mfa-key',
  'operator-totp',
  'profile-key',
  // The Ed25519 seed that signs purge receipts (domain/lifecycle/purge-receipt.ts).
  'purge-receipt-key',
  // Seals Apple MDM secrets at rest: APNs push certificate keys, bootstrap tokens (domain/apple-mdm/).
  'apple-mdm-key',
] as const;

export interface MigrationReport {
  store: string;
  applied: string[];
}

/** Thrown at start when a region's configured database belongs to another region. */
export class RegionStoreMismatchError extends Error {
  constructor(region: string, found: string) {
    super(`The store configured for region "${region}" belongs to region "${found}"; refusing to start (fail closed).`);
    this.name = 'RegionStoreMismatchError';
  }
}

function staticProvider(migrations: Record<string, Migration>) {
  return { getMigrations: () => Promise.resolve(migrations) };
}

async function runMigrations(db: Kysely<unknown>, migrations: Record<string, Migration>, store: string): Promise<MigrationReport> {
  const { error, results } = await new Migrator({ db, provider: staticProvider(migrations) }).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`Migration of ${store} failed: ${JSON.stringify(error)}`);
  return { store, applied: (results ?? []).filter((r: MigrationResult) => r.status === 'Success').map((r) => r.migrationName) };
}

function toTenant(row: GlobalDatabase['tenants']): Tenant {
  return {
    id: row.id,
    name: row.name,
    region: row.region,
    subscriptionState: row.subscription_state as SubscriptionState,
    createdAt: row.created_at,
  };
}

class RegionTenantData implements TenantData {
  readonly settings;
  readonly certificateAuthority;
  readonly apiTokens;
  readonly enrollmentTokens;
  readonly devices;
  readonly deviceReports;
  readonly commands;
  readonly compliancePolicies;
  readonly complianceResults;
  readonly complianceEpisodes;
  readonly retireList;
  readonly users;
  readonly groups;
  readonly roles;
  readonly roleAssignments;
  readonly sessions;
  readonly signInThrottles;
  readonly totp;
  readonly recoveryCodes;
  readonly passkeys;
  readonly passwordResets;
  readonly audit;
  readonly importedAudit;
  readonly identityProvider;
  readonly oidcLoginStates;
  readonly federatedIdentities;
  readonly lockbox;
  readonly scimTokens;
  readonly scimDirectory;
  readonly configurationProfiles;
  readonly deviceProfileStates;
  readonly retention;
  readonly tableRows;
  readonly exportJobs;
  readonly appleMdm;

  constructor(
    readonly tenantId: string,
    readonly region: string,
    private readonly db: Kysely<RegionDatabase>,
    private readonly cipher: CipherSource,
  ) {
    this.settings = new TenantSettingsRepository(db, tenantId);
    this.certificateAuthority = new CertificateAuthorityRepository(db, tenantId);
    this.apiTokens = new ApiTokenRepository(db, tenantId);
    this.enrollmentTokens = new EnrollmentTokenRepository(db, tenantId, cipher);
    this.devices = new DeviceRepository(db, tenantId, cipher);
    this.deviceReports = new DeviceReportRepository(db, tenantId, cipher);
    this.commands = new CommandRepository(db, tenantId);
    this.compliancePolicies = new CompliancePolicyRepository(db, tenantId);
    this.complianceResults = new ComplianceResultRepository(db, tenantId);
    this.complianceEpisodes = new NoncomplianceEpisodeRepository(db, tenantId);
    this.retireList = new RetireListRepository(db, tenantId, cipher);
    this.users = new UserRepository(db, tenantId, cipher);
    this.groups = new GroupRepository(db, tenantId);
    this.roles = new RoleRepository(db, tenantId);
    this.roleAssignments = new RoleAssignmentRepository(db, tenantId);
    this.sessions = new SessionRepository(db, tenantId);
    this.signInThrottles = new SignInThrottleRepository(db, tenantId, cipher);
    this.totp = new TotpRepository(db, tenantId);
    this.recoveryCodes = new RecoveryCodeRepository(db, tenantId);
    this.passkeys = new PasskeyRepository(db, tenantId);
    this.passwordResets = new PasswordResetRepository(db, tenantId);
    this.audit = new AuditRepository(db, tenantId, cipher);
    this.importedAudit = new ImportedAuditRepository(db, tenantId, cipher);
    this.identityProvider = new IdentityProviderRepository(db, tenantId);
    this.oidcLoginStates = new OidcLoginStateRepository(db, tenantId);
    this.federatedIdentities = new FederatedIdentityRepository(db, tenantId);
    this.lockbox = new LockboxRepository(db, tenantId);
    this.scimTokens = new ScimTokenRepository(db, tenantId);
    this.scimDirectory = new ScimDirectoryRepository(db, tenantId, cipher);
    this.configurationProfiles = new ConfigurationProfileRepository(db, tenantId);
    this.deviceProfileStates = new DeviceProfileStateRepository(db, tenantId);
    this.retention = new RetentionRepository(db, tenantId);
    this.tableRows = new TenantRowRepository(db, tenantId, cipher);
    this.exportJobs = new ExportJobRepository(db, tenantId);
    this.appleMdm = new AppleMdmRepository(db, tenantId, cipher);
  }

  async transaction<T>(work: (data: TenantData) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this);
    try {
      return await this.db.transaction().execute((trx) => work(new RegionTenantData(this.tenantId, this.region, trx, this.cipher)));
    } catch (error) {
      // A concurrent writer stored the same key first; the transaction rolled back as a whole.
      if (isUniqueViolation(error)) throw new StoreConflictError();
      throw error;
    }
  }
}

export class Storage implements TenantDirectory, TenantRowPurger {
  readonly regions: readonly string[];
  /** Tenants' wrapped data keys (encryption at rest); `tenantKeys.destroy(tenantId)` crypto-shreds a tenant. */
  readonly tenantKeys: TenantKeyStore;
  private readonly tenantData = new WeakMap<Tenant, TenantData>();

  private constructor(
    readonly kind: StorageConfig['kind'],
    readonly directory: Kysely<GlobalDatabase>,
    private readonly regionStores: ReadonlyMap<string, Kysely<RegionDatabase>>,
    keyProvider: KeyProvider,
  ) {
    this.regions = [...regionStores.keys()];
    this.tenantKeys = new TenantKeyStore(directory, keyProvider);
  }

  /**
   * Opens (without migrating) the directory and one store per region. The master key comes from
   * `keyProvider`, else from the environment (`masterKeyFromEnvironment`).
   */
  static open(config: StorageConfig, regions: readonly string[], keyProvider?: KeyProvider): Storage {
    if (config.kind === 'sqlite') {
      const stores = new Map(regions.map((r) => [r, openSqlite<RegionDatabase>(join(config.dataDir, `region-${r}.db`))]));
      const keys = keyProvider ?? masterKeyFromEnvironment(process.env, config.dataDir);
      return new Storage('sqlite', openSqlite<GlobalDatabase>(join(config.dataDir, 'directory.db')), stores, keys);
    }
    const stores = new Map(
      regions.map((r) => {
        const url = config.regionUrls[r];
        if (!url) throw new Error(`No PostgreSQL database is configured for region "${r}" (CUSTOS_REGION_DATABASE_URLS).`);
        return [r, openPostgres<RegionDatabase>(url, config.maxConnections)];
      }),
    );
    const keys = keyProvider ?? masterKeyFromEnvironment(process.env, config.keyDir);
    return new Storage('postgres', openPostgres<GlobalDatabase>(config.directoryUrl, config.maxConnections), stores, keys);
  }

  /** Brings every store to the latest schema and checks that each region store is the one it claims. */
  async migrate(): Promise<MigrationReport[]> {
    const reports = [await runMigrations(this.directory as Kysely<unknown>, globalMigrations, 'directory')];
    for (const [region, db] of this.regionStores) {
      const report = await runMigrations(db as Kysely<unknown>, regionMigrations, `region ${region}`);
      reports.push(report);
      // One-time step: values stored in clear before encryption at rest are encrypted now.
      if (report.applied.includes('0012-encryption-at-rest')) {
        await encryptLegacyDeviceValues(db, (tenantId) => this.tenantKeys.cipher(tenantId));
      }
      if (report.applied.includes('0016-identity-encryption')) {
        for (const spec of IDENTITY_SEALED_TABLES) await encryptLegacyValues(db, spec, (tenantId) => this.tenantKeys.cipher(tenantId));
      }
      const auditPending = await db.selectFrom('store_meta').select('key').where('key', '=', AUDIT_ENCRYPTION_PENDING).executeTakeFirst();
      if (auditPending) {
        for (const spec of AUDIT_SEALED_TABLES) await encryptLegacyValues(db, spec, (tenantId) => this.tenantKeys.cipher(tenantId));
        await db.deleteFrom('store_meta').where('key', '=', AUDIT_ENCRYPTION_PENDING).execute();
      }
      await db
        .insertInto('store_meta')
        .values({ key: 'region', value: region })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
    }
    await this.verifyRegionStores();
    for (const name of SERVER_SECRETS) {
      await this.directory
        .insertInto('server_secrets')
        .values({ name, value: randomBytes(32).toString('base64url'), created_at: Date.now() })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    }
    return reports;
  }

  async verifyRegionStores(): Promise<void> {
    for (const [region, db] of this.regionStores) {
      const row = await db.selectFrom('store_meta').select('value').where('key', '=', 'region').executeTakeFirst();
      if (row && row.value !== region) throw new RegionStoreMismatchError(region, row.value);
    }
  }

  async readSecret(name: string): Promise<string> {
    const row = await this.directory.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirst();
    if (!row) throw new Error(`Server secret "${name}" is missing; run "custos migrate".`);
    return row.value;
  }

  async insertTenant(t: Tenant): Promise<void> {
    await this.directory
      .insertInto('tenants')
      .values({
        id: t.id,
        name: t.name,
        region: t.region,
        subscription_state: t.subscriptionState,
        created_at: t.createdAt,
        purged_at: null,
        state_changed_at: t.createdAt,
        subscription_ends_at: null,
        deletion_requested_at: null,
        purge_receipt: null,
      })
      .execute();
  }

  async deleteTenant(id: string): Promise<void> {
    await this.directory.deleteFrom('tenants').where('id', '=', id).execute();
  }

  async findTenant(id: string): Promise<Tenant | undefined> {
    const row = await this.directory
      .selectFrom('tenants')
      .selectAll()
      .where('id', '=', id)
      .where('purged_at', 'is', null)
      .executeTakeFirst();
    return row && toTenant(row);
  }

  async listTenants(): Promise<Tenant[]> {
    const rows = await this.directory.selectFrom('tenants').selectAll().where('purged_at', 'is', null).orderBy('created_at').execute();
    return rows.map(toTenant);
  }

  openTenantData(tenant: Tenant): TenantData {
    // One handle per tenant record: the tenant cache hands out the same record until it refreshes
    // it, and the handle holds nothing but the record's store, guard and keys.
    let data = this.tenantData.get(tenant);
    if (!data) {
      data = this.bindTenantData(tenant);
      this.tenantData.set(tenant, data);
    }
    return data;
  }

  private bindTenantData(tenant: Tenant): TenantData {
    const db = this.regionStores.get(tenant.region);
    // A tenant whose region has no store here is refused rather than written anywhere else.
    if (!db) throw new Error(`Region "${tenant.region}" of tenant ${tenant.id} has no store in this deployment.`);
    // The subscription state limits writes here, where every path meets (storage/lifecycle-write-guard.ts).
    const guard = lifecycleWriteGuard(tenant.id, tenant.subscriptionState);
    return new RegionTenantData(tenant.id, tenant.region, guard ? db.withPlugin(guard) : db, (options) =>
      this.tenantKeys.cipher(tenant.id, options),
    );
  }

  /** Deletes every row of the tenant from its own region's store (storage/tenant-purge.ts). */
  purgeTenantRows(tenant: Tenant): Promise<Record<string, number>> {
    return purgeTenantRows(this.regionStoreOf(tenant), tenant.id);
  }

  countTenantRows(tenant: Tenant): Promise<Record<string, number>> {
    return countTenantRows(this.regionStoreOf(tenant), tenant.id);
  }

  private regionStoreOf(tenant: Tenant): Kysely<RegionDatabase> {
    const db = this.regionStores.get(tenant.region);
    if (!db) throw new Error(`Region "${tenant.region}" of tenant ${tenant.id} has no store in this deployment.`);
    return db;
  }

  /**
   * Raw read access to one region's store, for locality checks (tests, `custos doctor`-style
   * inspection). Not used by any request path.
   */
  inspectRegionStore(region: string): Kysely<RegionDatabase> {
    const db = this.regionStores.get(region);
    if (!db) throw new Error(`No store for region "${region}".`);
    return db;
  }

  async close(): Promise<void> {
    await Promise.all([this.directory.destroy(), ...[...this.regionStores.values()].map((db) => db.destroy())]);
  }
}
