import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFdesetupStatus, parseManageBdeStatus, rootFilesystemEncrypted } from './disk-encryption.js';

const dev = (name: string, type: string, fsType: string, mount = '') => ({ name, type, fsType, mount });

describe('rootFilesystemEncrypted', () => {
  it('is true for root directly on a LUKS mapping', () => {
    assert.equal(
      rootFilesystemEncrypted([
        dev('nvme0n1', 'disk', ''),
        dev('nvme0n1p2', 'part', 'crypto_LUKS'),
        dev('luks-3f1c', 'crypt', 'ext4', '/'),
        dev('nvme0n1p1', 'part', 'vfat', '/boot/efi'),
      ]),
      true,
    );
  });

  it('is true for LVM on LUKS (the Ubuntu encrypted install), false for plain LVM', () => {
    assert.equal(
      rootFilesystemEncrypted([
        dev('sda3', 'part', 'crypto_LUKS'),
        dev('dm_crypt-0', 'crypt', 'LVM2_member'),
        dev('ubuntu--vg-ubuntu--lv', 'lvm', 'ext4', '/'),
      ]),
      true,
    );
    assert.equal(rootFilesystemEncrypted([dev('sda3', 'part', 'LVM2_member'), dev('fedora-root', 'lvm', 'xfs', '/')]), false);
  });

  it('is false for a plain partition or disk', () => {
    assert.equal(rootFilesystemEncrypted([dev('sda', 'disk', ''), dev('sda1', 'part', 'ext4', '/')]), false);
    assert.equal(rootFilesystemEncrypted([dev('vda', 'disk', '', '/')]), false);
  });

  it('cannot tell when root is missing, ambiguous or on mixed volumes', () => {
    assert.equal(rootFilesystemEncrypted([]), null);
    assert.equal(rootFilesystemEncrypted([dev('md0', 'raid1', 'ext4', '/')]), null);
    assert.equal(
      rootFilesystemEncrypted([
        dev('sda2', 'part', 'LVM2_member'),
        dev('luks-1', 'crypt', 'LVM2_member'),
        dev('vg-root', 'lvm', 'ext4', '/'),
      ]),
      null,
    );
  });
});

describe('parseFdesetupStatus', () => {
  it('reads FileVault on and off', () => {
    assert.equal(parseFdesetupStatus('FileVault is On.\n'), true);
    assert.equal(parseFdesetupStatus('FileVault is Off.\n'), false);
    assert.equal(parseFdesetupStatus('Encryption in progress: Percent completed = 42\n'), null);
  });
});

describe('parseManageBdeStatus', () => {
  const report = (conversion: string, protection: string) =>
    [
      'BitLocker Drive Encryption: Configuration Tool version 10.0.22621',
      'Copyright (C) 2013 Microsoft Corporation. All rights reserved.',
      '',
      'Volume C: [Windows]',
      '[OS Volume]',
      '',
      '    Size:                 475.83 GB',
      '    BitLocker Version:    2.0',
      `    Conversion Status:    ${conversion}`,
      '    Percentage Encrypted: 100.0%',
      '    Encryption Method:    XTS-AES 128',
      `    Protection Status:    ${protection}`,
      '    Lock Status:          Unlocked',
      '',
    ].join('\r\n');

  it('is true only when protection is on', () => {
    assert.equal(parseManageBdeStatus(report('Used Space Only Encrypted', 'Protection On')), true);
    assert.equal(parseManageBdeStatus(report('Fully Decrypted', 'Protection Off')), false);
    assert.equal(parseManageBdeStatus(report('Fully Encrypted', 'Protection Off (1 reboots left)')), false);
  });

  it('cannot tell from an error message', () => {
    assert.equal(parseManageBdeStatus('ERROR: An attempt to access a required resource was denied.'), null);
  });
});
