/**
 * Installed packages on Linux, from whichever package databases the machine has (dpkg, rpm, or
 * both). A missing tool means "no packages from that source", never an error.
 */
import type { AppRecord } from '@custos/shared';
import { runCommand } from './run-command.js';

export const DPKG_QUERY_ARGS = ['-W', '--showformat=${binary:Package}\\t${Version}\\t${Installed-Size}\\t${db:Status-Abbrev}\\n'] as const;

/**
 * RPM tags: the epoch only when set (rpm prints "(none)" otherwise), and SIZE, which rpm reports
 * in bytes (unlike dpkg's KiB).
 */
export const RPM_QUERY_ARGS = [
  '-qa',
  '--queryformat',
  '%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{SIZE}\\n',
] as const;

function nonNegativeInteger(text: string | undefined): number | null {
  if (text === undefined || !/^\d+$/.test(text.trim())) return null;
  const value = Number(text.trim());
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * Parses `dpkg-query -W -f='${binary:Package}\t${Version}\t${Installed-Size}\t${db:Status-Abbrev}\n'`.
 * Only `ii` rows are installed; `rc` rows are removed packages whose configuration files remain.
 */
export function parseDpkgQuery(output: string): AppRecord[] {
  const apps: AppRecord[] = [];
  for (const line of output.split('\n')) {
    const [pkg, version, installedSizeKiB, status] = line.split('\t');
    if (!pkg || status?.trim() !== 'ii') continue;
    const kib = nonNegativeInteger(installedSizeKiB);
    apps.push({
      name: pkg,
      version: version || null,
      appId: pkg,
      installLocation: null,
      sizeBytes: kib === null ? null : kib * 1024,
      managed: false,
    });
  }
  return apps;
}

/** Parses the output of `rpm` with `RPM_QUERY_ARGS`; the app id is NAME.ARCH, as `dnf` names packages. */
export function parseRpmQuery(output: string): AppRecord[] {
  const apps: AppRecord[] = [];
  for (const line of output.split('\n')) {
    const [name, version, arch, size] = line.split('\t');
    if (!name) continue;
    // gpg-pubkey pseudo-packages have no architecture.
    const hasArch = arch !== undefined && arch !== '' && arch !== '(none)';
    apps.push({
      name,
      version: version || null,
      appId: hasArch ? `${name}.${arch}` : name,
      installLocation: null,
      sizeBytes: nonNegativeInteger(size),
      managed: false,
    });
  }
  return apps;
}

export async function collectLinuxPackages(): Promise<AppRecord[]> {
  const [dpkg, rpm] = await Promise.all([runCommand('dpkg-query', DPKG_QUERY_ARGS), runCommand('rpm', RPM_QUERY_ARGS)]);
  return [...(dpkg === undefined ? [] : parseDpkgQuery(dpkg)), ...(rpm === undefined ? [] : parseRpmQuery(rpm))];
}
