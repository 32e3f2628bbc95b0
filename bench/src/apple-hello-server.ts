/**
 * The baseline of the Apple MDM command-poll benchmark: a bare Fastify server (no schema, no
 * plugins, no logger) in its own process answering `PUT /mdm/apple/mdm` with an empty 200, the
 * answer Custos gives an idle device. It reads the body as bytes, as Custos must (the signature
 * covers the exact bytes), so both servers receive identical requests.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { serveAsChild } from './child-server.js';
import type { HelloReady } from './hello-server.js';

let app: FastifyInstance | undefined;

serveAsChild<unknown, HelloReady>(
  async () => {
    app = Fastify({ logger: false });
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    app.put('/mdm/apple/mdm', (_request, reply) => reply.send(''));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    return { port: address.port };
  },
  async () => {
    await app?.close();
  },
);
