/** Platforms Custos can manage. The agent covers the desktop ones; Apple MDM covers iOS/iPadOS/macOS. */
export const PLATFORMS = ['linux', 'macos', 'windows', 'ios', 'ipados', 'android'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const OWNERSHIPS = ['corporate', 'personal'] as const;
export type Ownership = (typeof OWNERSHIPS)[number];

export const MANAGEMENT_CHANNELS = ['agent', 'apple-mdm'] as const;
export type ManagementChannel = (typeof MANAGEMENT_CHANNELS)[number];

export const COMPLIANCE_STATES = ['compliant', 'noncompliant', 'inGracePeriod', 'unknown', 'error'] as const;
export type ComplianceState = (typeof COMPLIANCE_STATES)[number];

export function isPlatform(value: string): value is Platform {
  return (PLATFORMS as readonly string[]).includes(value);
}
