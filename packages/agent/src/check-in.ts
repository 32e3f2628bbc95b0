/**
 * One check-in (SPEC §6): report the inventory in as few bytes as the server's copy allows, and
 * learn the app scope and when to come back.
 *
 * The agent sends the digest of its new inventory, plus nothing (no change since the last inventory
 * the server accepted), a delta against that inventory, or the whole document (first sync,
 * `--full`, `--inventory-from`, or when the server cannot apply a delta). The server's answer
 * `required` or a 409 `inventory-base-mismatch` means its copy differs from ours: send it whole.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { diffInventory, type AppInventoryScope, type CheckInRequest, type CheckInResponse, type InventoryDocument } from '@custos/shared';
import type { AgentPlatform } from './agent-platform.js';
import { ServerProblemError, UsageError } from './agent-errors.js';
import type { DeviceClient } from './client.js';
import { collectInventory } from './inventory/collect-inventory.js';
import { inventoryDigest } from './inventory/inventory-digest.js';

export type InventorySent = 'digest' | 'delta' | 'full';

export interface CheckInPlan {
  sent: InventorySent;
  request: CheckInRequest;
}

export interface LastReport {
  inventory: InventoryDocument;
  digest: string;
}

/** Decides what to send. Pure: the rules above, given what the server last accepted. */
export function planCheckIn(last: LastReport | null, current: InventoryDocument, currentDigest: string, forceFull: boolean): CheckInPlan {
  if (forceFull || last === null) return fullReport(current, currentDigest);
  if (last.digest === currentDigest) return { sent: 'digest', request: { inventoryDigest: currentDigest } };
  const delta = diffInventory(last.inventory, current, last.digest);
  // Different digests yet no field-level difference (the server would not be able to reproduce the
  // digest from a delta): only the whole document settles it.
  if (delta === undefined) return fullReport(current, currentDigest);
  return { sent: 'delta', request: { inventoryDigest: currentDigest, delta } };
}

function fullReport(current: unknown, digest: string): CheckInPlan {
  return { sent: 'full', request: { inventoryDigest: digest, inventory: current } };
}

export type InventoryCollector = (platform: AgentPlatform, scope: AppInventoryScope) => Promise<InventoryDocument>;

export interface CheckInOptions {
  full?: boolean;
  /** A document to send as is, whole, instead of collecting one (other collectors, simulators, tests). */
  inventoryFromFile?: string;
  /** Replaces the built-in collection; it is given the app scope the server last asked for. */
  collect?: InventoryCollector;
}

export interface CheckInResult extends CheckInResponse {
  sent: InventorySent;
  inventoryDigest: string;
}

interface PreparedInventory {
  /** What the next delta is computed against once the server accepts it. */
  doc: InventoryDocument;
  digest: string;
  /** What a full report sends: the collected document, or a given file's JSON exactly as read. */
  wire: unknown;
}

/**
 * A document read from a file is sent as is and the server judges it. For the agent's own record
 * it is read the way the server reads it (a missing `hardware` or `apps` is empty); when it is not
 * even shaped like an inventory, the digest of its JSON text stands in, and the server's refusal is
 * what the user gets to see.
 */
function recordOfGivenDocument(wire: unknown): { doc: InventoryDocument; digest: string } {
  const given = (typeof wire === 'object' && wire !== null ? wire : {}) as Partial<InventoryDocument>;
  const doc = { hardware: given.hardware ?? {}, apps: given.apps ?? [] };
  try {
    return { doc, digest: inventoryDigest(doc) };
  } catch {
    return { doc, digest: createHash('sha256').update(JSON.stringify(wire)).digest('base64url') };
  }
}

async function readInventoryFile(file: string): Promise<PreparedInventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read --inventory-from ${file}: ${(error as Error).message}`);
  }
  let wire: unknown;
  try {
    wire = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--inventory-from ${file} is not JSON: ${(error as Error).message}`);
  }
  return { ...recordOfGivenDocument(wire), wire };
}

async function prepareInventory(client: DeviceClient, options: CheckInOptions): Promise<PreparedInventory> {
  if (options.inventoryFromFile !== undefined) return readInventoryFile(options.inventoryFromFile);
  const doc = await (options.collect ?? collectInventory)(client.state.platform, client.state.appInventoryScope);
  return { doc, digest: inventoryDigest(doc), wire: doc };
}

export async function checkIn(client: DeviceClient, options: CheckInOptions = {}): Promise<CheckInResult> {
  const { doc, digest, wire } = await prepareInventory(client, options);
  const { state } = client;
  const last =
    state.lastSentInventory && state.lastSentDigest ? { inventory: state.lastSentInventory, digest: state.lastSentDigest } : null;
  let plan = options.inventoryFromFile !== undefined ? fullReport(wire, digest) : planCheckIn(last, doc, digest, options.full === true);
  let response: CheckInResponse;
  try {
    response = await client.checkIn(plan.request);
  } catch (error) {
    if (!(error instanceof ServerProblemError && error.is(409, 'inventory-base-mismatch')) || plan.sent === 'full') throw error;
    plan = fullReport(wire, digest);
    response = await client.checkIn(plan.request);
  }
  if (response.inventory === 'required' && plan.sent !== 'full') {
    plan = fullReport(wire, digest);
    response = await client.checkIn(plan.request);
  }
  if (response.inventory === 'stored' || response.inventory === 'unchanged') {
    state.lastSentInventory = doc;
    state.lastSentDigest = digest;
  }
  state.appInventoryScope = response.appInventoryScope;
  state.nextCheckInSeconds = response.nextCheckInSeconds;
  state.lastSyncAt = new Date().toISOString();
  await client.save();
  return { ...response, sent: plan.sent, inventoryDigest: digest };
}
