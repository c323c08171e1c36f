// The attendance web app (web/, built by Vite into dist/web) served at `/`. Hashed assets are
// cached for good; index.html never is, so a new build is picked up on the next load. Client
// routes (/persons/3, /sessions/7) get index.html; /api, /docs and file-like paths keep their
// own 404 so a typo in an API path never answers 200 with HTML.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../errors.js';

/** dist/src/http/plugins/ -> dist/web/ */
export const WEB_APP_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

const SERVER_PATHS = /^\/+(api|docs|openapi\.json|metrics|healthz|readyz)(\/|$)/i;

export async function installWebApp(app: FastifyInstance, root = WEB_APP_ROOT): Promise<void> {
  if (!existsSync(`${root}/index.html`)) {
    app.log.warn({ root }, 'web app not built (npm run build): GET / serves nothing');
    return;
  }
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: 'index.html',
    setHeaders(reply, file) {
      const hashed = /[\\/]assets[\\/]/.test(file);
      reply.header('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    if (SERVER_PATHS.test(path) || /\.[a-z0-9]+$/i.test(path)) {
      throw new NotFoundError(`Route ${request.method} ${path} not found`);
    }
    reply.header('Cache-Control', 'no-cache');
    return reply.sendFile('index.html');
  });
}
