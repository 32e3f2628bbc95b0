/** What other packages (the end-to-end tests, other collectors) may use of the agent. */
export { agentPlatform, type AgentPlatform } from './agent-platform.js';
export { normalizeReportedValue } from './inventory/normalize-reported-value.js';
export { collectInventory } from './inventory/collect-inventory.js';
export {
  collectSystemFacts,
  hardwareFromFacts,
  describeProcessor,
  firstMac,
  normalizeMac,
  type SystemFacts,
} from './inventory/hardware.js';
export { selectReportedApps } from './inventory/apps.js';
export { inventoryDigest } from './inventory/inventory-digest.js';
export { parseDpkgQuery, parseRpmQuery } from './inventory/linux-packages.js';
export { parseSystemProfilerApplications } from './inventory/macos-applications.js';
export { parseUninstallKeys } from './inventory/windows-uninstall-keys.js';
export { parseFdesetupStatus, parseManageBdeStatus, rootFilesystemEncrypted } from './inventory/disk-encryption.js';
export { parseSecureBootVariable, parseWindowsSecureBootState, readLinuxSecureBoot } from './inventory/secure-boot.js';
export { bodySha256, sessionAuthorization, signatureAuthorization } from './request-auth.js';
export { planCheckIn } from './check-in.js';
export { readState, STATE_FILE, type AgentState } from './state.js';
