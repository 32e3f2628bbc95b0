import { execFile } from 'node:child_process';

export interface RunCommandOptions {
  /** Collectors run on a schedule; a hung tool must not stall the check-in. */
  timeoutMs?: number;
}

/**
 * Runs a platform tool without a shell (no quoting or injection concerns) and returns its
 * standard output, or `undefined` when the tool is missing, fails or times out. Inventory
 * sources are optional by nature: a Linux box without rpm, a Windows user without the rights
 * `manage-bde` needs. Each caller turns "no output" into "no apps from this source" or `null`.
 */
export function runCommand(file: string, args: readonly string[], options: RunCommandOptions = {}): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        timeout: options.timeoutMs ?? 60_000,
        // Package databases of a few thousand entries easily exceed the 1 MiB default.
        maxBuffer: 256 * 1024 * 1024,
        windowsHide: true,
        encoding: 'utf8',
        // Parsers match English tool output; ask for it where the tool honours the locale.
        env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
      },
      (error, stdout) => resolve(error ? undefined : stdout),
    );
  });
}
