import { isDeviceRetired } from './agent-errors.js';
import { DeviceClient } from './client.js';
import { removeAllProfiles } from './profiles/apply-profiles.js';
import { deleteState, requireState } from './state.js';

export interface Unenrollment {
  tenantId: string;
  deviceId: string;
  /** True when the server had already retired the device (its credential was revoked before). */
  alreadyRetired: boolean;
}

/**
 * Tells the server the device leaves management, then removes the configuration profiles it
 * installed and deletes the local state and its private key. If the server refuses for any other reason the state is kept, so the user can retry and
 * the server does not keep a device that can no longer reach it. The caller holds the state lock.
 */
export async function unenrollDevice(stateDir: string): Promise<Unenrollment> {
  const state = await requireState(stateDir);
  let alreadyRetired = false;
  try {
    await new DeviceClient(stateDir, state).unenroll();
  } catch (error) {
    if (!isDeviceRetired(error)) throw error;
    alreadyRetired = true;
  }
  // The configuration profiles it installed leave with it: exactly the files recorded.
  await removeAllProfiles(state);
  await deleteState(stateDir);
  return { tenantId: state.tenantId, deviceId: state.deviceId, alreadyRetired };
}
