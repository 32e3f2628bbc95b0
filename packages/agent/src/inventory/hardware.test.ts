import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HARDWARE_FIELDS, validateHardware, type FieldIssue } from '@custos/shared';
import { describeProcessor, firstMac, hardwareFromFacts, normalizeMac, type SystemFacts } from './hardware.js';

const nic = (type: string, mac: string, extra: Partial<{ internal: boolean; virtual: boolean }> = {}) => ({
  type,
  mac,
  internal: false,
  virtual: false,
  ...extra,
});

// What systeminformation 5 reports on a Dell laptop running Ubuntu 22.04.
const LAPTOP: SystemFacts = {
  system: { manufacturer: 'Dell Inc.', model: 'Latitude 7420', serial: '8XK2LM3' },
  osInfo: { hostname: 'jdoe-laptop', distro: 'Ubuntu', release: '22.04.4 LTS' },
  cpu: { manufacturer: 'Intel', brand: 'Core™ i7-1185G7' },
  fsSize: [
    { mount: '/boot/efi', size: 536_834_048, available: 530_000_000 },
    { mount: '/', size: 502_468_108_288, available: 301_220_859_904 },
  ],
  networkInterfaces: [
    nic('virtual', '00:00:00:00:00:00', { internal: true }),
    nic('wired', '02:42:ac:11:00:02', { virtual: true }),
    nic('wired', 'A4:BB:6D:11:22:33'),
    nic('wireless', '8c:f8:c5:aa:bb:cc'),
  ],
  encrypted: true,
  secureBoot: true,
  firewallEnabled: false,
  password: { passwordRequired: null, passwordMinimumLength: 8, passwordType: 'numeric' },
};

describe('hardwareFromFacts', () => {
  it('maps systeminformation facts onto the catalog field names', () => {
    assert.deepEqual(hardwareFromFacts(LAPTOP, 'linux'), {
      deviceName: 'jdoe-laptop',
      manufacturer: 'Dell Inc.',
      model: 'Latitude 7420',
      operatingSystem: 'Ubuntu',
      osVersion: '22.04.4 LTS',
      processor: 'Intel Core™ i7-1185G7',
      serialNumber: '8XK2LM3',
      cellularTechnology: null,
      jailBroken: null,
      freeStorageBytes: 301_220_859_904,
      totalStorageBytes: 502_468_108_288,
      exchangeDeviceId: null,
      wifiMac: '8c:f8:c5:aa:bb:cc',
      ethernetMac: 'a4:bb:6d:11:22:33',
      encrypted: true,
      secureBoot: true,
      firewallEnabled: false,
      passwordRequired: null,
      passwordMinimumLength: 8,
      passwordType: 'numeric',
    });
  });

  it('sends only fields the catalog declares for the platform, and they validate', () => {
    for (const platform of ['linux', 'macos', 'windows'] as const) {
      const hardware = hardwareFromFacts(LAPTOP, platform);
      const declared = HARDWARE_FIELDS.filter((f) => f.platforms.includes(platform)).map((f) => f.name);
      assert.deepEqual(Object.keys(hardware).sort(), [...declared].sort(), platform);
      const issues: FieldIssue[] = [];
      validateHardware(hardware, 'hardware', issues, platform);
      assert.deepEqual(issues, [], platform);
    }
  });

  it('reports placeholders and values it cannot find as null, never a guess', () => {
    const container: SystemFacts = {
      system: { manufacturer: '', model: 'Docker Container', serial: '-' },
      osInfo: { hostname: 'vm', distro: 'Debian GNU/Linux', release: '12' },
      cpu: { manufacturer: 'AMD', brand: 'EPYC' },
      fsSize: [{ mount: '/data', size: 10, available: 5 }],
      networkInterfaces: [nic('wired', '02:fc:00:00:00:01')],
      encrypted: null,
      secureBoot: false,
      firewallEnabled: null,
      password: { passwordRequired: null, passwordMinimumLength: null, passwordType: null },
    };
    const hardware = hardwareFromFacts(container, 'linux');
    assert.equal(hardware['manufacturer'], null);
    assert.equal(hardware['serialNumber'], null);
    assert.equal(hardware['model'], 'Docker Container');
    assert.equal(hardware['totalStorageBytes'], null);
    assert.equal(hardware['freeStorageBytes'], null);
    assert.equal(hardware['wifiMac'], null);
    assert.equal(hardware['encrypted'], null);
    assert.equal(hardware['firewallEnabled'], null, 'a firewall it could not determine is not reported');
    assert.equal(hardware['passwordMinimumLength'], null);
  });

  it('uses the system drive on Windows and drops values longer than the catalog allows', () => {
    const windows: SystemFacts = {
      ...LAPTOP,
      system: { ...LAPTOP.system, model: 'x'.repeat(300) },
      fsSize: [{ mount: 'C:', size: 1000, available: 400 }],
    };
    const hardware = hardwareFromFacts(windows, 'windows');
    assert.equal(hardware['totalStorageBytes'], 1000);
    assert.equal(hardware['model'], null);
    assert.equal(hardware['exchangeDeviceId'], null);
  });
});

describe('MAC addresses', () => {
  it('normalizes to lower-case colon form and refuses the all-zero address', () => {
    assert.equal(normalizeMac('A4-BB-6D-11-22-33'), 'a4:bb:6d:11:22:33');
    assert.equal(normalizeMac('00:00:00:00:00:00'), null);
    assert.equal(normalizeMac(''), null);
  });

  it('skips internal, virtual and zero-address interfaces', () => {
    assert.equal(firstMac([nic('wired', '00:00:00:00:00:00'), nic('wired', '11:22:33:44:55:66')], 'wired'), '11:22:33:44:55:66');
    assert.equal(firstMac([nic('wireless', '11:22:33:44:55:66', { virtual: true })], 'wireless'), null);
  });
});

describe('describeProcessor', () => {
  it('joins manufacturer and brand, skipping what is not reported', () => {
    assert.equal(describeProcessor({ manufacturer: 'Apple', brand: 'M2 Pro' }), 'Apple M2 Pro');
    assert.equal(describeProcessor({ manufacturer: 'unknown', brand: 'EPYC' }), 'EPYC');
    assert.equal(describeProcessor({ manufacturer: '', brand: '' }), null);
  });
});
