import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { agentCannotApply, mergeRestrictions, renderSubjectTemplate, unknownTemplateVariables } from './configuration-profiles.js';

describe('configuration profiles', () => {
  test('booleans resolve to the restrictive value, the screen lock to the shortest, password length to the longest', () => {
    const merged = mergeRestrictions([
      { profileId: 'a', settings: { cameraDisabled: false, screenLockMaxMinutes: 10, minimumPasswordLength: 8 } },
      { profileId: 'b', settings: { cameraDisabled: true, screenLockMaxMinutes: 3, minimumPasswordLength: 12, usbStorageDisabled: false } },
    ]);
    assert.deepEqual(merged.settings, {
      cameraDisabled: true,
      usbStorageDisabled: false,
      screenLockMaxMinutes: 3,
      minimumPasswordLength: 12,
    });
    assert.deepEqual(
      merged.conflicts.map((c) => [c.setting, c.resolvedValue, c.values.map((v) => v.profileId)]),
      [
        ['cameraDisabled', true, ['a', 'b']],
        ['screenLockMaxMinutes', 3, ['a', 'b']],
        ['minimumPasswordLength', 12, ['a', 'b']],
      ],
    );
  });

  test('agreeing profiles are no conflict', () => {
    const merged = mergeRestrictions([
      { profileId: 'a', settings: { cameraDisabled: true } },
      { profileId: 'b', settings: { cameraDisabled: true } },
    ]);
    assert.deepEqual(merged, { settings: { cameraDisabled: true }, conflicts: [] });
  });

  test('subject templates fill in escaped values and name unknown variables', () => {
    const values = { deviceName: 'a,b', deviceId: 'id-1', serialNumber: null, userEmail: null, tenantId: 't' };
    assert.equal(renderSubjectTemplate('CN={{deviceName}}, serialNumber={{ serialNumber }}', values), 'CN=a\\,b, serialNumber=unknown');
    assert.deepEqual(unknownTemplateVariables('CN={{deviceName}}/{{hostname}}'), ['hostname']);
  });

  test('the Linux agent applies Wi-Fi but not a macOS payload, and no agent adapter exists elsewhere yet', () => {
    const wifi = { kind: 'wifi' as const, wifi: { ssid: 'x', security: 'none' as const } };
    assert.equal(agentCannotApply('linux', wifi), undefined);
    assert.match(agentCannotApply('windows', wifi) ?? '', /windows/);
    assert.match(
      agentCannotApply('linux', { kind: 'custom', custom: { payloadType: 'apple-configuration-profile', content: '<plist/>' } }) ?? '',
      /networkmanager-keyfile/,
    );
    assert.match(
      agentCannotApply('linux', { kind: 'restrictions', restrictions: { screenCaptureDisabled: true } }) ?? '',
      /screenCaptureDisabled/,
    );
  });
});
