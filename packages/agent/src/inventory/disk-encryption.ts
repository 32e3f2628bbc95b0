/**
 * Whether the system disk is encrypted: dm-crypt/LUKS on Linux, FileVault on macOS, BitLocker on
 * Windows. `null` whenever the answer is not certain: compliance decides on this field, and a
 * wrong `false` would lock a user out as surely as a wrong `true` would let a risk in.
 */
import type { Systeminformation } from 'systeminformation';
import type { AgentPlatform } from '../agent-platform.js';
import { runCommand } from './run-command.js';

type BlockDevice = Pick<Systeminformation.BlockDevicesData, 'name' | 'type' | 'fsType' | 'mount'>;

/**
 * Decides from `si.blockDevices()` (a flat `lsblk` listing, without parent links) whether `/` lives
 * on dm-crypt. Root directly on a `crypt` mapping is encrypted; root on LVM is encrypted when every
 * LVM physical volume is itself a `crypt` mapping (the usual "LVM on LUKS" install) and not when
 * none is; a plain disk or partition is not. Anything else (mixed volumes, RAID, no root in the
 * listing as in containers) cannot be told from this listing.
 */
export function rootFilesystemEncrypted(devices: readonly BlockDevice[]): boolean | null {
  const roots = devices.filter((d) => d.mount === '/');
  if (roots.length !== 1) return null;
  const root = roots[0] as BlockDevice;
  switch (root.type) {
    case 'crypt':
      return true;
    case 'disk':
    case 'part':
      return root.fsType === 'crypto_LUKS' ? null : false;
    case 'lvm': {
      const physicalVolumes = devices.filter((d) => d.fsType === 'LVM2_member');
      if (physicalVolumes.length === 0) return null;
      if (physicalVolumes.every((d) => d.type === 'crypt')) return true;
      if (physicalVolumes.every((d) => d.type !== 'crypt')) return false;
      return null;
    }
    default:
      return null;
  }
}

/** Parses `fdesetup status` ("FileVault is On." / "FileVault is Off."). */
export function parseFdesetupStatus(output: string): boolean | null {
  if (/FileVault is On\b/.test(output)) return true;
  if (/FileVault is Off\b/.test(output)) return false;
  return null;
}

/**
 * Parses `manage-bde -status C:`. "Protection On" means the volume is encrypted and its key
 * protected; "Protection Off" covers both a decrypted volume and a suspended one whose key is
 * stored in the clear, which protects nothing, so both count as not encrypted.
 */
export function parseManageBdeStatus(output: string): boolean | null {
  const status = /Protection Status:\s*(.+)/i.exec(output)?.[1]?.trim().toLowerCase();
  if (status === undefined) return null;
  if (status.startsWith('protection on')) return true;
  if (status.startsWith('protection off')) return false;
  return null;
}

export async function collectDiskEncryption(platform: AgentPlatform, blockDevices: () => Promise<BlockDevice[]>): Promise<boolean | null> {
  switch (platform) {
    case 'linux':
      return rootFilesystemEncrypted(await blockDevices());
    case 'macos': {
      const output = await runCommand('fdesetup', ['status']);
      return output === undefined ? null : parseFdesetupStatus(output);
    }
    case 'windows': {
      // manage-bde needs an elevated process; as a normal user it fails and the answer is null.
      const output = await runCommand('manage-bde', ['-status', windowsSystemDrive()]);
      return output === undefined ? null : parseManageBdeStatus(output);
    }
  }
}

export function windowsSystemDrive(): string {
  return process.env['SystemDrive'] ?? 'C:';
}
