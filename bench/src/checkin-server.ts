/**
 * The Custos server for the check-in benchmark, in its own process: the real app (`buildApp`, no
 * logger, as the bare baseline) on a real listening socket, over the store the parent created.
 * Before it listens it seeds a corporate tenant and enrolls devices through the real enrollment
 * endpoint, each of which uploads a full inventory and holds a session; it hands the parent what
 * the load generator needs to send MAC'd no-change check-ins as those devices.
 */
import type { StorageConfig } from '@custos/server';
import { seedTenant, startHarness, type Harness } from '../../packages/server/dist/test-support/harness.js';
import { TestDevice } from '../../packages/server/dist/test-support/test-device.js';
import { serveAsChild } from './child-server.js';
import { inventoryDigest, inventoryOf } from './inventory-fixture.js';

export interface CheckInServerStart {
  storage: StorageConfig;
  devices: number;
  apps: number;
}

/** What a device needs to send authenticated requests (docs/decisions/0001-device-authentication.md). */
export interface DeviceCredential {
  tenantId: string;
  deviceId: string;
  sessionToken: string;
  sessionKey: string;
  /** The inventory digest the server holds for the device. */
  digest: string;
  /** The next unused sequence number. */
  nextSeq: number;
}

export interface CheckInServerReady {
  port: number;
  devices: DeviceCredential[];
}

let harness: Harness | undefined;

async function start({ storage, devices: count, apps }: CheckInServerStart): Promise<CheckInServerReady> {
  harness = await startHarness({ name: storage.kind, config: storage, dispose: () => Promise.resolve() });
  const tenant = await seedTenant(harness, 'GB', 'corporate');
  const devices: DeviceCredential[] = [];
  for (let i = 0; i < count; i++) {
    const device = await TestDevice.enroll(harness.app, tenant.enrollmentToken);
    const inventory = inventoryOf(i, apps);
    const digest = inventoryDigest(inventory);
    const { res } = await device.checkIn({ inventoryDigest: digest, inventory });
    if (res.statusCode !== 200) throw new Error(`seeding check-in failed: ${res.statusCode} ${res.body}`);
    const session = device.session;
    if (!session) throw new Error('the device has no session after checking in');
    devices.push({
      tenantId: tenant.tenantId,
      deviceId: device.id,
      sessionToken: session.sessionToken,
      sessionKey: session.sessionKey,
      digest,
      nextSeq: device.seq + 1,
    });
  }
  await harness.app.listen({ host: '127.0.0.1', port: 0 });
  const address = harness.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { port: address.port, devices };
}

serveAsChild<CheckInServerStart, CheckInServerReady>(start, async () => {
  await harness?.close();
});
