/**
 * A benchmark server in its own process, so the load generator never shares its event loop. The
 * child announces itself with `{ type: 'ready', ... }` (or `{ type: 'error', message }`) over IPC and
 * shuts down cleanly when it receives `{ type: 'stop' }` or loses its parent.
 */
import { fork, type ChildProcess, type Serializable } from 'node:child_process';

export type ChildMessage<Ready> = ({ type: 'ready' } & Ready) | { type: 'error'; message: string };

const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;

export class ChildServer<Ready> {
  private constructor(
    private readonly child: ChildProcess,
    readonly ready: Ready,
  ) {}

  /** Forks `module`, sends it `start`, and resolves with its ready message. */
  static start<Ready>(module: URL, start: Serializable, label: string): Promise<ChildServer<Ready>> {
    const child = fork(module, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: childExecArgv() });
    return new Promise<ChildServer<Ready>>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`${label}: not ready after ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      const onExit = (code: number | null, signal: string | null) =>
        fail(new Error(`${label}: exited before it was ready (code ${String(code)}, signal ${String(signal)})`));
      const onMessage = (message: ChildMessage<Ready>) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('message', onMessage);
        if (message.type === 'ready') resolve(new ChildServer<Ready>(child, message));
        else fail(new Error(`${label}: ${message.message}`));
      };
      function fail(error: Error) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('message', onMessage);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        reject(error);
      }
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(start);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks the child to close its server and stores, and waits for it to exit (killing it if it hangs). */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

/** Children inherit `--cpu-prof` and friends when BENCH_CHILD_NODE_OPTIONS asks for them (profiling). */
function childExecArgv(): string[] {
  const extra = process.env['BENCH_CHILD_NODE_OPTIONS'];
  return extra ? extra.split(/\s+/).filter((a) => a.length > 0) : [];
}

/**
 * The child side: runs `start` on the parent's start message, `stop` on its stop message or when
 * the parent goes away, then exits. Errors are reported to the parent and end the process.
 */
export function serveAsChild<Start, Ready>(start: (message: Start) => Promise<Ready>, stop: () => Promise<void>): void {
  let stopping: Promise<void> | undefined;
  const shutdown = (code: number) => {
    stopping ??= stop()
      .catch((error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        code = 1;
      })
      .finally(() => process.exit(code));
  };
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stop') {
      shutdown(0);
      return;
    }
    start(message as Start).then(
      (ready) => process.send?.({ type: 'ready', ...ready }),
      (error: unknown) => {
        process.send?.({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        shutdown(1);
      },
    );
  });
  process.on('disconnect', () => shutdown(0));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => shutdown(1));
}
