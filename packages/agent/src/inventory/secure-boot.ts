/** Whether the machine booted with UEFI Secure Boot enforcing signatures. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentPlatform } from '../agent-platform.js';
import { runCommand } from './run-command.js';

/** The EFI global variable GUID (UEFI spec, section 3.3 "Globally Defined Variables"). */
const EFI_GLOBAL_VARIABLE = '8be4df61-93ca-11d2-aa0d-00e098032b8c';

/**
 * Reads the content of an efivarfs `SecureBoot-<guid>` file: four bytes of variable attributes,
 * then the one-byte value (1 = enabled).
 */
export function parseSecureBootVariable(content: Uint8Array): boolean | null {
  if (content.length < 5) return null;
  const value = content[4];
  return value === 1 ? true : value === 0 ? false : null;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Linux: a machine not booted through EFI has no `/sys/firmware/efi` and so cannot be running
 * Secure Boot (false); an EFI machine without the variable predates Secure Boot (false); a
 * variable we may not read leaves it open (null).
 */
export async function readLinuxSecureBoot(firmwareDir = '/sys/firmware/efi'): Promise<boolean | null> {
  try {
    await stat(firmwareDir);
  } catch (error) {
    return isMissing(error) ? false : null;
  }
  try {
    return parseSecureBootVariable(await readFile(join(firmwareDir, 'efivars', `SecureBoot-${EFI_GLOBAL_VARIABLE}`)));
  } catch (error) {
    return isMissing(error) && (await exists(join(firmwareDir, 'efivars'))) ? false : null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Parses `reg query HKLM\SYSTEM\CurrentControlSet\Control\SecureBoot\State /v UEFISecureBootEnabled`. */
export function parseWindowsSecureBootState(output: string): boolean | null {
  const value = /UEFISecureBootEnabled\s+REG_DWORD\s+0x([0-9a-f]+)/i.exec(output)?.[1];
  if (value === undefined) return null;
  return Number.parseInt(value, 16) === 1;
}

export async function collectSecureBoot(platform: AgentPlatform): Promise<boolean | null> {
  switch (platform) {
    case 'linux':
      return readLinuxSecureBoot();
    case 'windows': {
      const output = await runCommand('reg', [
        'query',
        'HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecureBoot\\State',
        '/v',
        'UEFISecureBootEnabled',
      ]);
      return output === undefined ? null : parseWindowsSecureBootState(output);
    }
    case 'macos':
      // Apple's boot security policy is not readable without privileges from a user process.
      return null;
  }
}
