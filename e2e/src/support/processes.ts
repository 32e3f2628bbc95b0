/**
 * Black-box helpers: the real `custos` and `custos-agent` commands as child processes, and a real
 * `custos serve` listening on a free loopback port.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before } from 'node:test';
import type { StorageConfig } from '@custos/server';
import type { TestBackend } from '@custos/server/test-support/backends';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CUSTOS_BIN = join(root, 'packages', 'server', 'bin', 'custos.js');
export const AGENT_BIN = join(root, 'packages', 'agent', 'bin', 'custos-agent.js');

/** Environment that points the server and its CLI at a storage backend. */
export function storageEnv(config: StorageConfig): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CUSTOS_LOG_LEVEL: 'warn', CUSTOS_REGIONS: 'eu,us,apac' };
  if (config.kind === 'sqlite') return { ...env, CUSTOS_DATABASE: 'sqlite', CUSTOS_DATA_DIR: config.dataDir };
  return {
    ...env,
    CUSTOS_DATABASE: 'postgres',
    CUSTOS_DIRECTORY_DATABASE_URL: config.directoryUrl,
    CUSTOS_REGION_DATABASE_URLS: Object.entries(config.regionUrls)
      .map(([r, u]) => `${r}=${u}`)
      .join(','),
  };
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCommand(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Runs a command with --json that must succeed, and parses its output. */
export async function runJson<T>(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<T> {
  const result = await runCommand(bin, [...args, '--json'], env);
  if (result.code !== 0) throw new Error(`${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

export interface ServerProcess {
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts `custos serve` on `port` (default: a free one the server picks). */
export async function startServer(env: NodeJS.ProcessEnv, port = 0): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [CUSTOS_BIN, 'serve', '--port', String(port)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /custos: listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface AgentProcess {
  output: () => string;
  /** Resolves when the agent's output matches `pattern` (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `custos-agent <args>` as a long-running child process (the daemon). */
export function startAgent(args: string[], env: NodeJS.ProcessEnv): AgentProcess {
  const child: ChildProcess = spawn(process.execPath, [AGENT_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const check of waiters) check();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    output: () => output,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(output)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`agent output never matched ${String(pattern)}:\n${output}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Gives the enclosing suite a fresh storage backend and the environment that points the CLI and the
 * server at it; the backend is removed after the suite's last test.
 */
export function backendEnvPerSuite(
  create: () => Promise<TestBackend>,
  use: (started: { backend: TestBackend; env: NodeJS.ProcessEnv }) => void,
  extraEnv: NodeJS.ProcessEnv = {},
): void {
  let backend: TestBackend | undefined;
  before(async () => {
    backend = await create();
    use({ backend, env: { ...storageEnv(backend.config), ...extraEnv } });
  });
  after(async () => backend?.dispose());
}
