/**
 * Group targets end to end, on SQLite and PostgreSQL: a configuration profile assigned to a group
 * reaches the device of a user as soon as the user joins it (also through SCIM-style membership
 * edits, deletion and deactivation), and leaves it when the user leaves.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '../test-support/backends.js';
import { harnessPerSuite, seedTenant, SYSTEM, type Harness } from '../test-support/harness.js';
import { TestDevice } from '../test-support/test-device.js';

const officeWifi = {
  name: 'Office Wi-Fi',
  kind: 'wifi',
  wifi: { ssid: 'Office', security: 'wpa2-personal', passphrase: 'correct horse battery' },
};

for (const { name, create } of BACKENDS) {
  describe(`group assignments on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    let t: Awaited<ReturnType<typeof seedTenant>>;
    const auth = () => ({ authorization: `Bearer ${t.adminToken}` });
    const profilesOf = async (deviceId: string) => {
      const res = await h.app.inject({ url: `/api/v1/devices/${deviceId}/profiles`, headers: auth() });
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ items: { profileId: string; status: string; removing: boolean }[] }>().items;
    };

    before(async () => {
      t = await seedTenant(h, 'GB');
    });

    test("a profile assigned to a group follows its members' devices", async () => {
      const token = await h.runtime.services.enrollment.createToken(SYSTEM, t.tenantId, {
        ownership: 'corporate',
        userEmail: 'kim@example.com',
      });
      const device = await TestDevice.enroll(h.app, token.token);
      const kim = await h.runtime.services.users.createUser(SYSTEM, t.tenantId, { userName: 'kim@example.com' });
      const group = await h.runtime.services.users.createGroup(SYSTEM, t.tenantId, { displayName: 'Office staff' });
      const created = await h.app.inject({ method: 'POST', url: '/api/v1/configuration-profiles', headers: auth(), payload: officeWifi });
      assert.equal(created.statusCode, 201, created.body);
      const profileId = created.json<{ id: string }>().id;
      const assigned = await h.app.inject({
        method: 'PUT',
        url: `/api/v1/configuration-profiles/${profileId}/assignments`,
        headers: auth(),
        payload: { assignments: [{ target: 'group', groupId: group.id, mode: 'include' }] },
      });
      assert.equal(assigned.statusCode, 200, assigned.body);
      assert.deepEqual(await profilesOf(device.id), [], 'not a member yet');

      await h.runtime.services.users.updateGroup(SYSTEM, t.tenantId, group.id, { add: [kim.id] });
      assert.deepEqual(
        (await profilesOf(device.id)).map((p) => [p.profileId, p.status, p.removing]),
        [[profileId, 'pending', false]],
      );

      // Deactivating the user takes the device out of the user's groups (the profile is to be removed); reactivating brings it back.
      await h.runtime.services.users.updateUser(SYSTEM, t.tenantId, kim.id, { active: false });
      {
        const after = await profilesOf(device.id);
        assert.ok(
          after.every((p) => p.removing),
          JSON.stringify(after),
        );
      }
      await h.runtime.services.users.updateUser(SYSTEM, t.tenantId, kim.id, { active: true });
      assert.deepEqual(
        (await profilesOf(device.id)).map((p) => [p.status, p.removing]),
        [['pending', false]],
      );

      // Deleting the group takes the profile off the device (marked for removal until the agent reports it gone).
      await h.runtime.services.users.deleteGroup(SYSTEM, t.tenantId, group.id);
      {
        const after = await profilesOf(device.id);
        assert.ok(
          after.every((p) => p.removing),
          JSON.stringify(after),
        );
      }
    });
  });
}
