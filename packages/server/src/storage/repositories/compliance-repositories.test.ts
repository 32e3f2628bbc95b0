/**
 * Compliance storage on SQLite and PostgreSQL: which policies a platform's devices see (live, own
 * platform or none), optimistic versioning, whole-list replacement of assignments and results, and
 * the device's compliance update keeping the check-in's app scope in step (SPEC §4).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CompliancePolicyRecord } from '../../domain/compliance/compliance-store.js';
import { BACKENDS } from '../../test-support/backends.js';
import { deviceRecord } from '../../test-support/device-fixture.js';
import { seedTenant, harnessPerSuite, type Harness } from '../../test-support/harness.js';

function policy(overrides: Partial<CompliancePolicyRecord> = {}): CompliancePolicyRecord {
  return {
    id: randomUUID(),
    name: 'P',
    description: null,
    platform: null,
    settings: { requireEncryption: true },
    actions: [{ type: 'markNoncompliant', afterDays: 0 }],
    version: 1,
    scopeTags: [],
    createdAt: 1_000,
    updatedAt: 1_000,
    deletedAt: null,
    assignments: [],
    ...overrides,
  };
}

for (const { name, create } of BACKENDS) {
  describe(`compliance storage on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));

    test('a platform sees live policies of its own platform or of none, each with only its own assignments', async () => {
      const data = await h.runtime.services.tenants.data((await seedTenant(h, 'DE')).tenantId);
      const other = await h.runtime.services.tenants.data((await seedTenant(h, 'FR')).tenantId);
      const all = policy({ createdAt: 1, assignments: [{ target: 'allDevices', groupId: null, mode: 'include' }] });
      const linux = policy({ createdAt: 2, platform: 'linux', assignments: [{ target: 'allUsers', groupId: null, mode: 'exclude' }] });
      const windows = policy({ createdAt: 3, platform: 'windows' });
      const gone = policy({ createdAt: 4 });
      for (const p of [all, linux, windows, gone]) await data.compliancePolicies.insert(p);
      await other.compliancePolicies.insert(policy());
      assert.ok(await data.compliancePolicies.softDelete(gone.id, 5));
      assert.equal(await data.compliancePolicies.softDelete(gone.id, 6), false, 'already deleted');

      const forLinux = await data.compliancePolicies.listForPlatform('linux');
      assert.deepEqual(
        forLinux.map((p) => p.id),
        [all.id, linux.id],
      );
      assert.deepEqual(forLinux[0]?.assignments, all.assignments);
      assert.deepEqual(forLinux[1]?.assignments, linux.assignments);
      assert.deepEqual(
        (await data.compliancePolicies.list()).map((p) => p.id),
        [all.id, linux.id, windows.id],
      );
      assert.equal(await data.compliancePolicies.get(gone.id), undefined);
      assert.equal((await other.compliancePolicies.list()).length, 1, 'the other tenant sees only its own');

      const groupId = randomUUID();
      await data.compliancePolicies.replaceAssignments(all.id, [
        { target: 'group', groupId, mode: 'include' },
        { target: 'allUsers', groupId: null, mode: 'exclude' },
      ]);
      assert.deepEqual((await data.compliancePolicies.get(all.id))?.assignments, [
        { target: 'allUsers', groupId: null, mode: 'exclude' },
        { target: 'group', groupId, mode: 'include' },
      ]);
    });

    test('an update succeeds only from the previous version', async () => {
      const data = await h.runtime.services.tenants.data((await seedTenant(h, 'DE')).tenantId);
      const p = policy();
      await data.compliancePolicies.insert(p);
      assert.ok(await data.compliancePolicies.update({ ...p, name: 'v2', version: 2, settings: { appDenyList: ['x'] } }));
      assert.equal(await data.compliancePolicies.update({ ...p, name: 'stale', version: 2 }), false);
      const stored = await data.compliancePolicies.get(p.id);
      assert.equal(stored?.name, 'v2');
      assert.equal(stored?.version, 2);
      assert.deepEqual(stored?.settings, { appDenyList: ['x'] });
    });

    test("results are replaced per device; the device's compliance update moves the app scope and prunes personal apps", async () => {
      const data = await h.runtime.services.tenants.data((await seedTenant(h, 'DE')).tenantId);
      const d = deviceRecord({ ownership: 'personal' });
      await data.devices.insert(d);
      const [a, b] = [policy({ name: 'A' }), policy({ name: 'B' })];
      for (const p of [a, b]) await data.compliancePolicies.insert(p);
      const result = (policyId: string) => ({
        policyId,
        policyVersion: 1,
        state: 'noncompliant' as const,
        results: [{ setting: 'requireEncryption' as const, status: 'noncompliant' as const, reason: 'r' }],
        evaluatedAt: 7,
      });
      await data.complianceResults.replaceForDevice(d.id, [result(b.id), result(a.id)]);
      assert.deepEqual(
        (await data.complianceResults.listForDevice(d.id)).map((r) => r.policyName),
        ['A', 'B'],
      );
      await data.complianceResults.replaceForDevice(d.id, [result(b.id)]);
      const left = await data.complianceResults.listForDevice(d.id);
      assert.deepEqual(left, [{ ...result(b.id), policyName: 'B' }]);

      let seq = 0;
      const scope = async () => (await data.devices.recordRequest(d.id, ++seq, 10, true))?.appInventoryScope;
      assert.equal(await scope(), 'managed-only');
      assert.equal(await data.devices.updateCompliance(d.id, 'noncompliant', true), 'all');
      assert.equal(await scope(), 'all');
      const apps = [
        { key: 'k1', name: 'own', version: null, appId: null, installLocation: null, sizeBytes: null, managed: false },
        { key: 'k2', name: 'vpn', version: null, appId: null, installLocation: null, sizeBytes: null, managed: true },
      ];
      await data.devices.replaceInventory(d.id, {}, apps, 'digest', 11);
      assert.equal(await data.devices.updateCompliance(d.id, 'compliant', true), 'all');
      assert.equal((await data.devices.listApps(d.id)).length, 2, 'an unchanged scope keeps the apps');
      assert.equal(await data.devices.updateCompliance(d.id, 'compliant', false), 'managed-only');
      assert.deepEqual(
        (await data.devices.listApps(d.id)).map((x) => x.name),
        ['vpn'],
      );
      assert.equal(await scope(), 'managed-only');
      const stored = await data.devices.get(d.id);
      assert.equal(stored?.complianceState, 'compliant');
      assert.equal(stored?.appListPolicyApplies, false);
      assert.equal(await data.devices.updateCompliance(randomUUID(), 'compliant', false), undefined);
      // A corporate device keeps every app whatever the policies say.
      const corporate = deviceRecord({ ownership: 'corporate' });
      await data.devices.insert(corporate);
      assert.equal(await data.devices.updateCompliance(corporate.id, 'compliant', false), 'all');
    });
  });
}
