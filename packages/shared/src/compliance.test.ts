import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareVersions,
  evaluateSettings,
  mostSevere,
  needsFullAppInventory,
  stateOfResults,
  type ComplianceInput,
  type PasswordRequirement,
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

test('requirePassword: one result naming every failing part, unknown for what was not reported', () => {
  const password = (hardware: ComplianceInput['hardware'], requirement: PasswordRequirement = { minimumLength: 8, type: 'alphanumeric' }) =>
    evaluateSettings({ requirePassword: requirement }, { ...base, hardware })[0];
  assert.deepEqual(password({ passwordRequired: false, passwordMinimumLength: 8, passwordType: 'complex' }), {
    setting: 'requirePassword',
    status: 'noncompliant',
    reason: 'A password is required to unlock this device; none is set.',
  });
  assert.deepEqual(password({ passwordRequired: true, passwordMinimumLength: 4, passwordType: 'numeric' }), {
    setting: 'requirePassword',
    status: 'noncompliant',
    reason:
      'The password policy allows 4 characters; at least 8 are required. The password policy allows numeric passwords; alphanumeric ones are required.',
  });
  // A reported failure is noncompliant even when another part is unknown.
  assert.equal(password({ passwordRequired: null, passwordMinimumLength: 6 })?.status, 'noncompliant');
  assert.deepEqual(password({ passwordRequired: true, passwordMinimumLength: 12, passwordType: 'complex' }), {
    setting: 'requirePassword',
    status: 'compliant',
    reason: 'A password is required to unlock this device; its policy demands at least 12 characters and complex passwords.',
  });
  assert.deepEqual(password({}), {
    setting: 'requirePassword',
    status: 'unknown',
    reason:
      'The device has not reported whether a password is required to unlock it, nor its minimum password length, nor which kind of password it requires.',
  });
  // `{}` asks for a password only: length and type are not looked at.
  assert.deepEqual(password({ passwordRequired: true, passwordMinimumLength: 0 }, {}), {
    setting: 'requirePassword',
    status: 'compliant',
    reason: 'A password is required to unlock this device.',
  });
  assert.equal(
    password({ passwordRequired: true, passwordMinimumLength: 1 }, { minimumLength: 4 })?.reason,
    'The password policy allows 1 character; at least 4 are required.',
  );
  assert.equal(
    password({ passwordRequired: true, passwordType: 'bogus' }, { type: 'numeric' })?.status,
    'unknown',
    'an unknown type is not a guess',
  );
});

test('requireFirewall: on, off and not reported', () => {
  const firewall = (firewallEnabled: boolean | null | undefined) =>
    evaluateSettings({ requireFirewall: true }, { ...base, hardware: firewallEnabled === undefined ? {} : { firewallEnabled } })[0];
  assert.deepEqual(firewall(true), { setting: 'requireFirewall', status: 'compliant', reason: 'The firewall is on.' });
  assert.deepEqual(firewall(false), { setting: 'requireFirewall', status: 'noncompliant', reason: 'The firewall is off; turn it on.' });
  assert.equal(firewall(null)?.status, 'unknown');
  assert.equal(firewall(undefined)?.reason, 'The device has not reported whether its firewall is on.');
  assert.deepEqual(
    evaluateSettings({ requireFirewall: false }, { ...base, hardware: { firewallEnabled: false } }),
    [],
    'false is not evaluated',
  );
});
