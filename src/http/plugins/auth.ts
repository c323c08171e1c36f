// API keys (FACEEMBED_API_KEYS): when any are configured, /api/* needs `Authorization: Bearer KEY`
// (AuthenticationError, 401). Keys are compared as SHA-256 digests with timingSafeEqual, so
// neither the length nor the content of a key leaks through response timing; every key is
// compared on every request. The key's name becomes `request.actor`: the caller's identity in
// logs and in the audit trail ("anonymous" when no keys are configured or off /api).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKey } from '../../config/config.js';
import { AuthenticationError } from '../../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Name of the API key the request came with; "anonymous" without one. */
    actor: string;
  }
}

export const ANONYMOUS = 'anonymous';

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

export function installAuth(app: FastifyInstance, apiKeys: readonly ApiKey[]): void {
  app.decorateRequest('actor', ANONYMOUS);
  if (apiKeys.length === 0) return;
  const digests = apiKeys.map((k) => ({ name: k.name, digest: digest(k.key) }));
  /** The name of the matching key; every key is compared whatever matches. */
  const holder = (token: string): string | undefined => {
    const given = digest(token);
    let name: string | undefined;
    for (const d of digests) if (timingSafeEqual(given, d.digest)) name ??= d.name;
    return name;
  };

  app.addHook('onRequest', async (request, reply) => {
    if (!isApiPath(request)) return;
    const token = bearerToken(request.headers.authorization);
    const name = token === undefined ? undefined : holder(token);
    if (name !== undefined) {
      request.actor = name;
      request.log = request.log.child({ actor: name });
      return;
    }
    reply.header('WWW-Authenticate', 'Bearer realm="faceembed"');
    throw new AuthenticationError(
      token === undefined ? 'Authentication required: send "Authorization: Bearer <API key>"' : 'Invalid API key',
    );
  });
}
