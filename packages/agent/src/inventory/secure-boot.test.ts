import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseSecureBootVariable, parseWindowsSecureBootState, readLinuxSecureBoot } from './secure-boot.js';

const VARIABLE = 'SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';

describe('parseSecureBootVariable', () => {
  it('reads the byte after the four attribute bytes', () => {
    assert.equal(parseSecureBootVariable(Uint8Array.from([0x06, 0, 0, 0, 1])), true);
    assert.equal(parseSecureBootVariable(Uint8Array.from([0x06, 0, 0, 0, 0])), false);
    assert.equal(parseSecureBootVariable(Uint8Array.from([0x06, 0, 0, 0])), null);
  });
});

describe('readLinuxSecureBoot', async () => {
  const root = await mkdtemp(join(tmpdir(), 'custos-secure-boot-'));
  after(() => rm(root, { recursive: true, force: true }));

  it('is false when the machine did not boot through EFI', async () => {
    assert.equal(await readLinuxSecureBoot(join(root, 'no-efi')), false);
  });

  it('reads the SecureBoot variable from efivarfs', async () => {
    const firmware = join(root, 'efi-on');
    await mkdir(join(firmware, 'efivars'), { recursive: true });
    await writeFile(join(firmware, 'efivars', VARIABLE), Uint8Array.from([0x06, 0, 0, 0, 1]));
    assert.equal(await readLinuxSecureBoot(firmware), true);
  });

  it('is false on EFI firmware without the variable, null when efivars is not mounted', async () => {
    const withEfivars = join(root, 'efi-old');
    await mkdir(join(withEfivars, 'efivars'), { recursive: true });
    assert.equal(await readLinuxSecureBoot(withEfivars), false);
    const withoutEfivars = join(root, 'efi-unmounted');
    await mkdir(withoutEfivars, { recursive: true });
    assert.equal(await readLinuxSecureBoot(withoutEfivars), null);
  });
});

describe('parseWindowsSecureBootState', () => {
  it('reads UEFISecureBootEnabled', () => {
    const output = (v: string) =>
      `\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecureBoot\\State\r\n    UEFISecureBootEnabled    REG_DWORD    ${v}\r\n\r\n`;
    assert.equal(parseWindowsSecureBootState(output('0x1')), true);
    assert.equal(parseWindowsSecureBootState(output('0x0')), false);
    assert.equal(parseWindowsSecureBootState('ERROR: The system was unable to find the specified registry key or value.'), null);
  });
});
