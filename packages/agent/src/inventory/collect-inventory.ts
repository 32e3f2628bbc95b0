import type { AppInventoryScope, InventoryDocument } from '@custos/shared';
import { agentPlatform, type AgentPlatform } from '../agent-platform.js';
import { collectInstalledApps, selectReportedApps } from './apps.js';
import { collectHardware } from './hardware.js';

function currentPlatform(): AgentPlatform {
  const platform = agentPlatform();
  if (!platform) throw new Error(`custos-agent cannot collect an inventory on ${process.platform}.`);
  return platform;
}

/**
 * Collects this device's inventory document: the catalog's hardware fields for the platform and
 * the apps `scope` allows. Without arguments: this machine's platform, every app.
 */
export async function collectInventory(
  platform: AgentPlatform = currentPlatform(),
  scope: AppInventoryScope = 'all',
): Promise<InventoryDocument> {
  const [hardware, apps] = await Promise.all([
    collectHardware(platform),
    // A personal device reports managed apps only, and the agent installs none yet: skip the scan.
    scope === 'managed-only' ? Promise.resolve([]) : collectInstalledApps(platform),
  ]);
  return { hardware, apps: selectReportedApps(apps, scope) };
}
