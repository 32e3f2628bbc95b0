/**
 * Wiring: configuration → storage → services. Shared by `custos serve`, every other command and the
 * tests, so all of them run the same objects.
 */
import { sql } from 'kysely';
import type { CustosConfig } from './config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { DeviceAuthenticator } from './domain/device-auth/device-authenticator.js';
import { CheckInService } from './domain/devices/check-in-service.js';
import { DeviceService } from './domain/devices/device-service.js';
import { EnrollmentService } from './domain/enrollment/enrollment-service.js';
import { TenantService } from './domain/tenants/tenant-service.js';
import { ApiTokenService } from './domain/tokens/api-token-service.js';
import type { AppServices } from './http/services.js';
import { Storage } from './storage/storage.js';

export interface Runtime {
  storage: Storage;
  services: AppServices;
  clock: Clock;
  close(): Promise<void>;
}

/** Opens the stores, migrates them to the latest schema, and builds the services on top. */
export async function openRuntime(
  config: Pick<CustosConfig, 'storage' | 'regions' | 'regionMap'>,
  clock: Clock = systemClock,
): Promise<Runtime> {
  const storage = Storage.open(config.storage, config.regions);
  try {
    await storage.migrate();
  } catch (error) {
    await storage.close();
    throw error;
  }
  const tenants = new TenantService(storage, config.regionMap, clock);
  const deviceAuth = new DeviceAuthenticator(tenants, Buffer.from(await storage.readSecret('device-session'), 'base64url'), clock);
  const services: AppServices = {
    tenants,
    apiTokens: new ApiTokenService(tenants, clock),
    enrollment: new EnrollmentService(tenants, clock),
    devices: new DeviceService(tenants, clock),
    checkIn: new CheckInService(tenants, deviceAuth, clock),
    deviceAuth,
    checkReady: async () => {
      await sql`select 1`.execute(storage.directory);
      for (const region of storage.regions) await sql`select 1`.execute(storage.inspectRegionStore(region));
    },
  };
  return { storage, services, clock, close: () => storage.close() };
}
