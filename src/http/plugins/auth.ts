// API keys (FACEEMBED_API_KEYS): when any are configured, /api/* needs `Authorization: Bearer KEY`.
// Keys are compared as SHA-256 digests with timingSafeEqual, so neither the length nor the
// content of a key leaks through response timing; every key is compared on every request.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RequestError } from './error-handler.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** True for /api and anything below it, however the path is spelled (case, %-escapes, //). */
export function isApiPath(request: FastifyRequest): boolean {
  if (request.routeOptions.url?.startsWith('/api/')) return true;
  let p = request.url.split('?', 1)[0] ?? '';
  try {
    p = decodeURIComponent(p);
  } catch {
    // keep the raw form
  }
  return /^\/+api(\/|$)/i.test(p);
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function installAuth(app: FastifyInstance, apiKeys: readonly string[]): void {
  if (apiKeys.length === 0) return;
  const digests = apiKeys.map(digest);
  const accepted = (token: string): boolean => {
    const given = digest(token);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(given, d) || ok;
    return ok;
  };

  app.addHook('onRequest', async (request, reply) => {
    if (!isApiPath(request)) return;
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined && accepted(token)) return;
    reply.header('WWW-Authenticate', 'Bearer realm="faceembed"');
    throw new RequestError(
      401,
      token === undefined ? 'Authentication required: send "Authorization: Bearer <API key>"' : 'Invalid API key',
    );
  });
}
