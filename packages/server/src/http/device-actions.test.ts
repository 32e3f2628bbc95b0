/**
 * Device actions through the real app, on SQLite and PostgreSQL: queueing (permissions,
 * coalescing, validation, bulk), delivery with the check-in, results, expiry, retirement by
 * command, and the push channel that wakes a connected device.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { BACKENDS } from '../test-support/backends.js';
import { seedTenant, harnessPerSuite, SYSTEM, type Harness } from '../test-support/harness.js';
import { TestDevice } from '../test-support/test-device.js';
import { PUSH_CLOSE_REPLACED, PUSH_PATH } from './routes/agent-push-routes.js';

const ACTIONS = ['sync', 'lock', 'retire', 'wipe', 'rename', 'restart', 'collect-inventory'] as const;

for (const { name, create } of BACKENDS) {
  describe(`device actions on ${name}`, () => {
    let h: Harness;
    harnessPerSuite(create, (started) => ({ h } = started));
    let gb: Awaited<ReturnType<typeof seedTenant>>;
    let us: Awaited<ReturnType<typeof seedTenant>>;
    const admin = (token: string) => ({ authorization: `Bearer ${token}` });

    const act = (token: string, deviceId: string, action: string, payload?: unknown) =>
      h.app.inject({
        method: 'POST',
        url: `/api/v1/devices/${deviceId}/actions/${action}`,
        headers: admin(token),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const commands = async (token: string, deviceId: string) => {
      const res = await h.app.inject({ url: `/api/v1/devices/${deviceId}/commands`, headers: admin(token) });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items as { id: string; action: string; state: string; attempts: number; result: unknown }[];
    };
    const pendingCount = async (deviceId: string) => {
      const row = await h.runtime.storage
        .inspectRegionStore('eu')
        .selectFrom('device_checkin_state')
        .select('pending_commands')
        .where('tenant_id', '=', gb.tenantId)
        .where('device_id', '=', deviceId)
        .executeTakeFirstOrThrow();
      return row.pending_commands;
    };
    const result = (device: TestDevice, commandId: string, payload: unknown) =>
      device.post(`/api/v1/agent/commands/${commandId}/result`, payload);

    before(async () => {
      gb = await seedTenant(h, 'GB');
      us = await seedTenant(h, 'US');
    });

    test('every action can be queued, and the history lists each with its action and state, newest first', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const ids: string[] = [];
      for (const action of ACTIONS) {
        const res = await act(gb.adminToken, device.id, action, action === 'rename' ? { deviceName: 'laptop-42' } : undefined);
        assert.equal(res.statusCode, 202, `${action}: ${res.body}`);
        const body = res.json();
        assert.equal(body.action, action);
        assert.equal(body.state, 'pending');
        assert.equal(body.deviceId, device.id);
        assert.match(body.createdBy, /^apiToken:/);
        assert.ok(Date.parse(body.expiresAt) - Date.parse(body.createdAt) === 7 * 24 * 3_600_000, 'expires in 7 days by default');
        ids.push(body.id);
      }
      const items = await commands(gb.adminToken, device.id);
      assert.deepEqual(
        items.map((c) => c.action),
        [...ACTIONS].reverse(),
      );
      assert.ok(items.every((c) => c.state === 'pending'));
      const one = await h.app.inject({ url: `/api/v1/devices/${device.id}/commands/${ids[4]}`, headers: admin(gb.adminToken) });
      assert.equal(one.statusCode, 200);
      assert.deepEqual(one.json().payload, { deviceName: 'laptop-42' });
      assert.equal(await pendingCount(device.id), ACTIONS.length);
      // Another tenant's token sees neither the device nor its commands.
      assert.equal((await act(us.adminToken, device.id, 'sync')).statusCode, 404);
      assert.equal((await h.app.inject({ url: `/api/v1/devices/${device.id}/commands`, headers: admin(us.adminToken) })).statusCode, 404);
      const elsewhere = await h.app.inject({ url: `/api/v1/devices/${device.id}/commands/${ids[0]}`, headers: admin(us.adminToken) });
      assert.equal(elsewhere.statusCode, 404);
    });

    test('each action needs its permission', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const token = async (role: string) => (await h.runtime.services.apiTokens.create(SYSTEM, gb.tenantId, { role })).token;
      const readOnly = await token('Read Only Operator');
      const policy = await token('Policy and Profile Manager');
      const helpDesk = await token('Help Desk Operator');
      const expected: Record<string, Record<(typeof ACTIONS)[number], number>> = {
        [readOnly]: { sync: 403, lock: 403, retire: 403, wipe: 403, rename: 403, restart: 403, 'collect-inventory': 403 },
        [policy]: { sync: 202, lock: 403, retire: 403, wipe: 403, rename: 202, restart: 202, 'collect-inventory': 202 },
        [helpDesk]: { sync: 202, lock: 202, retire: 202, wipe: 202, rename: 202, restart: 202, 'collect-inventory': 202 },
      };
      for (const [t, byAction] of Object.entries(expected)) {
        for (const action of ACTIONS) {
          const res = await act(t, device.id, action, action === 'rename' ? { deviceName: 'pc-1' } : undefined);
          assert.equal(res.statusCode, byAction[action], `${action}: ${res.body}`);
          if (res.statusCode === 403) assert.equal(res.json().code, 'forbidden');
        }
      }
      assert.equal((await h.app.inject({ url: `/api/v1/devices/${device.id}/commands`, headers: admin(readOnly) })).statusCode, 200);
    });

    test('an identical pending sync, lock or inventory request is coalesced; others are not', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      for (const action of ['sync', 'lock', 'collect-inventory']) {
        const first = (await act(gb.adminToken, device.id, action)).json();
        const second = (await act(gb.adminToken, device.id, action)).json();
        assert.equal(second.id, first.id, action);
      }
      const restarts = [
        (await act(gb.adminToken, device.id, 'restart')).json().id,
        (await act(gb.adminToken, device.id, 'restart')).json().id,
      ];
      assert.notEqual(restarts[0], restarts[1]);
      assert.equal((await commands(gb.adminToken, device.id)).length, 5);
      // Once delivered, a new sync is a new command.
      const sync = (await commands(gb.adminToken, device.id)).find((c) => c.action === 'sync');
      await device.checkIn({ inventoryDigest: 'x' });
      const again = (await act(gb.adminToken, device.id, 'sync')).json();
      assert.notEqual(again.id, sync?.id);
    });

    test('a retired device takes no commands; rename needs a valid host name; bad input is a 4xx problem', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const cases: [string, unknown, number, string][] = [
        ['rename', undefined, 400, 'validation-failed'],
        ['rename', {}, 400, 'validation-failed'],
        ['rename', { deviceName: '' }, 400, 'validation-failed'],
        ['rename', { deviceName: 'has space' }, 400, 'validation-failed'],
        ['rename', { deviceName: '-leading' }, 400, 'validation-failed'],
        ['rename', { deviceName: 'x'.repeat(64) }, 400, 'validation-failed'],
        ['rename', { deviceName: 'ok', extra: 1 }, 400, 'validation-failed'],
        ['lock', { deviceName: 'ok' }, 400, 'validation-failed'],
        ['lock', { expiresInHours: 0 }, 400, 'validation-failed'],
        ['frobnicate', undefined, 400, 'validation-failed'],
      ];
      for (const [action, payload, status, code] of cases) {
        const res = await act(gb.adminToken, device.id, action, payload);
        assert.equal(res.statusCode, status, `${action} ${JSON.stringify(payload)}: ${res.body}`);
        assert.equal(res.json().code, code);
        assert.match(String(res.headers['content-type']), /application\/problem\+json/);
      }
      assert.equal((await act(gb.adminToken, device.id, 'rename', { deviceName: 'x'.repeat(63) })).statusCode, 202);
      const raw = (payload: string) =>
        h.app.inject({
          method: 'POST',
          url: `/api/v1/devices/${device.id}/actions/restart`,
          headers: { ...admin(gb.adminToken), 'content-type': 'application/json' },
          payload,
        });
      assert.equal((await raw('')).statusCode, 202, 'an empty JSON body is no body');
      assert.equal((await raw('{nope')).json().code, 'malformed-json');
      assert.equal((await act(gb.adminToken, '00000000-0000-4000-8000-000000000000', 'lock')).json().code, 'not-found');
      assert.equal((await act(gb.adminToken, 'not-a-uuid', 'lock')).json().code, 'validation-failed');
      assert.equal(
        (await h.app.inject({ method: 'POST', url: `/api/v1/devices/${device.id}/actions/lock` })).json().code,
        'unauthenticated',
      );
      const bogusCommand = await h.app.inject({
        url: `/api/v1/devices/${device.id}/commands/00000000-0000-4000-8000-000000000000`,
        headers: admin(gb.adminToken),
      });
      assert.equal(bogusCommand.json().code, 'not-found');

      await h.app.inject({ method: 'DELETE', url: `/api/v1/devices/${device.id}`, headers: admin(gb.adminToken) });
      const retired = await act(gb.adminToken, device.id, 'lock');
      assert.equal(retired.statusCode, 409);
      assert.equal(retired.json().code, 'conflict');
      assert.match(retired.json().detail, /retired/);
    });

    test('bulk actions follow the device list filters, need confirmation for wipe and retire, and coalesce', async () => {
      const fresh = await seedTenant(h, 'FR');
      const linux = [await TestDevice.enroll(h.app, fresh.enrollmentToken), await TestDevice.enroll(h.app, fresh.enrollmentToken)];
      const mac = await TestDevice.enroll(h.app, fresh.enrollmentToken, 'macos');
      const retired = await TestDevice.enroll(h.app, fresh.enrollmentToken);
      await h.app.inject({ method: 'DELETE', url: `/api/v1/devices/${retired.id}`, headers: admin(fresh.adminToken) });
      const bulk = (action: string, payload: unknown, token = fresh.adminToken) =>
        h.app.inject({ method: 'POST', url: `/api/v1/devices/actions/${action}`, headers: admin(token), payload: payload as object });

      const synced = await bulk('sync', { filter: { platform: 'linux' } });
      assert.equal(synced.statusCode, 202, synced.body);
      assert.equal(synced.json().queued, 2);
      assert.equal(synced.json().commands.length, 2);
      const again = await bulk('sync', { filter: {} });
      assert.equal(again.json().queued, 3, 'every active device, the retired one left out');
      assert.ok(
        (synced.json().commands as string[]).every((id) => (again.json().commands as string[]).includes(id)),
        'pending syncs coalesced',
      );
      const picked = await bulk('restart', { filter: {}, deviceIds: [mac.id, retired.id] });
      assert.equal(picked.json().queued, 1);
      const onlyIds = await bulk('lock', { deviceIds: [linux[0]!.id] });
      assert.equal(onlyIds.json().queued, 1);

      const unconfirmed = await bulk('wipe', { filter: { platform: 'macos' } });
      assert.equal(unconfirmed.statusCode, 400);
      assert.match(unconfirmed.json().detail, /confirm/);
      assert.equal((await bulk('retire', { filter: {}, confirm: false })).statusCode, 400);
      const wiped = await bulk('wipe', { filter: { platform: 'macos' }, confirm: true });
      assert.equal(wiped.statusCode, 202);
      assert.equal(wiped.json().queued, 1);
      assert.equal((await commands(fresh.adminToken, mac.id)).filter((c) => c.action === 'wipe').length, 1);

      for (const [action, payload] of [
        ['rename', { filter: {} }],
        ['sync', {}],
        ['sync', { filter: { cursor: 'x' } }],
        ['sync', { filter: { platform: 'amiga' } }],
        ['sync', { deviceIds: ['nope'] }],
        ['sync', { filter: {}, bogus: true }],
        ['nope', { filter: {} }],
      ] as const) {
        const res = await bulk(action, payload);
        assert.equal(res.statusCode, 400, `${action} ${JSON.stringify(payload)}: ${res.body}`);
        assert.equal(res.json().code, 'validation-failed');
      }
      const readOnly = (await h.runtime.services.apiTokens.create(SYSTEM, fresh.tenantId, { role: 'Read Only Operator' })).token;
      assert.equal((await bulk('sync', { filter: {} }, readOnly)).statusCode, 403);
    });

    test('check-in delivers pending commands oldest first and marks them sent; results complete them', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const empty = await device.checkIn({ inventoryDigest: 'x' });
      assert.equal(empty.res.statusCode, 200);
      assert.deepEqual(empty.res.json().commands, [], 'nothing queued: no commands');

      const lock = (await act(gb.adminToken, device.id, 'lock')).json();
      const rename = (await act(gb.adminToken, device.id, 'rename', { deviceName: 'new-name' })).json();
      const restart = (await act(gb.adminToken, device.id, 'restart')).json();
      assert.equal(await pendingCount(device.id), 3);
      const delivered = (await device.checkIn({ inventoryDigest: 'x' })).res.json().commands;
      assert.deepEqual(delivered, [
        { id: lock.id, action: 'lock', payload: null },
        { id: rename.id, action: 'rename', payload: { deviceName: 'new-name' } },
        { id: restart.id, action: 'restart', payload: null },
      ]);
      assert.equal(await pendingCount(device.id), 0);
      const sent = await commands(gb.adminToken, device.id);
      assert.ok(sent.every((c) => c.state === 'sent' && c.attempts === 1));
      assert.deepEqual((await device.checkIn({ inventoryDigest: 'x' })).res.json().commands, [], 'sent once only');

      assert.equal((await result(device, lock.id, { status: 'acknowledged' })).res.statusCode, 204);
      assert.equal((await result(device, rename.id, { status: 'error', detail: 'hostnamectl: access denied' })).res.statusCode, 204);
      assert.equal((await result(device, restart.id, { status: 'notNow', detail: 'user is presenting' })).res.statusCode, 204);
      const byId = new Map((await commands(gb.adminToken, device.id)).map((c) => [c.id, c]));
      assert.equal(byId.get(lock.id)?.state, 'acknowledged');
      assert.equal(byId.get(rename.id)?.state, 'error');
      assert.deepEqual(
        { ...(byId.get(rename.id)?.result as object), at: undefined },
        {
          status: 'error',
          detail: 'hostnamectl: access denied',
          at: undefined,
        },
      );
      assert.equal(byId.get(restart.id)?.state, 'pending', 'notNow returns the command to the queue');
      assert.equal(await pendingCount(device.id), 1);

      const redelivered = (await device.checkIn({ inventoryDigest: 'x' })).res.json().commands;
      assert.deepEqual(
        redelivered.map((c: { id: string }) => c.id),
        [restart.id],
      );
      assert.equal((await commands(gb.adminToken, device.id)).find((c) => c.id === restart.id)?.attempts, 2);

      // A result for a command no longer awaiting one, or for another device's command, is refused.
      const twice = await result(device, lock.id, { status: 'acknowledged' });
      assert.equal(twice.res.statusCode, 409);
      assert.equal(twice.res.json().code, 'conflict');
      const other = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const stolen = await result(other, restart.id, { status: 'acknowledged' });
      assert.equal(stolen.res.statusCode, 404);
      assert.equal((await result(device, '00000000-0000-4000-8000-000000000000', { status: 'acknowledged' })).res.statusCode, 404);
      assert.equal((await result(device, restart.id, { status: 'done' })).res.statusCode, 400);
      assert.equal((await result(device, restart.id, { status: 'error', detail: 'x'.repeat(5000) })).res.statusCode, 400);
      assert.equal((await commands(gb.adminToken, device.id)).find((c) => c.id === restart.id)?.state, 'sent', 'unchanged by refusals');
      // Unauthenticated results are refused before anything is read.
      const anon = await h.app.inject({
        method: 'POST',
        url: `/api/v1/agent/commands/${restart.id}/result`,
        payload: { status: 'acknowledged' },
      });
      assert.equal(anon.json().code, 'device-auth-failed');
    });

    test('commands past their expiry become expired when read or due for delivery', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      const lock = (await act(gb.adminToken, device.id, 'lock', { expiresInHours: 1 })).json();
      const sync = (await act(gb.adminToken, device.id, 'sync', { expiresInHours: 1 })).json();
      const later = (await act(gb.adminToken, device.id, 'restart')).json();
      await device.checkIn({ inventoryDigest: 'x' });
      const stillQueued = (await act(gb.adminToken, device.id, 'collect-inventory', { expiresInHours: 1 })).json();
      const db = h.runtime.storage.inspectRegionStore('eu');
      await db
        .updateTable('device_commands')
        .set({ expires_at: Date.now() - 1 })
        .where('tenant_id', '=', gb.tenantId)
        .where('id', 'in', [lock.id, sync.id, stillQueued.id])
        .execute();
      const delivered = (await device.checkIn({ inventoryDigest: 'x' })).res.json().commands;
      assert.deepEqual(delivered, [], 'an expired pending command is not delivered');
      assert.equal(await pendingCount(device.id), 0);
      const byId = new Map((await commands(gb.adminToken, device.id)).map((c) => [c.id, c.state]));
      assert.equal(byId.get(lock.id), 'expired', 'a sent command past its expiry expires');
      assert.equal(byId.get(stillQueued.id), 'expired');
      assert.equal(byId.get(later.id), 'sent');
      const late = await result(device, lock.id, { status: 'acknowledged' });
      assert.equal(late.res.statusCode, 409);
      assert.equal(late.res.json().state, 'expired');
    });

    test('an acknowledged retire command retires the device record', async () => {
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      await device.checkIn({
        inventoryDigest: 'y',
        inventory: { hardware: { deviceName: 'to-retire' }, apps: [{ name: 'vpn', managed: true }] },
      });
      const retire = (await act(gb.adminToken, device.id, 'retire')).json();
      const delivered = (await device.checkIn({ inventoryDigest: 'y' })).res.json().commands;
      assert.equal(delivered[0].action, 'retire');
      assert.equal((await result(device, retire.id, { status: 'acknowledged' })).res.statusCode, 204);
      const dto = (await h.app.inject({ url: `/api/v1/devices/${device.id}`, headers: admin(gb.adminToken) })).json();
      assert.equal(dto.status, 'retired');
      const apps = (await h.app.inject({ url: `/api/v1/devices/${device.id}/apps`, headers: admin(gb.adminToken) })).json();
      assert.equal(apps.items.length, 0);
      assert.equal((await device.checkIn({ inventoryDigest: 'y' })).res.json().code, 'device-not-active');
      assert.equal((await commands(gb.adminToken, device.id))[0]?.state, 'acknowledged');
    });

    test('the OpenAPI document describes the actions and the device side', async () => {
      const paths = Object.keys((await h.app.inject('/api/v1/openapi.json')).json().paths as object);
      for (const path of [
        '/api/v1/devices/{id}/actions/{action}',
        '/api/v1/devices/actions/{action}',
        '/api/v1/devices/{id}/commands',
        '/api/v1/devices/{id}/commands/{commandId}',
        '/api/v1/agent/commands/{id}/result',
        PUSH_PATH,
      ]) {
        assert.ok(paths.includes(path), path);
      }
    });

    test('the push channel: a device socket authenticated at upgrade is woken when a command is queued', async () => {
      const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
      const url = address.replace('http', 'ws') + PUSH_PATH;
      const device = await TestDevice.enroll(h.app, gb.enrollmentToken);
      await device.startSession();
      const connect = (headers: Record<string, string>) => {
        const socket = new WebSocket(url, { headers });
        return new Promise<WebSocket>((resolve, reject) => {
          socket.once('open', () => resolve(socket));
          socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
          socket.once('error', reject);
        });
      };
      await assert.rejects(connect({}), /401/);
      await assert.rejects(connect({ authorization: device.macHeaders('GET', '/api/v1/agent/elsewhere', '').authorization! }), /401/);
      const headers = { authorization: device.macHeaders('GET', PUSH_PATH, '').authorization! };
      const first = await connect(headers);
      await assert.rejects(connect(headers), /401/, 'a replayed upgrade is refused');
      const messages: unknown[] = [];
      first.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString())));
      await act(gb.adminToken, device.id, 'sync');
      const deadline = Date.now() + 5000;
      while (messages.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(messages, [{ type: 'wake' }]);

      const closed = once(first, 'close');
      const second = await connect({ authorization: device.macHeaders('GET', PUSH_PATH, '').authorization! });
      const [code] = (await closed) as [number];
      assert.equal(code, PUSH_CLOSE_REPLACED, 'the older socket of a reconnecting device is closed');
      const woken = once(second, 'message');
      await act(gb.adminToken, device.id, 'lock');
      assert.deepEqual(JSON.parse(String((await woken)[0])), { type: 'wake' });
      second.close();
      // A plain HTTP request to the push endpoint is a clear 4xx, authenticated or not.
      assert.equal((await h.app.inject({ url: PUSH_PATH })).json().code, 'device-auth-failed');
      const plain = await h.app.inject({
        url: PUSH_PATH,
        headers: { authorization: device.macHeaders('GET', PUSH_PATH, '').authorization! },
      });
      assert.equal(plain.statusCode, 426);
      assert.equal(plain.json().code, 'upgrade-required');

      await h.app.inject({ method: 'DELETE', url: `/api/v1/devices/${device.id}`, headers: admin(gb.adminToken) });
      await assert.rejects(connect({ authorization: device.macHeaders('GET', PUSH_PATH, '').authorization! }), /403/);
    });
  });
}
