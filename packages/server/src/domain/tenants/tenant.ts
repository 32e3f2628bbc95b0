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
  identity: IdentitySettings;
  branding: Branding;
  createdAt: number;
}

/** How the portals present the organization. */
export interface Branding {
  /** Shown in the portals' header instead of the tenant name. */
  displayName: string | null;
  /** `#rrggbb`; the portals' accent colour. */
  accentColor: string | null;
}

export const DEFAULT_BRANDING: Branding = { displayName: null, accentColor: null };

export function brandingFrom(json: string | null): Branding {
  return json === null ? { ...DEFAULT_BRANDING } : { ...DEFAULT_BRANDING, ...(JSON.parse(json) as Partial<Branding>) };
}

/** How people sign in to this tenant (SPEC §5); every field has a safe default. */
export interface IdentitySettings {
  /** Users holding any admin role must complete MFA before the session may do anything else. */
  mfaRequiredForAdmins: boolean;
  /** A session unused this long is revoked on its next request. */
  sessionIdleMinutes: number;
  /** A session ends this long after sign-in, however active. */
  sessionAbsoluteHours: number;
  passwordMinLength: number;
}

export const DEFAULT_IDENTITY_SETTINGS: IdentitySettings = {
  mfaRequiredForAdmins: true,
  sessionIdleMinutes: 30,
  sessionAbsoluteHours: 12,
  passwordMinLength: 12,
};

/** Stored settings over the defaults: a setting added later reads as its default for older tenants. */
export function identitySettingsFrom(json: string | null): IdentitySettings {
  if (json === null) return { ...DEFAULT_IDENTITY_SETTINGS };
  return { ...DEFAULT_IDENTITY_SETTINGS, ...(JSON.parse(json) as Partial<IdentitySettings>) };
}
