/**
 * What the agent would run for each action on each platform, and simulate mode. Real mode is never
 * exercised here: no test may lock, rename or reboot the machine it runs on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeliveredCommand } from '@custos/shared';
import { invocationsFor, performAction, SIMULATED_ACTIONS_FILE, WIPE_DISABLED_DETAIL } from './device-actions.js';

const command = (action: DeliveredCommand['action'], payload: DeliveredCommand['payload'] = null): DeliveredCommand => ({
  id: '00000000-0000-4000-8000-000000000001',
  action,
  payload,
});

test('each platform uses its own tools, without a shell', () => {
  assert.deepEqual(invocationsFor(command('lock'), 'linux'), [{ file: 'loginctl', args: ['lock-sessions'] }]);
  assert.deepEqual(invocationsFor(command('lock'), 'macos'), [{ file: 'pmset', args: ['displaysleepnow'] }]);
  assert.deepEqual(invocationsFor(command('lock'), 'windows'), [{ file: 'rundll32.exe', args: ['user32.dll,LockWorkStation'] }]);
  const restart = invocationsFor(command('restart'), 'linux');
  assert.ok(
    Array.isArray(restart) && restart[0]?.file === 'shutdown' && restart[0].args[1] === '+5',
    'a restart is scheduled, not immediate',
  );
  assert.deepEqual(invocationsFor(command('restart'), 'macos'), [{ file: 'shutdown', args: ['-r', '+5'] }]);
  const windows = invocationsFor(command('restart'), 'windows');
  assert.ok(Array.isArray(windows) && windows[0]?.args.slice(0, 3).join(' ') === '/r /t 300');
  assert.deepEqual(invocationsFor(command('rename', { deviceName: 'pc-7' }), 'linux'), [
    { file: 'hostnamectl', args: ['set-hostname', 'pc-7'] },
  ]);
  assert.deepEqual(
    (invocationsFor(command('rename', { deviceName: 'pc-7' }), 'macos') as { args: string[] }[]).map((i) => i.args[1]),
    ['ComputerName', 'HostName', 'LocalHostName'],
  );
  assert.match(JSON.stringify(invocationsFor(command('rename', { deviceName: 'pc-7' }), 'windows')), /Rename-Computer/);
  assert.deepEqual(invocationsFor(command('wipe'), 'windows'), [{ file: 'systemreset', args: ['-factoryreset'] }]);
  assert.match(invocationsFor(command('wipe'), 'linux') as string, /not supported/);
  // A name a tool could misread never reaches one, whatever the server sent.
  for (const deviceName of ['a b', '-x', 'x;reboot', '$(id)', '']) {
    assert.equal(typeof invocationsFor(command('rename', { deviceName }), 'windows'), 'string', deviceName);
  }
});

test('simulate mode records the action instead of running it, and wipe needs --allow-wipe', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'custos-agent-actions-'));
  try {
    const simulate = { mode: 'simulate' as const, allowWipe: false };
    assert.deepEqual(await performAction(command('lock'), 'linux', dir, simulate), { status: 'acknowledged' });
    assert.deepEqual(await performAction(command('rename', { deviceName: 'pc-7' }), 'linux', dir, simulate), { status: 'acknowledged' });
    assert.deepEqual(await performAction(command('restart'), 'linux', dir, simulate), { status: 'acknowledged' });
    assert.deepEqual(await performAction(command('wipe'), 'windows', dir, simulate), { status: 'error', detail: WIPE_DISABLED_DETAIL });
    // Even in real mode a wipe without --allow-wipe is refused before anything runs.
    assert.deepEqual(await performAction(command('wipe'), 'windows', dir, { mode: 'real', allowWipe: false }), {
      status: 'error',
      detail: WIPE_DISABLED_DETAIL,
    });
    assert.deepEqual(await performAction(command('wipe'), 'windows', dir, { mode: 'simulate', allowWipe: true }), {
      status: 'acknowledged',
    });
    assert.equal((await performAction(command('wipe'), 'linux', dir, { mode: 'simulate', allowWipe: true })).status, 'error');
    const lines = readFileSync(join(dir, SIMULATED_ACTIONS_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; wouldRun: { file: string }[] });
    assert.deepEqual(
      lines.map((l) => [l.action, l.wouldRun[0]?.file]),
      [
        ['lock', 'loginctl'],
        ['rename', 'hostnamectl'],
        ['restart', 'shutdown'],
        ['wipe', 'systemreset'],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
