/**
 * Enrollment (SPEC §6): read what the token enrolls into, show it and get consent, make a key pair
 * here, and have the tenant CA certify it. Only the certificate request leaves the device.
 */
import type { EnrollmentInfo, EnrollResponse } from '@custos/shared';
import { agentPlatform } from './agent-platform.js';
import { ConsentDeclinedError, UsageError } from './agent-errors.js';
import { CustosHttp, fetchEnrollmentInfo, requestEnrollment } from './client.js';
import type { ConsentMethod } from './consent.js';
import { generateDeviceKey } from './device-key.js';
import { readState, writeState, type AgentState } from './state.js';

export interface EnrollOptions {
  serverUrl: string;
  token: string;
  stateDir: string;
  /** Shows the statement and decides; `undefined` means the user declined. */
  obtainConsent: (info: EnrollmentInfo) => Promise<ConsentMethod | undefined>;
}

export interface Enrollment {
  state: AgentState;
  info: EnrollmentInfo;
}

/** Enrolls and writes the new state; the caller holds the state lock. */
export async function enrollDevice(options: EnrollOptions): Promise<Enrollment> {
  const platform = agentPlatform();
  if (!platform) throw new UsageError(`custos-agent does not support ${process.platform}; it runs on Linux, macOS and Windows.`);
  const existing = await readState(options.stateDir);
  if (existing) {
    throw new UsageError(
      `${options.stateDir} already holds an enrolled device (${existing.tenantId}/${existing.deviceId} at ${existing.serverUrl}). ` +
        'Run "custos-agent unenroll" first, or use another --state-dir.',
    );
  }
  const http = new CustosHttp(options.serverUrl);
  const info = await fetchEnrollmentInfo(http, options.token, platform);
  const method = await options.obtainConsent(info);
  if (method === undefined)
    throw new ConsentDeclinedError('Enrollment cancelled: consent was not given. Nothing about this device was sent.');

  const key = await generateDeviceKey();
  const consent = { privacyStatementVersion: info.privacyStatement.version, method };
  const enrolled: EnrollResponse = await requestEnrollment(http, { token: options.token, csr: key.csrPem, platform, consent });
  const state: AgentState = {
    version: 1,
    serverUrl: options.serverUrl,
    tenantId: enrolled.tenantId,
    deviceId: enrolled.deviceId,
    ownership: info.ownership,
    platform,
    privateKeyPem: key.privateKeyPem,
    certificatePem: enrolled.certificate,
    caCertificatePem: enrolled.caCertificate,
    seq: 0,
    session: null,
    lastSentInventory: null,
    lastSentDigest: null,
    appInventoryScope: enrolled.appInventoryScope,
    schedule: enrolled.schedule,
    nextCheckInSeconds: null,
    consent,
    enrolledAt: new Date().toISOString(),
    lastSyncAt: null,
  };
  await writeState(options.stateDir, state);
  return { state, info };
}
