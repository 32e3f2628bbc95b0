/**
 * Wiring: configuration → storage → services. Shared by `custos serve`, every other command and the
 * tests, so all of them run the same objects.
 */
import { sql, type Kysely } from 'kysely';
import type { CustosConfig } from './config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { CommandService } from './domain/commands/command-service.js';
import { ComplianceService } from './domain/compliance/compliance-service.js';
import type { DeviceWakeups } from './domain/commands/device-wakeups.js';
import { DeviceAuthenticator } from './domain/device-auth/device-authenticator.js';
import { CheckInService } from './domain/devices/check-in-service.js';
import { DeviceService } from './domain/devices/device-service.js';
import { EnrollmentService } from './domain/enrollment/enrollment-service.js';
import { TenantService } from './domain/tenants/tenant-service.js';
import { ApiTokenService } from './domain/tokens/api-token-service.js';
import type { AppServices } from './http/services.js';
import { InProcessWakeups } from './storage/in-process-wakeups.js';
import { PostgresWakeups } from './storage/postgres-wakeups.js';
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
  // One process on SQLite; several sharing PostgreSQL fan wake-ups out through its LISTEN/NOTIFY.
  let wakeups: DeviceWakeups;
  try {
    wakeups =
      config.storage.kind === 'postgres'
        ? await PostgresWakeups.open(config.storage.directoryUrl, storage.directory as Kysely<unknown>)
        : new InProcessWakeups();
  } catch (error) {
    await storage.close();
    throw error;
  }
  const tenants = new TenantService(storage, config.regionMap, clock);
  const deviceAuth = new DeviceAuthenticator(tenants, Buffer.from(await storage.readSecret('device-session'), 'base64url'), clock);
  const commands = new CommandService(tenants, deviceAuth, wakeups, clock);
  const compliance = new ComplianceService(tenants, clock);
  const services: AppServices = {
    tenants,
    apiTokens: new ApiTokenService(tenants, clock),
    enrollment: new EnrollmentService(tenants, clock),
    devices: new DeviceService(tenants, clock),
    checkIn: new CheckInService(tenants, deviceAuth, commands, compliance, clock),
    commands,
    compliance,
    wakeups,
    deviceAuth,
    checkReady: async () => {
      await sql`select 1`.execute(storage.directory);
      for (const region of storage.regions) await sql`select 1`.execute(storage.inspectRegionStore(region));
    },
  };
  return {
    storage,
    services,
    clock,
    close: async () => {
      await wakeups.close();
      await storage.close();
    },
  };
}
