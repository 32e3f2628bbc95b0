/**
 * Applies the device's configuration profiles (SPEC §6) when the check-in's digest differs from the
 * one last applied: fetch the desired set, remove what is no longer in it (exactly the files
 * recorded for it), install what is new or changed through the platform adapter, make it take
 * effect, record what was written, and report a status per profile and the removals.
 *
 * Modes: real (root "/", runs nmcli / update-ca-certificates / dconf) or root-less
 * (`--profile-root DIR`: the same files under DIR, no system command), which tests and demos use.
 */
import { access, chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { DeliveredProfile, ProfileStatusReport } from '@custos/shared';
import type { AgentPlatform } from '../agent-platform.js';
import type { DeviceClient } from '../client.js';
import type { AgentState, InstalledProfile, InstalledProfiles } from '../state.js';
import { LinuxAdapter } from './linux-adapter.js';
import { unsupportedAdapter, type Activation, type PlannedFile, type ProfileAdapter } from './profile-adapter.js';

export interface ProfileOptions {
  /** Where files go: "/" in real mode. */
  root: string;
  /** Run the system commands that make changes take effect (never in root-less mode). */
  real: boolean;
}

/** The folder a root-less agent writes under when no `--profile-root` is given (simulate mode). */
export const DEFAULT_PROFILE_ROOT = 'profile-root';

/** `--profile-root` wins; simulate mode gets a root under the state directory; otherwise the real system. */
export function profileOptions(stateDir: string, profileRoot: string | undefined, actionsMode: 'real' | 'simulate'): ProfileOptions {
  if (profileRoot !== undefined) return { root: resolve(profileRoot), real: false };
  if (actionsMode === 'simulate') return { root: resolve(stateDir, DEFAULT_PROFILE_ROOT), real: false };
  return { root: '/', real: true };
}

export function adapterFor(platform: AgentPlatform, options: ProfileOptions): ProfileAdapter {
  return platform === 'linux' ? new LinuxAdapter(options.real) : unsupportedAdapter(platform);
}

export interface ProfileSyncResult {
  digest: string;
  results: ProfileStatusReport['results'];
  removed: string[];
}

const RESTRICTIONS_ORDER = 2;
/** Client certificates first: a VPN may authenticate with one installed in the same run. */
function installOrder(p: DeliveredProfile): number {
  if (p.kind === 'certificate') return 0;
  if (p.kind === 'restrictions') return RESTRICTIONS_ORDER;
  return 1;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes a file with exactly `mode` (the umask does not apply), replacing any old one atomically. */
async function writeExactly(file: PlannedFile): Promise<void> {
  await mkdir(dirname(file.path), { recursive: true, mode: 0o755 });
  const temporary = join(dirname(file.path), `.custos-${process.pid}-${Date.now()}.tmp`);
  const handle = await open(temporary, 'w', file.mode);
  try {
    await handle.chmod(file.mode);
    await handle.writeFile(file.content, 'utf8');
  } finally {
    await handle.close();
  }
  await rename(temporary, file.path);
  await chmod(file.path, file.mode);
}

async function removeFiles(paths: readonly string[]): Promise<void> {
  for (const path of paths) await rm(path, { force: true });
}

export async function syncProfiles(client: DeviceClient, options: ProfileOptions): Promise<ProfileSyncResult> {
  const set = await client.fetchProfiles();
  const adapter = adapterFor(client.state.platform, options);
  const previous: InstalledProfiles = client.state.profiles ?? { appliedDigest: null, installed: {}, restrictions: null };
  const installed: Record<string, InstalledProfile> = { ...previous.installed };
  const activations = new Set<Activation>();
  const activationsOf = new Map<string, readonly string[]>();
  const results: ProfileStatusReport['results'] = [];
  const wanted = new Set(set.profiles.map((p) => p.id));

  // Removal first: exactly the files recorded for each profile that is no longer wanted.
  const removed = new Set(set.remove);
  for (const [id, entry] of Object.entries(installed)) {
    if (wanted.has(id)) continue;
    await removeFiles(entry.files);
    for (const a of entry.activations) activations.add(a as Activation);
    delete installed[id];
    removed.add(id);
  }

  for (const profile of [...set.profiles].sort((a, b) => installOrder(a) - installOrder(b))) {
    const before = installed[profile.id];
    const intact =
      before !== undefined &&
      before.version === profile.version &&
      before.status === 'succeeded' &&
      profile.kind !== 'restrictions' &&
      (await Promise.all(before.files.map(exists))).every(Boolean);
    if (intact) {
      results.push({
        profileId: profile.id,
        version: profile.version,
        status: 'succeeded',
        ...(before.publicKey ? { publicKey: before.publicKey } : {}),
      });
      continue;
    }
    let entry: InstalledProfile;
    try {
      const plan = await adapter.plan(profile, {
        root: options.root,
        previous: before,
        installed,
        requestCertificate: (id, csr) => client.requestProfileCertificate(id, csr),
      });
      for (const file of plan.files) await writeExactly(file);
      const written = plan.files.map((f) => f.path);
      // Files an older version wrote that this one does not (a renamed CA file, say).
      await removeFiles((before?.files ?? []).filter((f) => !written.includes(f)));
      for (const a of [...plan.activations, ...(before?.activations ?? [])]) activations.add(a as Activation);
      entry = {
        version: profile.version,
        kind: profile.kind,
        files: written,
        activations: plan.activations,
        status: plan.status,
        ...(plan.reason === undefined ? {} : { reason: plan.reason }),
        ...(plan.wireguardPrivateKey === undefined ? {} : { wireguardPrivateKey: plan.wireguardPrivateKey }),
        ...(plan.publicKey === undefined ? {} : { publicKey: plan.publicKey }),
      };
    } catch (error) {
      entry = {
        version: profile.version,
        kind: profile.kind,
        files: before?.files ?? [],
        activations: before?.activations ?? [],
        status: 'failed',
        reason: error instanceof Error ? error.message : String(error),
      };
    }
    installed[profile.id] = entry;
    activationsOf.set(profile.id, entry.activations);
  }

  // The merged restrictions: one set of files for all restrictions profiles together.
  let restrictions = previous.restrictions;
  if (set.restrictions) {
    const plan = adapter.planRestrictions(set.restrictions, set.profiles, options.root);
    const written: string[] = [];
    let problem: string | undefined;
    try {
      for (const file of plan.files) {
        await writeExactly(file);
        written.push(file.path);
      }
      await removeFiles((restrictions?.files ?? []).filter((f) => !written.includes(f)));
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    for (const a of [...plan.activations, ...(restrictions?.activations ?? [])]) activations.add(a as Activation);
    // On failure the files of before stay recorded too, so a later removal still finds them.
    const kept = problem === undefined ? [] : (restrictions?.files ?? []).filter((f) => !written.includes(f));
    restrictions = { files: [...written, ...kept], activations: plan.activations };
    for (const [id, outcome] of plan.outcomes) {
      const entry = installed[id];
      const final = problem === undefined ? outcome : { status: 'failed' as const, reason: problem };
      if (entry) installed[id] = { ...entry, status: final.status, ...(final.reason === undefined ? {} : { reason: final.reason }) };
      activationsOf.set(id, plan.activations);
    }
  } else if (restrictions) {
    await removeFiles(restrictions.files);
    for (const a of restrictions.activations) activations.add(a as Activation);
    restrictions = null;
  }

  const failedActivations = new Map<string, string>();
  for (const activation of activations) {
    const problem = await adapter.activate(activation);
    if (problem !== undefined) failedActivations.set(activation, problem);
  }

  for (const profile of set.profiles) {
    const entry = installed[profile.id];
    if (!entry || results.some((r) => r.profileId === profile.id)) continue;
    const problem = (activationsOf.get(profile.id) ?? []).map((a) => failedActivations.get(a)).find((p) => p !== undefined);
    if (problem !== undefined && entry.status === 'succeeded') installed[profile.id] = { ...entry, status: 'failed', reason: problem };
    const final = installed[profile.id] ?? entry;
    results.push({
      profileId: profile.id,
      version: profile.version,
      status: final.status,
      ...(final.reason === undefined ? {} : { reason: final.reason }),
      ...(final.publicKey === undefined ? {} : { publicKey: final.publicKey }),
    });
  }

  const report: ProfileStatusReport = { digest: set.digest, results, removed: [...removed] };
  const allApplied = results.every((r) => r.status !== 'failed');
  // Recorded before the report leaves: a lost report is repeated at the next check-in, never a lost file record.
  client.state.profiles = { appliedDigest: null, real: options.real, installed, restrictions };
  await client.save();
  await client.reportProfileStatus(report);
  // A failure is tried again at the next check-in: the digest is only kept when everything applied.
  client.state.profiles = { appliedDigest: allApplied ? set.digest : null, real: options.real, installed, restrictions };
  await client.save();
  return { digest: set.digest, results, removed: [...removed] };
}

/**
 * Removes every file the agent wrote for profiles (the device is retired or leaves management:
 * SPEC §6, retire removes company profiles) and makes the removal take effect. Errors of the
 * system commands are returned, not thrown: leaving management must not stop half-way.
 */
export async function removeAllProfiles(state: AgentState): Promise<string[]> {
  const profiles = state.profiles;
  if (!profiles) return [];
  const activations = new Set<Activation>();
  for (const entry of [...Object.values(profiles.installed), ...(profiles.restrictions ? [profiles.restrictions] : [])]) {
    await removeFiles(entry.files);
    for (const a of entry.activations) activations.add(a as Activation);
  }
  const adapter = adapterFor(state.platform, { root: '/', real: profiles.real === true });
  const problems: string[] = [];
  for (const activation of activations) {
    const problem = await adapter.activate(activation);
    if (problem !== undefined) problems.push(problem);
  }
  delete state.profiles;
  return problems;
}

/** True when the check-in announced a profile set other than the one applied last. */
export function profilesChanged(announced: string | undefined, profiles: InstalledProfiles | undefined): boolean {
  return announced !== undefined && announced !== profiles?.appliedDigest;
}
