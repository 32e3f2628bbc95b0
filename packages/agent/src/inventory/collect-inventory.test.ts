import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateInventoryDocument } from '@custos/shared';
import { agentPlatform } from '../agent-platform.js';
import { collectInventory } from './collect-inventory.js';

describe('collectInventory on this machine', () => {
  const platform = agentPlatform();

  it('produces a document the privacy catalog accepts for this platform', { skip: platform === undefined }, async () => {
    if (!platform) return;
    // managed-only skips the (slow) app scan; the app parsers have their own tests.
    const doc = await collectInventory(platform, 'managed-only');
    const result = validateInventoryDocument(doc, platform);
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(doc.apps, []);
    assert.equal(typeof doc.hardware['deviceName'], 'string');
  });
});
