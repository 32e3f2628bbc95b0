/**
 * A platform adapter turns delivered configuration profiles into what that platform applies (on
 * Linux: NetworkManager keyfiles, the system trust store, modprobe and dconf files). Adapters only
 * plan files and name what makes them take effect; `apply-profiles.ts` writes and removes the files
 * and records them, so removal is exact whatever the platform.
 */
import type { AgentProfileSet, DeliveredProfile, ProfileCertificate, ReportedProfileStatus } from '@custos/shared';
import type { InstalledProfile } from '../state.js';

/** What makes written or removed files take effect. */
export type Activation = 'networkmanager' | 'trust-store' | 'dconf';

export interface PlannedFile {
  /** Absolute, under the profile root. */
  path: string;
  content: string;
  mode: number;
}

export interface ProfilePlan {
  status: ReportedProfileStatus;
  reason?: string;
  files: PlannedFile[];
  activations: Activation[];
  wireguardPrivateKey?: string;
  publicKey?: string;
}

export interface AdapterContext {
  /** "/" in real mode; a directory of its own in root-less mode. */
  root: string;
  /** What was installed for this profile before, if anything. */
  previous: InstalledProfile | undefined;
  /** Everything installed so far in this run (a VPN finds its client certificate here). */
  installed: Readonly<Record<string, InstalledProfile>>;
  requestCertificate(profileId: string, csrPem: string): Promise<ProfileCertificate>;
}

export type MergedRestrictions = NonNullable<AgentProfileSet['restrictions']>;

export interface ProfileAdapter {
  plan(profile: DeliveredProfile, context: AdapterContext): Promise<ProfilePlan>;
  /** The files of the merged restrictions, and each contributing profile's status. */
  planRestrictions(
    restrictions: MergedRestrictions,
    profiles: readonly DeliveredProfile[],
    root: string,
  ): { files: PlannedFile[]; activations: Activation[]; outcomes: Map<string, { status: ReportedProfileStatus; reason?: string }> };
  /** Makes the changes take effect; returns why it could not, or undefined. Root-less mode runs nothing. */
  activate(activation: Activation): Promise<string | undefined>;
}

/** The adapter of a platform with none yet: every profile is `notApplicable`, with the reason. */
export function unsupportedAdapter(platform: string): ProfileAdapter {
  const reason = (kind: string) => `The Custos agent on ${platform} has no adapter for ${kind} profiles yet (only Linux has one so far).`;
  return {
    plan: (profile) => Promise.resolve({ status: 'notApplicable', reason: reason(profile.kind), files: [], activations: [] }),
    planRestrictions: (restrictions) => ({
      files: [],
      activations: [],
      outcomes: new Map(restrictions.profileIds.map((id) => [id, { status: 'notApplicable' as const, reason: reason('restrictions') }])),
    }),
    activate: () => Promise.resolve(undefined),
  };
}
