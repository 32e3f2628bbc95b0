/**
 * The baseline: a bare Fastify hello-world (no schema, no plugins, no logger) in its own process.
 * It answers the very request the check-in benchmark sends (POST, same path, same headers and JSON
 * body, parsed by Fastify's default JSON parser), so both servers see identical bytes on the wire.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { serveAsChild } from './child-server.js';

export interface HelloReady {
  port: number;
}

let app: FastifyInstance | undefined;

serveAsChild<unknown, HelloReady>(
  async () => {
    app = Fastify({ logger: false });
    app.post('/api/v1/agent/checkin', () => ({ hello: 'world' }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    return { port: address.port };
  },
  async () => {
    await app?.close();
  },
);
