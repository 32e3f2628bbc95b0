import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSystemProfilerApplications } from './macos-applications.js';

// Trimmed from `system_profiler SPApplicationsDataType -json` on macOS 14.4.
const SAMPLE = JSON.stringify({
  SPApplicationsDataType: [
    {
      _name: 'Safari',
      arch_kind: 'arch_arm_i64',
      lastModified: '2024-03-22T08:21:10Z',
      obtained_from: 'apple',
      path: '/Applications/Safari.app',
      signed_by: ['Software Signing', 'Apple Code Signing Certification Authority', 'Apple Root CA'],
      version: '17.4.1',
    },
    {
      _name: 'Visual Studio Code',
      arch_kind: 'arch_arm_i64',
      lastModified: '2024-04-02T11:03:51Z',
      obtained_from: 'identified_developer',
      path: '/Applications/Visual Studio Code.app',
      version: '1.88.0',
    },
    { _name: 'Helper Without Version', path: '/Library/Application Support/Helper.app', obtained_from: 'unknown' },
    { arch_kind: 'arch_other', path: '/nowhere.app' },
  ],
});

describe('parseSystemProfilerApplications', () => {
  it('maps name, version and path; no bundle id or size is reported, so they are null', () => {
    const apps = parseSystemProfilerApplications(SAMPLE);
    assert.equal(apps.length, 3);
    assert.deepEqual(apps[0], {
      name: 'Safari',
      version: '17.4.1',
      appId: null,
      installLocation: '/Applications/Safari.app',
      sizeBytes: null,
      managed: false,
    });
    assert.equal(apps[2]?.version, null);
  });

  it('returns nothing for output it cannot read', () => {
    assert.deepEqual(parseSystemProfilerApplications('not json'), []);
    assert.deepEqual(parseSystemProfilerApplications('{}'), []);
  });
});
