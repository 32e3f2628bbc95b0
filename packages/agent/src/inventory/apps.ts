import { appKey, type AppInventoryScope, type AppRecord } from '@custos/shared';
import type { AgentPlatform } from '../agent-platform.js';
import { fitApp } from './catalog-fit.js';
import { collectLinuxPackages } from './linux-packages.js';
import { collectMacApplications } from './macos-applications.js';
import { collectWindowsPrograms } from './windows-uninstall-keys.js';

export function collectInstalledApps(platform: AgentPlatform): Promise<AppRecord[]> {
  switch (platform) {
    case 'linux':
      return collectLinuxPackages();
    case 'macos':
      return collectMacApplications();
    case 'windows':
      return collectWindowsPrograms();
  }
}

/**
 * Data minimization at the source (SPEC §4): on a personal device only the apps the organization
 * manages leave the device. The server enforces the same rule; this makes sure the rest is never
 * even sent. Also drops values the catalog would refuse and duplicates (the same program listed in
 * two registry views, say), which would make the app list ambiguous.
 */
export function selectReportedApps(apps: readonly AppRecord[], scope: AppInventoryScope): AppRecord[] {
  const selected = new Map<string, AppRecord>();
  for (const app of apps) {
    if (scope === 'managed-only' && app.managed !== true) continue;
    const fitted = fitApp(app);
    if (!fitted) continue;
    const key = appKey(fitted);
    if (!selected.has(key)) selected.set(key, fitted);
  }
  return [...selected.values()];
}
