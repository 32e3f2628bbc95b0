import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyInventoryDelta,
  appKey,
  canonicalInventoryJson,
  diffInventory,
  validateInventoryDocument,
  type InventoryDocument,
} from './inventory.js';
import { appInventoryScope, CATALOG_FIELDS, HARDWARE_FIELDS, prohibitedCategoryOf } from './privacy-catalog.js';

const doc: InventoryDocument = {
  hardware: { deviceName: 'a', osVersion: '1', encrypted: true, totalStorageBytes: 10 },
  apps: [
    { name: 'b', appId: 'b', version: '1' },
    { name: 'a', version: '2', installLocation: '/opt/a' },
  ],
};

test('a valid document passes; every offending field is named at once', () => {
  assert.equal(validateInventoryDocument(doc).ok, true);
  const result = validateInventoryDocument({
    hardware: { gpsLocation: 'x', encrypted: 'yes', deviceName: 'y'.repeat(300) },
    apps: [{ version: '1' }],
    photos: [],
  });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(
    result.issues.map((i) => [i.field, i.reason]),
    [
      ['photos', 'prohibited'],
      ['hardware.gpsLocation', 'prohibited'],
      ['hardware.encrypted', 'invalid-type'],
      ['hardware.deviceName', 'too-long'],
      ['apps[0].name', 'required'],
    ],
  );
});

test('platform extras are refused on platforms the catalog does not declare them for', () => {
  assert.equal(validateInventoryDocument({ hardware: { imei: '1' }, apps: [] }, 'ios').ok, true);
  assert.equal(validateInventoryDocument({ hardware: { imei: '1' }, apps: [] }, 'linux').ok, false);
});

test('prohibited categories are recognised by name', () => {
  assert.equal(prohibitedCategoryOf('gpsLocation'), 'location');
  assert.equal(prohibitedCategoryOf('callLog'), 'call-log');
  assert.equal(prohibitedCategoryOf('smsMessages'), 'messages');
  assert.equal(prohibitedCategoryOf('favouriteColour'), undefined);
});

test('the canonical JSON does not depend on key or app order', () => {
  const shuffled: InventoryDocument = {
    hardware: { totalStorageBytes: 10, encrypted: true, osVersion: '1', deviceName: 'a' },
    apps: [...doc.apps].reverse(),
  };
  assert.equal(canonicalInventoryJson(shuffled), canonicalInventoryJson(doc));
});

test('a delta applied to the old inventory gives the new one', () => {
  const next: InventoryDocument = {
    hardware: { deviceName: 'a', osVersion: '2', encrypted: true },
    apps: [{ name: 'b', appId: 'b', version: '2' }, { name: 'c' }],
  };
  const delta = diffInventory(doc, next, 'base');
  assert.ok(delta);
  assert.deepEqual(delta.hardware, { osVersion: '2', totalStorageBytes: null });
  assert.deepEqual(delta.removeApps, [appKey({ name: 'a', installLocation: '/opt/a' })]);
  const applied = applyInventoryDelta(doc, delta);
  assert.equal(
    canonicalInventoryJson({ ...applied, hardware: { ...applied.hardware, totalStorageBytes: undefined as never } }),
    canonicalInventoryJson(next),
  );
  assert.equal(diffInventory(doc, doc, 'base'), undefined);
});

test('the ownership rule: personal devices keep managed apps only, unless an app-list policy applies; macOS keeps all', () => {
  assert.equal(appInventoryScope('corporate', 'linux', false), 'all');
  assert.equal(appInventoryScope('personal', 'linux', false), 'managed-only');
  assert.equal(appInventoryScope('personal', 'linux', true), 'all');
  assert.equal(appInventoryScope('personal', 'macos', false), 'all');
});

test('the catalog declares every field the seed lists, with purpose, retention and sensitivity', () => {
  const seed = [
    'deviceName',
    'manufacturer',
    'model',
    'operatingSystem',
    'processor',
    'serialNumber',
    'osVersion',
    'cellularTechnology',
    'jailBroken',
    'freeStorageBytes',
    'totalStorageBytes',
    'exchangeDeviceId',
    'wifiMac',
    'ethernetMac',
    'encrypted',
  ];
  for (const name of seed)
    assert.ok(
      HARDWARE_FIELDS.some((f) => f.name === name),
      name,
    );
  for (const f of CATALOG_FIELDS) {
    assert.ok(f.purpose.length > 10 && f.retention.description.length > 10, f.name);
    assert.ok(f.platforms.length > 0, f.name);
  }
  for (const sensitive of ['serialNumber', 'wifiMac', 'ethernetMac', 'exchangeDeviceId', 'imei', 'userEmail', 'userPhone']) {
    assert.equal(CATALOG_FIELDS.find((f) => f.name === sensitive)?.sensitivity, 'sensitive', sensitive);
  }
});

test('security state: passwordType takes its fixed values only; the firewall is not declared for phones', () => {
  const hardware = { passwordRequired: true, passwordMinimumLength: 8, passwordType: 'complex', firewallEnabled: false };
  assert.equal(validateInventoryDocument({ hardware, apps: [] }, 'linux').ok, true);
  const bad = validateInventoryDocument(
    { hardware: { ...hardware, passwordType: 'strong', passwordMinimumLength: -1 }, apps: [] },
    'linux',
  );
  assert.equal(bad.ok, false);
  if (!bad.ok)
    assert.deepEqual(
      bad.issues.map((i) => [i.field, i.reason]),
      [
        ['hardware.passwordMinimumLength', 'invalid-type'],
        ['hardware.passwordType', 'invalid-type'],
      ],
    );
  assert.equal(validateInventoryDocument({ hardware: { firewallEnabled: true }, apps: [] }, 'ios').ok, false);
  assert.equal(validateInventoryDocument({ hardware: { passwordRequired: true }, apps: [] }, 'ios').ok, true);
  assert.deepEqual(HARDWARE_FIELDS.find((f) => f.name === 'passwordType')?.allowedValues, ['numeric', 'alphanumeric', 'complex']);
});
