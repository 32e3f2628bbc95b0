/**
 * The Custos server for the Apple MDM command-poll benchmark, in its own process: the real app on a
 * real listening socket, over the store the parent created. Before it listens it seeds a tenant
 * with a push certificate and enrolls simulated iPhones through the real profile, SCEP and
 * check-in endpoints, then drains their first inventory so that their queues are empty. It hands
 * the parent, per device, the `Idle` message a device sends when it has nothing to report, with its
 * `Mdm-Signature` and the `Client-Cert` header a TLS-terminating proxy would add. The server trusts
 * that header, as it is configured behind such a proxy (CUSTOS_APPLE_MDM_TRUST_CLIENT_CERT=true); a
 * request without it is authenticated by its signature, exactly as on a server that does not.
 */
import type { StorageConfig } from '@custos/server';
import { seedTenant, startHarness, SYSTEM, type Harness } from '../../packages/server/dist/test-support/harness.js';
import {
  AppleDeviceSimulator,
  applePushCertificate,
  injectTransport,
} from '../../packages/server/dist/test-support/apple-device-simulator.js';
import { serveAsChild } from './child-server.js';

export interface AppleMdmServerStart {
  storage: StorageConfig;
  devices: number;
}

/** One device's idle poll: the exact body, its `Mdm-Signature`, and the proxy's `Client-Cert` header. */
export interface IdlePoll {
  body: string;
  signature: string;
  clientCert: string;
}

export interface AppleMdmServerReady {
  port: number;
  polls: IdlePoll[];
}

let harness: Harness | undefined;

async function start({ storage, devices: count }: AppleMdmServerStart): Promise<AppleMdmServerReady> {
  harness = await startHarness({ name: storage.kind, config: storage, dispose: () => Promise.resolve() }, undefined, undefined, {
    appleMdmTrustClientCert: true,
  });
  const tenant = await seedTenant(harness, 'GB', 'corporate');
  const { certificatePem, privateKeyPem } = await applePushCertificate();
  const push = { certificatePem, privateKeyPem };
  await harness.runtime.services.appleMdm.uploadPushCertificate(SYSTEM, tenant.tenantId, push);
  const polls: IdlePoll[] = [];
  for (let i = 0; i < count; i++) {
    const sim = await AppleDeviceSimulator.enroll(injectTransport(harness.app), tenant.enrollmentToken);
    await sim.session();
    polls.push(await sim.signedIdle());
  }
  await harness.app.listen({ host: '127.0.0.1', port: 0 });
  const address = harness.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { port: address.port, polls };
}

serveAsChild<AppleMdmServerStart, AppleMdmServerReady>(start, async () => {
  await harness?.close();
});
