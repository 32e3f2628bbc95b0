import type { AppInventoryScope, InventoryDocument } from '@custos/shared';
import type { AgentPlatform } from '../agent-platform.js';
import { collectInstalledApps, selectReportedApps } from './apps.js';
import { collectHardware } from './hardware.js';

/** Collects this device's inventory document: catalog hardware fields and the apps `scope` allows. */
export async function collectInventory(platform: AgentPlatform, scope: AppInventoryScope): Promise<InventoryDocument> {
  const [hardware, apps] = await Promise.all([
    collectHardware(platform),
    // A personal device reports managed apps only, and the agent installs none yet: skip the scan.
    scope === 'managed-only' ? Promise.resolve([]) : collectInstalledApps(platform),
  ]);
  return { hardware, apps: selectReportedApps(apps, scope) };
}
