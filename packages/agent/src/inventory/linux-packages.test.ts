import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDpkgQuery, parseRpmQuery } from './linux-packages.js';

// As printed by dpkg-query 1.21 on Debian 12, including a removed package (rc) and a half-installed one.
const DPKG_OUTPUT = [
  'adduser\t3.134\t686\tii ',
  'bash\t5.2.15-2+b7\t7163\tii ',
  'libc6:amd64\t2.36-9+deb12u10\t12988\tii ',
  'libc6:i386\t2.36-9+deb12u10\t12005\tii ',
  'linux-image-6.1.0-18-amd64\t6.1.76-1\t\trc ',
  'firefox-esr\t115.9.1esr-1~deb12u1\t236411\tiU ',
  'virtual-only\t\t\tun ',
  'tzdata\t2024a-0+deb12u1\t\tii ',
  '',
].join('\n');

// As printed by rpm 4.18 on Fedora 39 with RPM_QUERY_ARGS.
const RPM_OUTPUT = [
  'bash\t5.2.26-1.fc39\tx86_64\t8255525',
  'openssl-libs\t1:3.1.1-4.fc39\tx86_64\t7884353',
  'glibc\t2.38-16.fc39\ti686\t6012345',
  'gpg-pubkey\t18b8e74c-62f2920f\t(none)\t0',
  '',
].join('\n');

describe('parseDpkgQuery', () => {
  it('keeps installed (ii) packages with the package as app id and Installed-Size KiB in bytes', () => {
    const apps = parseDpkgQuery(DPKG_OUTPUT);
    assert.deepEqual(
      apps.map((a) => a.appId),
      ['adduser', 'bash', 'libc6:amd64', 'libc6:i386', 'tzdata'],
    );
    assert.deepEqual(apps[1], {
      name: 'bash',
      version: '5.2.15-2+b7',
      appId: 'bash',
      installLocation: null,
      sizeBytes: 7163 * 1024,
      managed: false,
    });
  });

  it('reports an unknown size as null, not zero', () => {
    assert.equal(parseDpkgQuery(DPKG_OUTPUT).find((a) => a.name === 'tzdata')?.sizeBytes, null);
  });

  it('accepts empty output', () => {
    assert.deepEqual(parseDpkgQuery(''), []);
  });
});

describe('parseRpmQuery', () => {
  it('names apps NAME.ARCH, keeps the epoch in the version and the size in bytes', () => {
    const apps = parseRpmQuery(RPM_OUTPUT);
    assert.deepEqual(apps[1], {
      name: 'openssl-libs',
      version: '1:3.1.1-4.fc39',
      appId: 'openssl-libs.x86_64',
      installLocation: null,
      sizeBytes: 7884353,
      managed: false,
    });
    assert.equal(apps[2]?.appId, 'glibc.i686');
  });

  it('uses the bare name for packages without an architecture', () => {
    assert.equal(parseRpmQuery(RPM_OUTPUT)[3]?.appId, 'gpg-pubkey');
  });
});
