import { randomUUID } from 'node:crypto';
import type { Actor } from '../access/authorize.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { TenantData } from '../tenant-data.js';
import { createCertificateAuthority } from '../enrollment/certificate-authority.js';
import { isCountryCode, regionForCountry, type RegionMap } from './region-map.js';
import { DEFAULT_BRANDING, DEFAULT_IDENTITY_SETTINGS, type Tenant, type TenantSettings } from './tenant.js';
import type { TenantChangeFeed } from './tenant-changes.js';
import type { TenantDirectory } from './tenant-stores.js';

export interface CreateTenantInput {
  name: string;
  country: string;
  adminEmail?: string;
  privacyStatementText?: string;
  privacyStatementUrl?: string;
  supportContact?: string;
}

const TENANT_CREATOR: Actor = { type: 'system', id: 'cli', name: 'custos tenant create' };

export const DEFAULT_CHECKIN_INTERVAL_SECONDS = 8 * 60 * 60;
export const DEFAULT_PRIVACY_STATEMENT_VERSION = '1';

export class TenantService {
  /**
   * Directory entries change rarely (region never); a short cache keeps them off the hot path. A
   * change made by any process of the deployment drops the entry everywhere (`changed`, `follow`).
   */
  private readonly cache = new Map<string, { tenant: Tenant; until: number }>();
  private readonly settingsCache = new Map<string, { settings: TenantSettings; until: number }>();
  private changes: TenantChangeFeed | undefined;

  constructor(
    private readonly directory: TenantDirectory,
    private readonly regionMap: RegionMap,
    private readonly clock: Clock,
    private readonly cacheMillis = 30_000,
  ) {}

  async create(input: CreateTenantInput): Promise<{ tenant: Tenant; settings: TenantSettings }> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 200) throw new DomainError('validation-failed', 'The tenant name must be 1 to 200 characters.');
    const country = input.country.trim().toUpperCase();
    if (!isCountryCode(country))
      throw new DomainError('validation-failed', `"${input.country}" is not an ISO 3166-1 alpha-2 country code.`);
    if (input.adminEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input.adminEmail)) {
      throw new DomainError('validation-failed', `"${input.adminEmail}" is not an email address.`);
    }
    const region = regionForCountry(this.regionMap, country);
    if (!this.directory.regions.includes(region)) {
      throw new DomainError('validation-failed', `Country ${country} maps to region "${region}", which this deployment has no store for.`);
    }
    const now = this.clock.now();
    const tenant: Tenant = { id: randomUUID(), name, region, subscriptionState: 'active', createdAt: now };
    const settings: TenantSettings = {
      name,
      country,
      adminEmail: input.adminEmail ?? null,
      privacyStatement: {
        version: DEFAULT_PRIVACY_STATEMENT_VERSION,
        text: input.privacyStatementText ?? null,
        url: input.privacyStatementUrl ?? null,
      },
      supportContact: input.supportContact ?? input.adminEmail ?? null,
      checkInIntervalSeconds: DEFAULT_CHECKIN_INTERVAL_SECONDS,
      noPolicyComplianceState: 'compliant',
      identity: { ...DEFAULT_IDENTITY_SETTINGS },
      branding: { ...DEFAULT_BRANDING },
      createdAt: now,
    };
    const ca = await createCertificateAuthority(tenant.id, name, now);
    // Two databases, no distributed transaction: the directory entry goes first and is removed again
    // if the region store refuses the tenant's rows, so neither side is left half-created.
    await this.directory.insertTenant(tenant);
    try {
      await this.directory.openTenantData(tenant).transaction(async (data) => {
        await data.settings.insert(settings);
        await data.certificateAuthority.insert(ca);
        // The first event of the tenant's audit chain.
        await recordAudit(data, TENANT_CREATOR, this.clock, {
          activity: 'Create tenant',
          category: 'Tenant',
          operation: 'create',
          targets: [
            {
              type: 'tenant',
              id: tenant.id,
              name,
              modifiedProperties: changedProperties(undefined, { name, country, region, adminEmail: settings.adminEmail }),
            },
          ],
        });
      });
    } catch (error) {
      await this.directory.deleteTenant(tenant.id);
      throw error;
    }
    return { tenant, settings };
  }

  list(): Promise<Tenant[]> {
    return this.directory.listTenants();
  }

  async get(id: string): Promise<Tenant> {
    const cached = this.cache.get(id);
    const now = this.clock.now();
    if (cached && cached.until > now) return cached.tenant;
    const tenant = await this.directory.findTenant(id);
    if (!tenant) throw new DomainError('tenant-not-found', `No tenant has the id ${id}.`);
    this.cache.set(id, { tenant, until: now + this.cacheMillis });
    return tenant;
  }

  /** The tenant's stores, bound to its region. */
  async data(id: string): Promise<TenantData> {
    return this.directory.openTenantData(await this.get(id));
  }

  dataOf(tenant: Tenant): TenantData {
    return this.directory.openTenantData(tenant);
  }

  /** Drops the cached directory entry of a tenant (this process only; `changed` tells every process). */
  private forgetTenant(id: string): void {
    this.cache.delete(id);
  }

  /**
   * After a tenant's directory entry changed (lifecycle transition, purge): drops this process's
   * cached entry and settings and tells every other process of the deployment to do the same.
   */
  async changed(id: string): Promise<void> {
    this.forgetTenant(id);
    this.forgetSettings(id);
    // Best effort, like every wake-up: a lost announcement leaves other processes' entries to expire,
    // and the region store refuses a purged tenant's writes whatever they cached.
    await this.changes?.publishTenantChange(id).catch(() => undefined);
  }

  /** Follows the deployment's tenant changes (tenant-changes.ts): each drops the cached copies here. */
  follow(changes: TenantChangeFeed): void {
    this.changes = changes;
    changes.onTenantChange((id) => {
      if (id === null) {
        this.cache.clear();
        this.settingsCache.clear();
        return;
      }
      this.forgetTenant(id);
      this.forgetSettings(id);
    });
  }

  /** Drops the cached settings of a tenant after they changed, so this process reads them anew. */
  forgetSettings(id: string): void {
    this.settingsCache.delete(id);
  }

  async settings(id: string): Promise<TenantSettings> {
    const cached = this.settingsCache.get(id);
    const now = this.clock.now();
    if (cached && cached.until > now) return cached.settings;
    const settings = await (await this.data(id)).settings.get();
    if (!settings) {
      // Purged by another process: the cached directory entry is stale too, so the next call re-reads it.
      this.forgetTenant(id);
      throw new DomainError('tenant-not-found', `Tenant ${id} has no settings in its region store.`);
    }
    this.settingsCache.set(id, { settings, until: now + this.cacheMillis });
    return settings;
  }
}
