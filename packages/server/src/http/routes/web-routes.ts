/**
 * The portals' static files (packages/web, built by Vite): the admin portal at `/` and its client
 * routes, the Company Portal at `/portal`. Everything is served from this process; nothing is
 * fetched from elsewhere at run time, and the pages' Content-Security-Policy says so.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** The admin portal's client-side routes; each answers with the admin page. */
export const ADMIN_PAGES = [
  '/',
  '/devices',
  '/devices/:id',
  '/policies',
  '/profiles',
  '/enrollment',
  '/users',
  '/roles',
  '/tokens',
  '/settings',
  '/audit',
] as const;
export const PORTAL_PAGES = ['/portal', '/portal/', '/portal/enroll', '/portal/reset-password'] as const;

/** Where `npm run build` puts the bundle: packages/web/dist, next to this package. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../../web/dist/', import.meta.url));

const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  // Charts set inline style attributes; no inline script is allowed.
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

function page(reply: FastifyReply, file: string): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-cache')
    .sendFile(file);
}

export const webRoutes: FastifyPluginAsync<{ webDir?: string }> = async (app, options) => {
  const root = options.webDir ?? DEFAULT_WEB_DIR;
  if (!existsSync(`${root}/index.html`)) {
    app.log.warn({ webDir: root }, 'the portals are not built; run "npm run build"');
    for (const path of [...ADMIN_PAGES, ...PORTAL_PAGES]) {
      app.get(path, { schema: { hide: true } }, (_request, reply) =>
        reply
          .code(503)
          .type('text/plain')
          .send('The web portals are not built. Run "npm run build" (or "npm start", which builds them).\n'),
      );
    }
    return;
  }
  // Hashed file names under /assets never change: cache them for a year.
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: false,
    setHeaders: (res, path) => {
      res.header('x-content-type-options', 'nosniff');
      if (path.includes('/assets/')) res.header('cache-control', 'public, max-age=31536000, immutable');
    },
  });
  for (const path of ADMIN_PAGES) app.get(path, { schema: { hide: true } }, (_request, reply) => page(reply, 'index.html'));
  for (const path of PORTAL_PAGES) app.get(path, { schema: { hide: true } }, (_request, reply) => page(reply, 'portal/index.html'));
};
