/**
 * The inventory document a device reports (SPEC §11): `{ "hardware": {...}, "apps": [{...}] }`,
 * validated against the privacy catalog. Validation collects every offending field (not only the
 * first) so a refusal names all of them at once.
 */
import type { FieldIssue } from './errors.js';
import { appField, hardwareField, prohibitedCategoryOf, type CatalogField } from './privacy-catalog.js';
import type { Platform } from './platforms.js';

export type HardwareValue = string | number | boolean | null;
export type HardwareInventory = Record<string, HardwareValue>;

export interface AppRecord {
  name: string;
  version?: string | null;
  appId?: string | null;
  installLocation?: string | null;
  sizeBytes?: number | null;
  managed?: boolean | null;
}

export interface InventoryDocument {
  hardware: HardwareInventory;
  apps: AppRecord[];
}

/** The most apps one document may list; far above any real device, low enough to bound memory. */
export const MAX_APPS_PER_DOCUMENT = 20_000;

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuseUndeclared(path: string, name: string, where: string): FieldIssue {
  const category = prohibitedCategoryOf(name);
  return category
    ? { field: path, reason: 'prohibited', category, message: `Custos never collects ${category} data.` }
    : { field: path, reason: 'undeclared', message: `${where} does not declare the field "${name}".` };
}

function checkValue(path: string, field: CatalogField, value: unknown, issues: FieldIssue[]): void {
  if (value === null) return; // a platform that cannot report a value sends null, never a guess
  switch (field.valueType) {
    case 'string':
    case 'timestamp':
      if (typeof value !== 'string') {
        issues.push({ field: path, reason: 'invalid-type', message: `Expected a string or null.` });
      } else if (field.maxLength !== undefined && value.length > field.maxLength) {
        issues.push({ field: path, reason: 'too-long', message: `At most ${field.maxLength} characters.` });
      } else if (field.allowedValues !== undefined && !field.allowedValues.includes(value)) {
        issues.push({ field: path, reason: 'invalid-type', message: `Expected one of ${field.allowedValues.join(', ')}, or null.` });
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') issues.push({ field: path, reason: 'invalid-type', message: `Expected true, false or null.` });
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        issues.push({ field: path, reason: 'invalid-type', message: `Expected a non-negative whole number or null.` });
      }
      return;
  }
}

/** Validates hardware fields; with `platform`, platform extras not declared for it are refused too. */
export function validateHardware(value: unknown, path: string, issues: FieldIssue[], platform?: Platform): HardwareInventory {
  if (!isPlainObject(value)) {
    issues.push({ field: path, reason: 'invalid-type', message: 'Expected an object of hardware fields.' });
    return {};
  }
  for (const [name, fieldValue] of Object.entries(value)) {
    const field = hardwareField(name);
    const fieldPath = `${path}.${name}`;
    if (!field) {
      issues.push(refuseUndeclared(fieldPath, name, 'The privacy catalog'));
    } else if (platform && !field.platforms.includes(platform)) {
      issues.push({ field: fieldPath, reason: 'undeclared', message: `The privacy catalog does not declare "${name}" for ${platform}.` });
    } else {
      checkValue(fieldPath, field, fieldValue, issues);
    }
  }
  return value as HardwareInventory;
}

export function validateApps(value: unknown, path: string, issues: FieldIssue[]): AppRecord[] {
  if (!Array.isArray(value)) {
    issues.push({ field: path, reason: 'invalid-type', message: 'Expected an array of apps.' });
    return [];
  }
  if (value.length > MAX_APPS_PER_DOCUMENT) {
    issues.push({ field: path, reason: 'too-long', message: `At most ${MAX_APPS_PER_DOCUMENT} apps per document.` });
    return [];
  }
  value.forEach((entry, index) => {
    const entryPath = `${path}[${index}]`;
    if (!isPlainObject(entry)) {
      issues.push({ field: entryPath, reason: 'invalid-type', message: 'Expected an app object.' });
      return;
    }
    if (typeof entry['name'] !== 'string' || entry['name'].length === 0) {
      issues.push({ field: `${entryPath}.name`, reason: 'required', message: 'Every app needs a name.' });
    }
    for (const [name, fieldValue] of Object.entries(entry)) {
      const field = appField(name);
      if (!field) issues.push(refuseUndeclared(`${entryPath}.${name}`, name, 'The privacy catalog'));
      else checkValue(`${entryPath}.${name}`, field, fieldValue, issues);
    }
  });
  return value as AppRecord[];
}

/** Validates a whole inventory document against the catalog. */
export function validateInventoryDocument(input: unknown, platform?: Platform): ValidationResult<InventoryDocument> {
  const issues: FieldIssue[] = [];
  if (!isPlainObject(input)) {
    return { ok: false, issues: [{ field: '$', reason: 'invalid-type', message: 'Expected an inventory object.' }] };
  }
  for (const key of Object.keys(input)) {
    if (key !== 'hardware' && key !== 'apps') issues.push(refuseUndeclared(key, key, 'The inventory document'));
  }
  const hardware = validateHardware(input['hardware'] ?? {}, 'hardware', issues, platform);
  const apps = validateApps(input['apps'] ?? [], 'apps', issues);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: { hardware, apps } };
}

/** The identity of an app on one device: its app id, or its name and location when it has none. */
export function appKey(app: AppRecord): string {
  return app.appId ? `id:${app.appId}` : `name:${app.name}@${app.installLocation ?? ''}`;
}

/**
 * A canonical JSON text of an inventory (keys sorted, apps ordered by key), so the agent and the
 * server compute the same digest for the same inventory and a no-change check-in sends no inventory.
 */
export function canonicalInventoryJson(doc: InventoryDocument): string {
  const hardware = Object.fromEntries(
    Object.entries(doc.hardware)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const apps = [...doc.apps]
    .map((a) => [appKey(a), canonicalApp(a)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, a]) => a);
  return JSON.stringify({ hardware, apps });
}

function canonicalApp(app: AppRecord): AppRecord {
  return {
    name: app.name,
    version: app.version ?? null,
    appId: app.appId ?? null,
    installLocation: app.installLocation ?? null,
    sizeBytes: app.sizeBytes ?? null,
    managed: app.managed ?? null,
  };
}

/** An inventory change relative to the inventory whose digest is `baseDigest`. */
export interface InventoryDelta {
  baseDigest: string;
  /** Hardware fields whose value changed (null when it can no longer be reported). */
  hardware?: HardwareInventory;
  /** Apps added or changed, whole. */
  upsertApps?: AppRecord[];
  /** Keys (see `appKey`) of apps no longer installed. */
  removeApps?: string[];
}

/** Computes the delta from `before` to `after`; `undefined` when nothing changed. */
export function diffInventory(before: InventoryDocument, after: InventoryDocument, baseDigest: string): InventoryDelta | undefined {
  const hardware: HardwareInventory = {};
  for (const [name, value] of Object.entries(after.hardware)) {
    if (before.hardware[name] !== value) hardware[name] = value;
  }
  for (const name of Object.keys(before.hardware)) {
    if (!(name in after.hardware)) hardware[name] = null;
  }
  const beforeApps = new Map(before.apps.map((a) => [appKey(a), JSON.stringify(canonicalApp(a))]));
  const afterKeys = new Set<string>();
  const upsertApps: AppRecord[] = [];
  for (const app of after.apps) {
    const key = appKey(app);
    afterKeys.add(key);
    if (beforeApps.get(key) !== JSON.stringify(canonicalApp(app))) upsertApps.push(app);
  }
  const removeApps = [...beforeApps.keys()].filter((key) => !afterKeys.has(key));
  if (Object.keys(hardware).length === 0 && upsertApps.length === 0 && removeApps.length === 0) return undefined;
  return { baseDigest, hardware, upsertApps, removeApps };
}

/** Applies a delta to an inventory (the server's view of the agent's `diffInventory`). */
export function applyInventoryDelta(doc: InventoryDocument, delta: InventoryDelta): InventoryDocument {
  const hardware = { ...doc.hardware, ...(delta.hardware ?? {}) };
  const apps = new Map(doc.apps.map((a) => [appKey(a), a]));
  for (const key of delta.removeApps ?? []) apps.delete(key);
  for (const app of delta.upsertApps ?? []) apps.set(appKey(app), app);
  return { hardware, apps: [...apps.values()] };
}
