import { certificateExpiry } from './device-key.js';
import { readState } from './state.js';

/** What `status` shows: identities and times, never the key, the session or the certificate itself. */
export interface AgentStatus {
  enrolled: boolean;
  stateDir: string;
  server?: string;
  tenantId?: string;
  deviceId?: string;
  platform?: string;
  ownership?: string;
  appInventoryScope?: string;
  enrolledAt?: string;
  lastSyncAt?: string | null;
  nextCheckInSeconds?: number | null;
  certificateExpiresAt?: string | null;
}

export async function readStatus(stateDir: string): Promise<AgentStatus> {
  const state = await readState(stateDir);
  if (!state) return { enrolled: false, stateDir };
  return {
    enrolled: true,
    stateDir,
    server: state.serverUrl,
    tenantId: state.tenantId,
    deviceId: state.deviceId,
    platform: state.platform,
    ownership: state.ownership,
    appInventoryScope: state.appInventoryScope,
    enrolledAt: state.enrolledAt,
    lastSyncAt: state.lastSyncAt,
    nextCheckInSeconds: state.nextCheckInSeconds,
    certificateExpiresAt: certificateExpiry(state.certificatePem)?.toISOString() ?? null,
  };
}
