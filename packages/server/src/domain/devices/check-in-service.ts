import {
  validateApps,
  validateHardware,
  validateInventoryDocument,
  type CheckInRequest,
  type CheckInResponse,
  type FieldIssue,
  type InventoryDocument,
  type InventoryDelta,
} from '@custos/shared';
import type { Clock } from '../clock.js';
import type { CommandService } from '../commands/command-service.js';
import type { ComplianceService } from '../compliance/compliance-service.js';
import type { AuthenticatedDevice, DeviceAuthenticator } from '../device-auth/device-authenticator.js';
import { DomainError } from '../domain-error.js';
import { INITIAL_CHECKIN_SECONDS, INITIAL_PERIOD_SECONDS } from '../enrollment/enrollment-service.js';
import type { ProfileService } from '../profiles/profile-service.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { CheckInTarget } from './device-store.js';
import { appsToStore } from './inventory-ingestion.js';

const MAX_APP_KEY_LENGTH = 2048;

type Upload = { kind: 'full'; doc: InventoryDocument } | { kind: 'delta'; delta: InventoryDelta } | { kind: 'none' };

function refuse(issues: FieldIssue[]): DomainError {
  return new DomainError(
    'inventory-fields-refused',
    `Refused ${issues.length} field(s): ${issues.map((i) => i.field).join(', ')}. Nothing was stored.`,
    {
      errors: issues,
    },
  );
}

/** Checks a delta's shape against the catalog, like a whole document. */
function validateDelta(input: unknown): InventoryDelta {
  const issues: FieldIssue[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw refuse([{ field: 'delta', reason: 'invalid-type', message: 'Expected an object.' }]);
  const delta = input as Record<string, unknown>;
  for (const key of Object.keys(delta)) {
    if (!['baseDigest', 'hardware', 'upsertApps', 'removeApps'].includes(key)) {
      issues.push({ field: `delta.${key}`, reason: 'undeclared', message: `An inventory delta has no field "${key}".` });
    }
  }
  if (typeof delta['baseDigest'] !== 'string')
    issues.push({ field: 'delta.baseDigest', reason: 'required', message: 'A delta names the digest it applies to.' });
  if (delta['hardware'] !== undefined) validateHardware(delta['hardware'], 'delta.hardware', issues);
  if (delta['upsertApps'] !== undefined) validateApps(delta['upsertApps'], 'delta.upsertApps', issues);
  const remove = delta['removeApps'];
  if (remove !== undefined && (!Array.isArray(remove) || remove.some((k) => typeof k !== 'string' || k.length > MAX_APP_KEY_LENGTH))) {
    issues.push({ field: 'delta.removeApps', reason: 'invalid-type', message: 'Expected an array of app keys.' });
  }
  if (issues.length > 0) throw refuse(issues);
  return delta as unknown as InventoryDelta;
}

/** The device check-in: the hot path (SPEC §1.7). A no-change check-in is one UPDATE statement. */
export class CheckInService {
  constructor(
    private readonly tenants: TenantService,
    private readonly authenticator: DeviceAuthenticator,
    private readonly commands: CommandService,
    private readonly compliance: ComplianceService,
    private readonly clock: Clock,
    private readonly profiles: ProfileService,
  ) {}

  async checkIn(device: AuthenticatedDevice, body: CheckInRequest): Promise<CheckInResponse> {
    // Validate against the catalog before anything is written: a refused document changes nothing.
    const upload = this.parseUpload(body);
    let stored: 'stored' | 'unchanged' | 'required';
    let target: CheckInTarget;
    if (upload.kind === 'none') {
      target = await this.authenticator.record(device, true);
      stored = target.inventoryDigest === body.inventoryDigest ? 'unchanged' : 'required';
    } else {
      target = await device.data.transaction(async (data) => {
        const t = await this.authenticator.record({ ...device, data }, true);
        const now = this.clock.now();
        if (upload.kind === 'full') {
          const issues: FieldIssue[] = [];
          validateHardware(upload.doc.hardware, 'hardware', issues, t.platform);
          if (issues.length > 0) throw refuse(issues);
          await data.devices.replaceInventory(
            device.deviceId,
            upload.doc.hardware,
            appsToStore(upload.doc.apps, t.appInventoryScope),
            body.inventoryDigest,
            now,
          );
        } else {
          if (upload.delta.baseDigest !== t.inventoryDigest) {
            throw new DomainError(
              'inventory-base-mismatch',
              'The delta was computed against an inventory the server does not hold; send the whole inventory.',
            );
          }
          const issues: FieldIssue[] = [];
          validateHardware(upload.delta.hardware ?? {}, 'delta.hardware', issues, t.platform);
          if (issues.length > 0) throw refuse(issues);
          await data.devices.applyInventoryDelta(
            device.deviceId,
            upload.delta.hardware ?? {},
            appsToStore(upload.delta.upsertApps ?? [], t.appInventoryScope),
            upload.delta.removeApps ?? [],
            body.inventoryDigest,
            now,
          );
        }
        // In the inventory's own transaction: the compliance state never describes half an inventory.
        const scope = await this.compliance.evaluateDevice(data, device.deviceId, { platform: t.platform });
        return scope === undefined ? t : { ...t, appInventoryScope: scope };
      });
      stored = 'stored';
    }
    // The check-in statement returned the pending count: only a device with something queued pays
    // for the query that delivers it.
    const commands = target.pendingCommands > 0 ? await this.commands.deliver(device.data, device.deviceId) : [];
    // Also returned by the check-in statement; computed here only for a device whose set never was.
    const profilesDigest = await this.profiles.digestForCheckIn(device.data, device.deviceId, target.profilesDigest, target.platform);
    const now = this.clock.now();
    const settings = await this.tenants.settings(device.tenantId);
    const initial = now - target.enrolledAt < INITIAL_PERIOD_SECONDS * 1000;
    return {
      inventory: stored,
      appInventoryScope: target.appInventoryScope,
      nextCheckInSeconds: initial ? INITIAL_CHECKIN_SECONDS : settings.checkInIntervalSeconds,
      serverTime: new Date(now).toISOString(),
      commands,
      ...(profilesDigest === undefined ? {} : { profilesDigest }),
    };
  }

  async unenroll(device: AuthenticatedDevice): Promise<void> {
    await device.data.transaction(async (data) => {
      await this.authenticator.record({ ...device, data }, false);
      await data.devices.retire(device.deviceId, this.clock.now());
    });
  }

  private parseUpload(body: CheckInRequest): Upload {
    if (body.inventory !== undefined && body.delta !== undefined) {
      throw new DomainError('validation-failed', 'Send either a whole inventory or a delta, not both.');
    }
    if (body.inventory !== undefined) {
      const result = validateInventoryDocument(body.inventory);
      if (!result.ok) throw refuse(result.issues);
      return { kind: 'full', doc: result.value };
    }
    if (body.delta !== undefined) return { kind: 'delta', delta: validateDelta(body.delta) };
    return { kind: 'none' };
  }
}
