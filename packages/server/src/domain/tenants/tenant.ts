export const SUBSCRIPTION_STATES = ['active', 'warning', 'suspended', 'retention', 'purged'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/** What the global directory knows of a tenant: nothing but id, name, region and subscription state. */
export interface Tenant {
  id: string;
  name: string;
  region: string;
  subscriptionState: SubscriptionState;
  createdAt: number;
}

/** Everything else about a tenant, kept in its region's store. */
export interface TenantSettings {
  name: string;
  country: string;
  adminEmail: string | null;
  privacyStatement: { version: string; text: string | null; url: string | null };
  supportContact: string | null;
  checkInIntervalSeconds: number;
  /** The compliance state of a device no compliance policy applies to (SPEC §6). */
  noPolicyComplianceState: 'compliant' | 'noncompliant';
  createdAt: number;
}
