/**
 * The agent's end of the push channel (SPEC §6; docs/decisions/0002-push-channel.md): a WebSocket
 * to `/api/v1/agent/push` that the server uses only to say "check in now". The channel carries no
 * commands; they arrive with the check-in it triggers, authenticated like every device request.
 *
 * The upgrade is a device request (MAC'd GET, a fresh sequence number), so building it takes the
 * state lock for a moment. A dropped channel is reopened with exponential back-off (1 s to 60 s,
 * jittered so a server restart is not met by every device at once), and each reconnection also
 * checks in, since a wake-up may have been missed while it was down. The server pings every 30 s;
 * no ping for 75 s means the connection is dead even if TCP has not noticed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { isDeviceRetired, UsageError } from './agent-errors.js';
import { DeviceClient } from './client.js';
import { withStateLock } from './state-lock.js';
import { requireState } from './state.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;
const DEAD_AFTER_MS = 75_000;
const CONNECT_TIMEOUT_MS = 30_000;

export interface PushLog {
  connected(): void;
  disconnected(reason: string, retryInSeconds: number): void;
}

/** How a connection ended; `refusedStatus` when the server answered the upgrade with an HTTP error. */
type Session = { reason: string; refusedStatus?: number };

/** One connection, from upgrade to close; resolves with why it ended. */
function holdConnection(url: string, authorization: string, signal: AbortSignal, onOpen: () => void, onWake: () => void): Promise<Session> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers: { authorization }, handshakeTimeout: CONNECT_TIMEOUT_MS, maxPayload: 64 * 1024 });
    let dead: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (reason: string, refusedStatus?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(dead);
      signal.removeEventListener('abort', abort);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
      resolve(refusedStatus === undefined ? { reason } : { reason, refusedStatus });
    };
    const alive = () => {
      clearTimeout(dead);
      dead = setTimeout(() => finish('no ping from the server'), DEAD_AFTER_MS);
    };
    const abort = () => {
      socket.close(1000, 'agent stopping');
      finish('stopped');
    };
    signal.addEventListener('abort', abort, { once: true });
    socket.on('open', () => {
      alive();
      onOpen();
    });
    socket.on('ping', alive);
    socket.on('message', (data: WebSocket.RawData) => {
      alive();
      try {
        const text = Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : Buffer.isBuffer(data)
            ? data.toString('utf8')
            : Buffer.from(new Uint8Array(data)).toString('utf8');
        const message = JSON.parse(text) as { type?: unknown };
        if (message.type === 'wake') onWake();
      } catch {
        // Not ours to understand; the channel only ever means "check in".
      }
    });
    socket.on('unexpected-response', (_request, response) => {
      finish(`the server refused the push channel (HTTP ${response.statusCode ?? '?'})`, response.statusCode ?? 0);
    });
    socket.on('close', (code, reason) => finish(`closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`));
    socket.on('error', (error) => finish(error.message));
  });
}

/**
 * Keeps the push channel open until `signal` aborts or the device leaves management. Calls
 * `onWake` when the server asks for a check-in, and after every reconnection.
 */
export async function holdPushChannel(stateDir: string, signal: AbortSignal, onWake: () => void, log: PushLog): Promise<void> {
  let failures = 0;
  let freshSession = false;
  let connectedBefore = false;
  while (!signal.aborted) {
    let request: { url: string; authorization: string };
    try {
      request = await withStateLock(stateDir, async () =>
        new DeviceClient(stateDir, await requireState(stateDir), signal).pushRequest(freshSession),
      );
    } catch (error) {
      // Unenrolled, retired or the state removed: there is nothing to hold a channel for.
      if (signal.aborted || isDeviceRetired(error) || error instanceof UsageError) return;
      request = { url: '', authorization: '' };
    }
    let ended: Session = { reason: 'could not prepare the request' };
    if (request.url) {
      ended = await holdConnection(
        request.url,
        request.authorization,
        signal,
        () => {
          failures = 0;
          log.connected();
          if (connectedBefore) onWake();
          connectedBefore = true;
        },
        onWake,
      );
    }
    // 403: the device was retired; the next check-in tells the daemon so.
    if (signal.aborted || ended.refusedStatus === 403) return;
    // Any other refused upgrade usually means the server no longer knows the cached session.
    freshSession = ended.refusedStatus !== undefined;
    failures += 1;
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(failures - 1, 10)) * (0.5 + Math.random() / 2);
    log.disconnected(ended.reason, Math.round(delay / 1000));
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      return;
    }
  }
}
