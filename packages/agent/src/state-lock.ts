/**
 * One process at a time per state directory. Two processes sharing the state (the daemon and a
 * manual `sync`, say) would read the same sequence number and one request would be refused as a
 * replay, or would overwrite each other's record of what the server holds.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StateBusyError, UsageError } from './agent-errors.js';

const LOCK_FILE = 'state.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryAcquire(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`The state directory ${dirname(path)} does not exist; enroll this device first.`);
    if (code !== 'EEXIST') throw error;
  }
  // A lock left behind by a process that died (power loss, kill -9) must not block forever.
  const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  if (!Number.isSafeInteger(holder) || holder <= 0 || !isAlive(holder)) {
    await rm(path, { force: true });
  }
  return false;
}

export async function withStateLock<T>(dir: string, fn: () => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  const path = join(dir, LOCK_FILE);
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  while (!(await tryAcquire(path))) {
    if (Date.now() > deadline) {
      throw new StateBusyError(`Another custos-agent process is using ${dir} (see ${path}); try again when it has finished.`);
    }
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
