import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareVersions,
  evaluateSettings,
  mostSevere,
  needsFullAppInventory,
  stateOfResults,
  type ComplianceInput,
} from './compliance.js';

const now = Date.UTC(2026, 10, 29);
const base: ComplianceInput = {
  hardware: { osVersion: '11.2', encrypted: false, jailBroken: null },
  apps: [
    { name: 'Signal', appId: 'org.signal' },
    { name: 'Company VPN', appId: 'com.acme.vpn' },
  ],
  lastCheckInAt: now - 3 * 24 * 60 * 60 * 1000,
  now,
};

test('versions compare part by part, ignoring trailing text', () => {
  assert.equal(compareVersions('11.2', '12.0'), -1);
  assert.equal(compareVersions('12.10', '12.9'), 1);
  assert.equal(compareVersions('22.04.4 LTS', '22.04'), 1);
  assert.equal(compareVersions('12', '12.0.0'), 0);
  assert.equal(compareVersions('bookworm', '12'), undefined);
});

test('each setting gets its own result and a reason a person can act on', () => {
  const results = evaluateSettings(
    { requireEncryption: true, minimumOsVersion: '12.0', blockJailbroken: true, appDenyList: ['org.signal'], maxDaysSinceCheckIn: 2 },
    base,
  );
  assert.deepEqual(
    results.map((r) => [r.setting, r.status]),
    [
      ['requireEncryption', 'noncompliant'],
      ['minimumOsVersion', 'noncompliant'],
      ['blockJailbroken', 'unknown'],
      ['appDenyList', 'noncompliant'],
      ['maxDaysSinceCheckIn', 'noncompliant'],
    ],
  );
  assert.equal(results[1]?.reason, 'OS 11.2 is below the required 12.0.');
  assert.match(results[3]?.reason ?? '', /Signal/);
  assert.equal(stateOfResults(results), 'noncompliant');
});

test('fixing the device makes it compliant; an unreported value is unknown, never a guess', () => {
  const fixed = evaluateSettings(
    { requireEncryption: true, minimumOsVersion: '12.0', appAllowList: ['com.acme.vpn', 'Signal'] },
    { ...base, hardware: { osVersion: '12.1', encrypted: true } },
  );
  assert.equal(stateOfResults(fixed), 'compliant');
  const unreported = evaluateSettings({ requireEncryption: true }, { ...base, hardware: {} });
  assert.equal(stateOfResults(unreported), 'unknown');
});

test('the most severe state wins across policies', () => {
  assert.equal(mostSevere(['compliant', 'inGracePeriod', 'unknown'], 'compliant'), 'inGracePeriod');
  assert.equal(mostSevere(['compliant', 'error', 'noncompliant'], 'compliant'), 'error');
  assert.equal(mostSevere([], 'noncompliant'), 'noncompliant');
});

test('app lists switch a device to full app inventory', () => {
  assert.equal(needsFullAppInventory({ appDenyList: ['x'] }), true);
  assert.equal(needsFullAppInventory({ requireEncryption: true, appAllowList: [] }), false);
});
