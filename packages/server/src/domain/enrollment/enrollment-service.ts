import { randomUUID } from 'node:crypto';
import {
  appInventoryScope,
  DEFAULT_EXPORT_ARCHIVE_DAYS,
  describeCollection,
  type EnrollmentInfo,
  type EnrollmentTokenCreate,
  type EnrollRequest,
  type EnrollResponse,
  type Platform,
} from '@custos/shared';
import { changedProperties, recordAudit, recordDeviceAudit } from '../audit/audit-log.js';
import { authorize, type Actor } from '../access/authorize.js';
import type { Clock } from '../clock.js';
import { checkScopeTags } from '../devices/device-scope.js';
import { DomainError } from '../domain-error.js';
import type { DeviceRecord } from '../devices/device-store.js';
import { hashSecret, newSecret, tenantOfSecret } from '../secrets.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { Tenant } from '../tenants/tenant.js';
import { issueDeviceCertificate } from './certificate-authority.js';
import type { EnrollmentTokenRecord } from './enrollment-token.js';

const HOUR = 60 * 60 * 1000;
export const DEFAULT_DEVICE_LIMIT_PER_USER = 15;

/** Just after enrollment agents check in often (every 3 minutes for 15 minutes), then on the tenant's interval. */
export const INITIAL_CHECKIN_SECONDS = 180;
export const INITIAL_PERIOD_SECONDS = 15 * 60;

/** States in which a tenant takes no new devices (SPEC §9). */
const NO_ENROLLMENT_STATES = new Set(['suspended', 'retention', 'purged']);

export class EnrollmentService {
  /** `exportArchiveDays`: the deployment's export archive lifetime, which the consent text states. */
  constructor(
    private readonly tenants: TenantService,
    private readonly clock: Clock,
    readonly exportArchiveDays: number = DEFAULT_EXPORT_ARCHIVE_DAYS,
  ) {}

  async createToken(
    actor: Actor,
    tenantId: string,
    input: EnrollmentTokenCreate,
  ): Promise<{ token: string; record: EnrollmentTokenRecord }> {
    authorize(actor, 'enrollment.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const now = this.clock.now();
    const { secret, hash } = newSecret('enr', tenantId);
    const record: EnrollmentTokenRecord = {
      id: randomUUID(),
      secretHash: hash,
      ownership: input.ownership,
      description: input.description ?? null,
      platforms: input.platforms ?? null,
      maxUses: input.maxUses ?? null,
      uses: 0,
      deviceLimitPerUser: input.deviceLimitPerUser ?? DEFAULT_DEVICE_LIMIT_PER_USER,
      userEmail: input.userEmail ?? null,
      expiresAt: now + (input.expiresInHours ?? 24 * 7) * HOUR,
      createdAt: now,
      revokedAt: null,
      scopeTags: checkScopeTags(input.scopeTags ?? []),
    };
    await data.transaction(async (trx) => {
      await trx.enrollmentTokens.insert(record);
      await recordAudit(trx, actor, this.clock, {
        activity: 'Create enrollment token',
        category: 'Enrollment',
        operation: 'create',
        targets: [
          { type: 'enrollmentToken', id: record.id, modifiedProperties: changedProperties(undefined, auditView(record), ['userEmail']) },
        ],
      });
    });
    return { token: secret, record };
  }

  async listTokens(actor: Actor, tenantId: string): Promise<EnrollmentTokenRecord[]> {
    authorize(actor, 'enrollment.read', { tenantId });
    return (await this.tenants.data(tenantId)).enrollmentTokens.list();
  }

  async revokeToken(actor: Actor, tenantId: string, id: string): Promise<void> {
    authorize(actor, 'enrollment.write', { tenantId });
    await (
      await this.tenants.data(tenantId)
    ).transaction(async (trx) => {
      if (!(await trx.enrollmentTokens.revoke(id, this.clock.now()))) {
        throw new DomainError('not-found', `No active enrollment token has the id ${id}.`);
      }
      await recordAudit(trx, actor, this.clock, {
        activity: 'Revoke enrollment token',
        category: 'Enrollment',
        operation: 'update',
        targets: [{ type: 'enrollmentToken', id, modifiedProperties: [{ name: 'revoked', oldValue: false, newValue: true }] }],
      });
    });
  }

  /** What the device shows its user before they consent: generated from the privacy catalog. */
  async info(secret: string, platform?: Platform): Promise<EnrollmentInfo> {
    const { tenant, token } = await this.usableToken(secret);
    const settings = await this.tenants.settings(tenant.id);
    return {
      tenantName: settings.name,
      ownership: token.ownership,
      privacyStatement: settings.privacyStatement,
      supportContact: settings.supportContact,
      ...describeCollection(token.ownership, platform, false, this.exportArchiveDays),
    };
  }

  async enroll(request: EnrollRequest): Promise<EnrollResponse> {
    const { tenant, data, token } = await this.usableToken(request.token);
    if (token.platforms && !token.platforms.includes(request.platform)) {
      throw new DomainError(
        'enrollment-platform-not-allowed',
        `This token enrolls ${token.platforms.join(', ')} devices, not ${request.platform}.`,
      );
    }
    const settings = await this.tenants.settings(tenant.id);
    if (request.consent.privacyStatementVersion !== settings.privacyStatement.version) {
      throw new DomainError('conflict', 'The privacy statement changed since it was shown; show the current one and ask again.', {
        currentVersion: settings.privacyStatement.version,
      });
    }
    if (token.userEmail && (await data.devices.countActiveForUser(token.userEmail)) >= token.deviceLimitPerUser) {
      throw new DomainError(
        'enrollment-device-limit-reached',
        `${token.userEmail} already has ${token.deviceLimitPerUser} enrolled devices.`,
      );
    }
    const ca = await data.certificateAuthority.get();
    if (!ca) throw new Error(`Tenant ${tenant.id} has no certificate authority.`);
    const now = this.clock.now();
    const deviceId = randomUUID();
    const certificate = await issueDeviceCertificate(ca, request.csr, { tenantId: tenant.id, deviceId }, now);
    const device: DeviceRecord = {
      id: deviceId,
      platform: request.platform,
      managementChannel: 'agent',
      ownership: token.ownership,
      status: 'active',
      complianceState: 'unknown',
      appListPolicyApplies: false,
      hardware: {},
      userEmail: token.userEmail,
      enrollmentTokenId: token.id,
      consent: { privacyStatementVersion: request.consent.privacyStatementVersion, acceptedAt: now, method: request.consent.method },
      certificatePem: certificate.certificatePem,
      certificateSerial: certificate.serial,
      publicKeySpki: certificate.publicKeySpki,
      requestSeq: 0,
      inventoryDigest: null,
      lastCheckInAt: null,
      enrolledAt: now,
      retiredAt: null,
      scopeTags: token.scopeTags ?? [],
    };
    await data.transaction(async (trx) => {
      // Counting the use and creating the device commit together: a token with one use left
      // enrolls exactly one of two concurrent devices.
      if (!(await trx.enrollmentTokens.consumeUse(token.id, now))) {
        throw new DomainError('enrollment-token-exhausted', 'The enrollment token was used up by another device.');
      }
      await trx.devices.insert(device);
      // The device enrolls itself with its user's consent: the event's actor is the device.
      await recordDeviceAudit(trx, { id: deviceId, name: String(device.hardware.deviceName ?? deviceId) }, now, {
        activity: 'Enroll device',
        category: 'Enrollment',
        operation: 'create',
        targets: [
          {
            type: 'device',
            id: deviceId,
            modifiedProperties: [
              { name: 'ownership', oldValue: null, newValue: device.ownership },
              { name: 'platform', oldValue: null, newValue: device.platform },
              { name: 'enrollmentTokenId', oldValue: null, newValue: token.id },
              { name: 'consentStatementVersion', oldValue: null, newValue: device.consent.privacyStatementVersion },
            ],
          },
        ],
      });
    });
    return {
      tenantId: tenant.id,
      deviceId,
      certificate: certificate.certificatePem,
      caCertificate: ca.certificatePem,
      appInventoryScope: appInventoryScope(device.ownership, device.platform, false),
      schedule: {
        initialIntervalSeconds: INITIAL_CHECKIN_SECONDS,
        initialPeriodSeconds: INITIAL_PERIOD_SECONDS,
        intervalSeconds: settings.checkInIntervalSeconds,
      },
    };
  }

  private async usableToken(secret: string): Promise<{ tenant: Tenant; data: TenantData; token: EnrollmentTokenRecord }> {
    const tenantId = tenantOfSecret('enr', secret);
    const invalid = new DomainError('enrollment-token-invalid', 'The enrollment token is not valid. Ask IT for a new one.');
    if (!tenantId) throw invalid;
    let tenant: Tenant;
    try {
      tenant = await this.tenants.get(tenantId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') throw invalid;
      throw error;
    }
    if (NO_ENROLLMENT_STATES.has(tenant.subscriptionState)) {
      throw new DomainError(
        tenant.subscriptionState === 'retention' ? 'tenant-read-only' : 'tenant-suspended',
        `The organization's subscription is ${tenant.subscriptionState}: no new devices can enroll.`,
      );
    }
    const data = this.tenants.dataOf(tenant);
    const token = await data.enrollmentTokens.findBySecretHash(hashSecret(secret));
    if (!token) throw invalid;
    const now = this.clock.now();
    if (token.revokedAt !== null)
      throw new DomainError('enrollment-token-revoked', 'The enrollment token was revoked. Ask IT for a new one.');
    if (token.expiresAt <= now)
      throw new DomainError('enrollment-token-expired', 'The enrollment token has expired. Ask IT for a new one.');
    if (token.maxUses !== null && token.uses >= token.maxUses) {
      throw new DomainError('enrollment-token-exhausted', 'The enrollment token has been used as many times as allowed.');
    }
    return { tenant, data, token };
  }
}

/**
 * An enrollment token as the audit log shows it: never its secret or hash, and its user email
 * (stored encrypted) only as "[redacted]".
 */
function auditView(t: EnrollmentTokenRecord): Record<string, unknown> {
  return {
    ownership: t.ownership,
    description: t.description,
    platforms: t.platforms,
    maxUses: t.maxUses,
    deviceLimitPerUser: t.deviceLimitPerUser,
    userEmail: t.userEmail,
    expiresAt: new Date(t.expiresAt).toISOString(),
  };
}
