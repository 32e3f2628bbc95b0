/**
 * The command queue's storage on SQLite and PostgreSQL: the pending count the check-in statement
 * returns follows every change, and overlapping deliveries never hand out a command twice.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CommandRecord } from '../../domain/commands/command-store.js';
import { BACKENDS } from '../../test-support/backends.js';
import { deviceRecord } from '../../test-support/device-fixture.js';
import { seedTenant, harnessPerSuite, type Harness } from '../../test-support/harness.js';

function command(deviceId: string, overrides: Partial<CommandRecord> = {}): CommandRecord {
  return {
    id: randomUUID(),
    deviceId,
    action: 'lock',
    payload: null,
    state: 'pending',
    createdAt: 1_000,
    updatedAt: 1_000,
    sentAt: null,
    completedAt: null,
    expiresAt: 10_000,
    createdBy: 'system:cli:test',
    resultStatus: null,
    resultDetail: null,
    resultAt: null,
    attempts: 0,
    ...overrides,
  };
}

for (const { name, create } of BACKENDS) {
  describe(`command queue storage on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));

    test('the check-in statement returns the pending count, kept in step with every change', async () => {
      const data = await h.runtime.services.tenants.data((await seedTenant(h, 'DE')).tenantId);
      const d = deviceRecord();
      await data.devices.insert(d);
      let seq = 0;
      const pending = async () => (await data.devices.recordRequest(d.id, ++seq, 2_000, true))?.pendingCommands;
      assert.equal(await pending(), 0, 'a new device has nothing queued');
      const [a, b, c] = [
        command(d.id, { createdAt: 1 }),
        command(d.id, { createdAt: 2, action: 'restart' }),
        command(d.id, { createdAt: 3 }),
      ];
      await data.commands.insert([a, b, c]);
      assert.equal(await pending(), 3);
      const delivered = await data.commands.deliverPending(d.id, 2_000);
      assert.deepEqual(
        delivered.map((x) => x.id),
        [a.id, b.id, c.id],
      );
      assert.ok(delivered.every((x) => x.state === 'sent' && x.attempts === 1 && x.sentAt === 2_000));
      assert.equal(await pending(), 0);
      assert.ok(await data.commands.recordResult(b.id, 'notNow', 'busy', 2_100));
      assert.equal(await pending(), 1, 'notNow puts it back');
      assert.equal(await data.commands.recordResult(b.id, 'acknowledged', null, 2_200), false, 'no longer sent');
      assert.ok(await data.commands.recordResult(a.id, 'acknowledged', null, 2_200));
      assert.equal((await data.commands.get(a.id))?.completedAt, 2_200);
      assert.equal(await data.commands.expireDue(d.id, 20_000), 2, 'the pending one and the sent one');
      assert.equal(await pending(), 0);
      assert.deepEqual(
        (await data.commands.listForDevice(d.id, 10)).map((x) => [x.id, x.state]),
        [
          [c.id, 'expired'],
          [b.id, 'expired'],
          [a.id, 'acknowledged'],
        ],
      );
    });

    test('overlapping deliveries hand each command out once', async () => {
      const data = await h.runtime.services.tenants.data((await seedTenant(h, 'FR')).tenantId);
      const d = deviceRecord();
      await data.devices.insert(d);
      await data.commands.insert(Array.from({ length: 20 }, (_, i) => command(d.id, { createdAt: i })));
      const deliveries = await Promise.all(
        Array.from({ length: 4 }, () => data.transaction((trx) => trx.commands.deliverPending(d.id, 3_000))),
      );
      const ids = deliveries.flat().map((x) => x.id);
      assert.equal(ids.length, 20);
      assert.equal(new Set(ids).size, 20);
    });

    test('coalescing finds unexpired pending commands by device and action', async () => {
      const data = await h.runtime.services.tenants.data((await seedTenant(h, 'IT')).tenantId);
      const [d1, d2] = [deviceRecord(), deviceRecord()];
      await data.devices.insert(d1);
      await data.devices.insert(d2);
      const sync = command(d1.id, { action: 'sync' });
      await data.commands.insert([sync, command(d2.id, { action: 'sync', expiresAt: 500 }), command(d2.id, { action: 'lock' })]);
      const found = await data.commands.findPending([d1.id, d2.id], 'sync', 1_000);
      assert.deepEqual([...found.keys()], [d1.id]);
      assert.equal(found.get(d1.id)?.id, sync.id);
    });
  });
}
