/**
 * The device push channel (SPEC §6; docs/decisions/0002-push-channel.md): an enrolled agent holds a
 * WebSocket at `GET /api/v1/agent/push`, and when a command is queued for it the server sends
 * `{"type":"wake"}`; the agent then checks in at once and receives the command the usual way. The
 * channel carries no commands and no data, only the nudge, so everything a device receives still
 * goes through the authenticated, replay-protected check-in.
 *
 * The upgrade request is a device request like any other: `Authorization: CustosDevice …` MAC'd
 * over `GET`, the path and an empty body, its sequence number consumed, a retired device refused.
 * One socket per device and process: a reconnecting device replaces its older socket. The server
 * pings every `heartbeatSeconds`; a socket that did not answer the previous ping is dropped. A
 * socket closes when its session ends, and the agent reconnects under a new one.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { PushMessage } from '@custos/shared';
import type { AuthenticatedDevice } from '../../domain/device-auth/device-authenticator.js';
import { DomainError } from '../../domain/domain-error.js';
import type { AppServices } from '../services.js';
import { deviceRequest } from './agent-routes.js';

export const PUSH_PATH = '/api/v1/agent/push';
/** Close codes the agent tells apart (4000–4999 are for applications, RFC 6455 §7.4.2). */
export const PUSH_CLOSE_REPLACED = 4000;
export const PUSH_CLOSE_SESSION_ENDED = 4001;

const WAKE = JSON.stringify({ type: 'wake' } satisfies PushMessage);

export const agentPushRoutes: FastifyPluginAsync<{ services: AppServices; heartbeatSeconds?: number }> = async (
  app,
  { services, heartbeatSeconds = 30 },
) => {
  const sockets = new Map<string, WebSocket>();
  const answeredPing = new WeakSet<WebSocket>();
  const authenticated = new WeakMap<FastifyRequest, AuthenticatedDevice>();
  const key = (tenantId: string, deviceId: string) => `${tenantId}/${deviceId}`;

  const unsubscribe = services.wakeups.subscribe((tenantId, deviceId) => {
    const socket = sockets.get(key(tenantId, deviceId));
    if (socket && socket.readyState === socket.OPEN) socket.send(WAKE);
  });
  const heartbeat = setInterval(() => {
    for (const socket of sockets.values()) {
      if (!answeredPing.has(socket)) {
        socket.terminate();
        continue;
      }
      answeredPing.delete(socket);
      socket.ping();
    }
  }, heartbeatSeconds * 1000);
  heartbeat.unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    unsubscribe();
  });

  app.route({
    method: 'GET',
    url: PUSH_PATH,
    schema: {
      tags: ['device protocol'],
      summary: 'Push channel (WebSocket upgrade): the server sends {"type":"wake"} when a command is queued for the device',
      security: [{ deviceSession: [] }],
    },
    // Runs before the upgrade, so a refused device gets an ordinary problem+json response.
    preValidation: async (request) => {
      const device = await services.deviceAuth.authenticate(deviceRequest(request));
      await services.deviceAuth.record(device, false);
      authenticated.set(request, device);
    },
    handler: () => {
      throw new DomainError('upgrade-required', 'Open this endpoint as a WebSocket (Connection: Upgrade, Upgrade: websocket).');
    },
    wsHandler: (socket, request) => {
      const device = authenticated.get(request);
      if (!device) {
        socket.close(1011, 'not authenticated');
        return;
      }
      const k = key(device.tenantId, device.deviceId);
      const previous = sockets.get(k);
      sockets.set(k, socket);
      previous?.close(PUSH_CLOSE_REPLACED, 'replaced by a newer connection of this device');
      answeredPing.add(socket);
      socket.on('pong', () => answeredPing.add(socket));
      // Devices have nothing to say on this channel; anything they send is ignored.
      socket.on('message', () => undefined);
      const sessionEnds = setTimeout(
        () => socket.close(PUSH_CLOSE_SESSION_ENDED, 'the device session ended; reconnect under a new one'),
        Math.max(0, (device.sessionExpiresAt ?? 0) - Date.now()),
      );
      socket.on('close', () => {
        clearTimeout(sessionEnds);
        if (sockets.get(k) === socket) sockets.delete(k);
      });
    },
  });
};
