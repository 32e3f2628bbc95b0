import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUninstallKeys } from './windows-uninstall-keys.js';

// As printed by `reg query HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall /s /reg:64` on Windows 11.
const SAMPLE = [
  '',
  'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall',
  '',
  'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip',
  '    DisplayIcon    REG_SZ    C:\\Program Files\\7-Zip\\7zFM.exe',
  '    DisplayName    REG_SZ    7-Zip 23.01 (x64)',
  '    DisplayVersion    REG_SZ    23.01',
  '    EstimatedSize    REG_DWORD    0x16b4',
  '    InstallLocation    REG_SZ    C:\\Program Files\\7-Zip\\',
  '    NoModify    REG_DWORD    0x1',
  '    Publisher    REG_SZ    Igor Pavlov',
  '    UninstallString    REG_SZ    "C:\\Program Files\\7-Zip\\Uninstall.exe"',
  '',
  'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{0D3E6F6A-5D7C-4C1F-8E1E-2B3B6F0B2C11}',
  '    AuthorizedCDFPrefix    REG_SZ    ',
  '    DisplayName    REG_SZ    Microsoft Visual C++ 2022 X64 Minimum Runtime - 14.38.33135',
  '    DisplayVersion    REG_SZ    14.38.33135',
  '    EstimatedSize    REG_DWORD    0x6d4',
  '    InstallLocation    REG_SZ    ',
  '    SystemComponent    REG_DWORD    0x1',
  '',
  'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{A1B2C3D4-0000-1111-2222-333344445555}',
  '    DisplayName    REG_EXPAND_SZ    Contoso VPN Client',
  '    DisplayVersion    REG_SZ    4.2.0',
  '    InstallLocation    REG_EXPAND_SZ    C:\\Program Files\\Contoso\\VPN',
  '    Install Source    REG_SZ    C:\\Users\\Public\\Downloads\\',
  '',
  'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\KB5034441',
  '    DisplayName    REG_SZ    Security Update for Windows (KB5034441)',
  '    ParentKeyName    REG_SZ    OperatingSystem',
  '',
  'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\NoName',
  '    UninstallString    REG_SZ    C:\\tools\\remove.exe',
  '',
].join('\r\n');

describe('parseUninstallKeys', () => {
  const apps = parseUninstallKeys(SAMPLE);

  it('lists the programs "Apps & features" shows, keyed by their registry key name', () => {
    assert.deepEqual(
      apps.map((a) => a.appId),
      ['7-Zip', '{A1B2C3D4-0000-1111-2222-333344445555}'],
    );
  });

  it('maps DisplayName, DisplayVersion, InstallLocation and EstimatedSize (KiB) into bytes', () => {
    assert.deepEqual(apps[0], {
      name: '7-Zip 23.01 (x64)',
      version: '23.01',
      appId: '7-Zip',
      installLocation: 'C:\\Program Files\\7-Zip\\',
      sizeBytes: 0x16b4 * 1024,
      managed: false,
    });
  });

  it('reports a missing size as null and reads expandable strings', () => {
    assert.equal(apps[1]?.sizeBytes, null);
    assert.equal(apps[1]?.name, 'Contoso VPN Client');
    assert.equal(apps[1]?.installLocation, 'C:\\Program Files\\Contoso\\VPN');
  });
});
