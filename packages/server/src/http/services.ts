import type { CommandService } from '../domain/commands/command-service.js';
import type { ComplianceService } from '../domain/compliance/compliance-service.js';
import type { DeviceWakeups } from '../domain/commands/device-wakeups.js';
import type { DeviceAuthenticator } from '../domain/device-auth/device-authenticator.js';
import type { CheckInService } from '../domain/devices/check-in-service.js';
import type { DeviceService } from '../domain/devices/device-service.js';
import type { EnrollmentService } from '../domain/enrollment/enrollment-service.js';
import type { TenantService } from '../domain/tenants/tenant-service.js';
import type { ApiTokenService } from '../domain/tokens/api-token-service.js';

/** Everything the HTTP layer calls. Built by main.ts (or a test) and handed to `buildApp`. */
export interface AppServices {
  tenants: TenantService;
  apiTokens: ApiTokenService;
  enrollment: EnrollmentService;
  devices: DeviceService;
  checkIn: CheckInService;
  commands: CommandService;
  compliance: ComplianceService;
  /** Tells the process holding a device's push channel to wake it (see routes/agent-push-routes.ts). */
  wakeups: DeviceWakeups;
  deviceAuth: DeviceAuthenticator;
  /** Resolves when every store answers; rejects otherwise (for /readyz). */
  checkReady(): Promise<void>;
}
