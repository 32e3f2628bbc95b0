import type { TenantData } from '../tenant-data.js';
import type { Tenant, TenantSettings } from './tenant.js';

/**
 * The global directory. `openTenantData` is the only way to reach a tenant's rows: it binds the
 * tenant to its own region's store, so code holding a `TenantData` cannot address another region.
 */
export interface TenantDirectory {
  readonly regions: readonly string[];
  insertTenant(tenant: Tenant): Promise<void>;
  deleteTenant(id: string): Promise<void>;
  findTenant(id: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;
  openTenantData(tenant: Tenant): TenantData;
}

export interface TenantSettingsStore {
  insert(settings: TenantSettings): Promise<void>;
  get(): Promise<TenantSettings | undefined>;
  setNoPolicyComplianceState(state: TenantSettings['noPolicyComplianceState'], at: number): Promise<void>;
  setIdentitySettings(settings: TenantSettings['identity'], at: number): Promise<void>;
  setPortalSettings(settings: Pick<TenantSettings, 'privacyStatement' | 'supportContact' | 'branding'>, at: number): Promise<void>;
}

export interface CertificateAuthorityRecord {
  certificatePem: string;
  privateKeyPkcs8: string;
  createdAt: number;
}

export interface CertificateAuthorityStore {
  insert(ca: CertificateAuthorityRecord): Promise<void>;
  get(): Promise<CertificateAuthorityRecord | undefined>;
}
