import type { KeyProvider } from './key-provider.js';
import type { TenantCipher } from './tenant-cipher.js';

/**
 * The store of tenants' wrapped data keys (storage/tenant-key-store.ts), kept outside the region
 * stores. `destroy` is the crypto-shredding step of a purge.
 */
export interface TenantKeys {
  cipher(tenantId: string, options?: { refresh?: boolean }): Promise<TenantCipher>;
  addVersion(tenantId: string): Promise<TenantCipher>;
  retireVersionsBefore(tenantId: string, version: number): Promise<number>;
  destroy(tenantId: string): Promise<void>;
  rewrap(next: KeyProvider): Promise<{ rewrapped: number }>;
}
