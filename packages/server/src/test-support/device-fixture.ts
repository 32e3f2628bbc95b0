import { randomBytes, randomUUID } from 'node:crypto';
import type { DeviceRecord } from '../domain/devices/device-store.js';

/**
 * An enrolled-device record for storage tests and benchmarks, with a certificate of realistic size
 * (the row's size matters to an UPDATE). Override what the test is about.
 */
export function deviceRecord(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  const now = Date.now();
  return {
    id: randomUUID(),
    platform: 'linux',
    managementChannel: 'agent',
    ownership: 'corporate',
    status: 'active',
    complianceState: 'unknown',
    appListPolicyApplies: false,
    hardware: {},
    userEmail: null,
    enrollmentTokenId: null,
    consent: { privacyStatementVersion: '1', acceptedAt: now, method: 'unattended' },
    certificatePem: `-----BEGIN CERTIFICATE-----\n${randomBytes(520).toString('base64')}\n-----END CERTIFICATE-----\n`,
    certificateSerial: randomBytes(16).toString('hex'),
    publicKeySpki: randomBytes(91).toString('base64'),
    requestSeq: 0,
    inventoryDigest: null,
    lastCheckInAt: null,
    enrolledAt: now,
    retiredAt: null,
    ...overrides,
  };
}
