import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyInventoryDelta, canonicalInventoryJson, type InventoryDocument } from '@custos/shared';
import { planCheckIn } from './check-in.js';
import { inventoryDigest } from './inventory/inventory-digest.js';

const before: InventoryDocument = {
  hardware: { deviceName: 'jdoe-laptop', osVersion: '22.04.3 LTS', freeStorageBytes: 1000, encrypted: true },
  apps: [
    { name: 'bash', version: '5.1', appId: 'bash', installLocation: null, sizeBytes: 1024, managed: false },
    { name: 'firefox', version: '120.0', appId: 'firefox', installLocation: null, sizeBytes: 2048, managed: false },
  ],
};
const after: InventoryDocument = {
  hardware: { ...before.hardware, osVersion: '22.04.4 LTS' },
  apps: [
    { name: 'bash', version: '5.1', appId: 'bash', installLocation: null, sizeBytes: 1024, managed: false },
    { name: 'firefox', version: '121.0', appId: 'firefox', installLocation: null, sizeBytes: 2048, managed: false },
    { name: 'curl', version: '8.5', appId: 'curl', installLocation: null, sizeBytes: 512, managed: false },
  ],
};

describe('planCheckIn', () => {
  const beforeDigest = inventoryDigest(before);
  const afterDigest = inventoryDigest(after);

  it('sends the whole document on the first check-in and when asked to', () => {
    assert.deepEqual(planCheckIn(null, after, afterDigest, false), {
      sent: 'full',
      request: { inventoryDigest: afterDigest, inventory: after },
    });
    assert.equal(planCheckIn({ inventory: before, digest: beforeDigest }, after, afterDigest, true).sent, 'full');
  });

  it('sends the digest alone when nothing changed since the accepted inventory', () => {
    const reordered = { hardware: before.hardware, apps: [...before.apps].reverse() };
    assert.deepEqual(planCheckIn({ inventory: before, digest: beforeDigest }, reordered, inventoryDigest(reordered), false), {
      sent: 'digest',
      request: { inventoryDigest: beforeDigest },
    });
  });

  it('sends a delta based on the accepted digest, which rebuilds the new inventory exactly', () => {
    const plan = planCheckIn({ inventory: before, digest: beforeDigest }, after, afterDigest, false);
    assert.equal(plan.sent, 'delta');
    assert.equal(plan.request.inventoryDigest, afterDigest);
    const delta = plan.request.delta as Parameters<typeof applyInventoryDelta>[1];
    assert.equal(delta.baseDigest, beforeDigest);
    assert.deepEqual(delta.hardware, { osVersion: '22.04.4 LTS' });
    assert.deepEqual(
      delta.upsertApps?.map((a) => a.appId),
      ['firefox', 'curl'],
    );
    assert.deepEqual(delta.removeApps, []);
    // What the server will do with it: the result hashes to the digest the agent sent.
    const rebuilt = applyInventoryDelta(before, delta);
    assert.equal(canonicalInventoryJson(rebuilt), canonicalInventoryJson(after));
    assert.equal(inventoryDigest(rebuilt), afterDigest);
  });

  it('lists removed apps by key', () => {
    const removed = { hardware: before.hardware, apps: [before.apps[0]!] };
    const plan = planCheckIn({ inventory: before, digest: beforeDigest }, removed, inventoryDigest(removed), false);
    assert.deepEqual((plan.request.delta as { removeApps: string[] }).removeApps, ['id:firefox']);
  });
});
