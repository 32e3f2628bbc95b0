/**
 * Installed programs on Windows, from the Uninstall registry keys that "Apps & features" reads:
 * the machine-wide key in both registry views (64- and 32-bit programs) and the current user's.
 */
import type { AppRecord } from '@custos/shared';
import { runCommand } from './run-command.js';

const UNINSTALL_PATH = 'Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall';

export const UNINSTALL_QUERIES: readonly (readonly string[])[] = [
  ['query', `HKLM\\${UNINSTALL_PATH}`, '/s', '/reg:64'],
  ['query', `HKLM\\${UNINSTALL_PATH}`, '/s', '/reg:32'],
  ['query', `HKCU\\${UNINSTALL_PATH}`, '/s'],
];

interface RegistryKey {
  path: string;
  values: Map<string, { type: string; data: string }>;
}

/** Splits `reg query /s` output into keys and their values. */
function parseRegQuery(output: string): RegistryKey[] {
  const keys: RegistryKey[] = [];
  let current: RegistryKey | undefined;
  for (const rawLine of output.split(/\r?\n/)) {
    if (rawLine.trim() === '') continue;
    if (rawLine.startsWith('HKEY_')) {
      current = { path: rawLine.trim(), values: new Map() };
      keys.push(current);
      continue;
    }
    // `    <name>    <REG_TYPE>    <data>`: names may contain single spaces, the columns are four.
    const value = /^ {4}(.*?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/.exec(rawLine);
    if (current && value) current.values.set((value[1] ?? '').toLowerCase(), { type: value[2] ?? '', data: value[3] ?? '' });
  }
  return keys;
}

/** The subkey directly under `...\Uninstall`, or undefined for the Uninstall key itself and deeper keys. */
function uninstallEntryName(path: string): string | undefined {
  const segments = path.split('\\');
  const index = segments.findIndex((s) => s.toLowerCase() === 'uninstall');
  return index >= 0 && segments.length === index + 2 ? segments[index + 1] : undefined;
}

function dword(value: { type: string; data: string } | undefined): number | null {
  if (!value || value.type !== 'REG_DWORD' || !/^0x[0-9a-f]+$/i.test(value.data.trim())) return null;
  return Number.parseInt(value.data.trim(), 16);
}

/**
 * Parses `reg query <Uninstall key> /s`. The app id is the key name (a product code GUID for MSI
 * installs). Entries "Apps & features" hides are skipped too: `SystemComponent` parts of a larger
 * product, and updates that name a `ParentKeyName`.
 */
export function parseUninstallKeys(output: string): AppRecord[] {
  const apps: AppRecord[] = [];
  for (const key of parseRegQuery(output)) {
    const id = uninstallEntryName(key.path);
    const name = key.values.get('displayname')?.data.trim();
    if (!id || !name) continue;
    if (dword(key.values.get('systemcomponent')) === 1 || key.values.has('parentkeyname')) continue;
    const sizeKiB = dword(key.values.get('estimatedsize'));
    apps.push({
      name,
      version: key.values.get('displayversion')?.data.trim() || null,
      appId: id,
      installLocation: key.values.get('installlocation')?.data.trim() || null,
      sizeBytes: sizeKiB === null ? null : sizeKiB * 1024,
      managed: false,
    });
  }
  return apps;
}

export async function collectWindowsPrograms(): Promise<AppRecord[]> {
  const outputs = await Promise.all(UNINSTALL_QUERIES.map((args) => runCommand('reg', args)));
  return outputs.flatMap((output) => (output === undefined ? [] : parseUninstallKeys(output)));
}
