/** Installed applications on macOS, as System Information lists them. */
import type { AppRecord } from '@custos/shared';
import { runCommand } from './run-command.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/**
 * Parses `system_profiler SPApplicationsDataType -json`. The output has no bundle identifier, so
 * apps are identified by name and path (see `appKey` in shared); the size is not reported either.
 */
export function parseSystemProfilerApplications(json: string): AppRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  const entries = isRecord(parsed) ? parsed['SPApplicationsDataType'] : undefined;
  if (!Array.isArray(entries)) return [];
  const apps: AppRecord[] = [];
  for (const entry of entries) {
    if (!isRecord(entry)) continue;
    const name = stringOrNull(entry['_name']);
    if (name === null) continue;
    apps.push({
      name,
      version: stringOrNull(entry['version']),
      appId: null,
      installLocation: stringOrNull(entry['path']),
      sizeBytes: null,
      managed: false,
    });
  }
  return apps;
}

export async function collectMacApplications(): Promise<AppRecord[]> {
  // system_profiler walks every volume for app bundles; a minute or more is not unusual.
  const output = await runCommand('system_profiler', ['SPApplicationsDataType', '-json'], { timeoutMs: 300_000 });
  return output === undefined ? [] : parseSystemProfilerApplications(output);
}
