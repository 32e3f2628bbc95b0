/**
 * The agent's state directory: one `state.json` holding the device identity (including the private
 * key, which never leaves this file), the request counter and what was last reported. The file is
 * readable by its owner only and replaced atomically, so a crash or power loss mid-write leaves
 * either the old state or the new one, never a torn file that would orphan the device.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppInventoryScope, InventoryDocument, Ownership } from '@custos/shared';
import type { AgentPlatform } from './agent-platform.js';
import { UsageError } from './agent-errors.js';

export const STATE_FILE = 'state.json';
const STATE_VERSION = 1;

export interface CheckInSchedule {
  initialIntervalSeconds: number;
  initialPeriodSeconds: number;
  intervalSeconds: number;
}

export interface CachedSession {
  token: string;
  /** base64url HMAC key; as secret as the private key while it lives. */
  key: string;
  expiresAt: string;
}

export interface AgentState {
  version: typeof STATE_VERSION;
  serverUrl: string;
  tenantId: string;
  deviceId: string;
  ownership: Ownership;
  platform: AgentPlatform;
  /** PKCS#8 PEM, ECDSA P-256. */
  privateKeyPem: string;
  certificatePem: string;
  caCertificatePem: string;
  /** The last sequence number used; every device request uses a larger one (replay protection). */
  seq: number;
  session: CachedSession | null;
  /** The last inventory the server accepted, the base of the next delta. */
  lastSentInventory: InventoryDocument | null;
  lastSentDigest: string | null;
  appInventoryScope: AppInventoryScope;
  schedule: CheckInSchedule;
  /** What the server asked for at the last check-in. */
  nextCheckInSeconds: number | null;
  consent: { privacyStatementVersion: string; method: 'interactive' | 'unattended' };
  enrolledAt: string;
  lastSyncAt: string | null;
  /** Configuration profiles this agent installed (absent before the first profile sync); see profiles/apply-profiles.ts. */
  profiles?: InstalledProfiles;
}

/** What the agent wrote for each profile, so that removing one removes exactly those files. */
export interface InstalledProfile {
  version: number;
  kind: string;
  /** Absolute paths of the files written for it. */
  files: string[];
  /** What makes the files take effect: e.g. NetworkManager's reload, the trust store's update. */
  activations: string[];
  status: 'succeeded' | 'failed' | 'notApplicable';
  reason?: string;
  /** WireGuard, when the device generated the key: kept across versions so peers need not change. */
  wireguardPrivateKey?: string;
  publicKey?: string;
}

export interface InstalledProfiles {
  /** The digest of the set last applied with no failure; null makes the next check-in apply it again. */
  appliedDigest: string | null;
  /** Whether the files were applied to the real system (system commands run on removal too). */
  real?: boolean;
  installed: Record<string, InstalledProfile>;
  /** The files of the merged restrictions, which belong to all restrictions profiles together. */
  restrictions: { files: string[]; activations: string[] } | null;
}

export function statePath(dir: string): string {
  return join(dir, STATE_FILE);
}

/** Creates the directory owner-only; an existing directory is left as its owner set it up. */
export async function ensureStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const REQUIRED_STRINGS = ['serverUrl', 'tenantId', 'deviceId', 'privateKeyPem', 'enrolledAt'] as const;

/** The enrolled state, or `undefined` when the directory holds none. */
export async function readState(dir: string): Promise<AgentState | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(dir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${statePath(dir)} is not valid JSON; restore it from a backup or enroll into a new state directory.`);
  }
  if (
    !isRecord(parsed) ||
    parsed['version'] !== STATE_VERSION ||
    REQUIRED_STRINGS.some((k) => typeof parsed[k] !== 'string') ||
    typeof parsed['seq'] !== 'number'
  ) {
    throw new UsageError(`${statePath(dir)} is not a custos-agent state file this version understands.`);
  }
  return parsed as unknown as AgentState;
}

export async function requireState(dir: string): Promise<AgentState> {
  const state = await readState(dir);
  if (!state) throw new UsageError(`This device is not enrolled (no ${STATE_FILE} in ${dir}). Run "custos-agent enroll" first.`);
  return state;
}

/** Writes to a temporary file in the same directory, flushes it, then renames it over the old one. */
export async function writeState(dir: string, state: AgentState): Promise<void> {
  const target = statePath(dir);
  const temporary = join(dir, `.${STATE_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    // The mode given to open() is filtered by the umask; make sure it is exactly owner-only.
    await handle.chmod(0o600);
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** Makes the rename itself durable. POSIX only: Windows cannot open a directory for flushing. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Removes the state, and with it the private key. Deleting a file does not scrub the disk blocks
 * it used; the server has revoked the credential by then, which is what makes the key useless.
 */
export async function deleteState(dir: string): Promise<void> {
  await rm(statePath(dir), { force: true });
}
