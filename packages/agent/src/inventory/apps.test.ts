import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppRecord } from '@custos/shared';
import { selectReportedApps } from './apps.js';

const app = (name: string, extra: Partial<AppRecord> = {}): AppRecord => ({
  name,
  version: '1.0',
  appId: name.toLowerCase(),
  installLocation: null,
  sizeBytes: 1024,
  managed: false,
  ...extra,
});

describe('selectReportedApps', () => {
  it('sends every app for a device whose scope is all', () => {
    assert.deepEqual(
      selectReportedApps([app('Firefox'), app('Custos VPN', { managed: true })], 'all').map((a) => a.name),
      ['Firefox', 'Custos VPN'],
    );
  });

  it('sends only managed apps for a personal (managed-only) device', () => {
    assert.deepEqual(
      selectReportedApps([app('Firefox'), app('Custos VPN', { managed: true }), app('Game', { managed: null })], 'managed-only').map(
        (a) => a.name,
      ),
      ['Custos VPN'],
    );
  });

  it('keeps the first of two records for the same app and drops values the catalog would refuse', () => {
    const apps = selectReportedApps(
      [app('7-Zip', { version: '23.01' }), app('7-Zip', { version: '19.00' }), app('Long', { version: 'v'.repeat(200) }), app('  ')],
      'all',
    );
    assert.deepEqual(
      apps.map((a) => [a.name, a.version]),
      [
        ['7-Zip', '23.01'],
        ['Long', null],
      ],
    );
  });
});
