// API keys (FACEEMBED_API_KEYS, FACEEMBED_API_KEYS_FILE): when any are configured, /api/* needs
// `Authorization: Bearer KEY` (AuthenticationError, 401). Keys are held and compared as SHA-256
// digests with timingSafeEqual, so neither the length nor the content of a key leaks through
// response timing; every key is compared on every request. The matching key becomes
// `request.caller` (its name, role and groups; the routes' access declarations judge it) and its
// name `request.actor`: the caller's identity in logs and the audit trail ("anonymous" when no
// keys are configured). An address that sent too many wrong keys gets 429 for a while.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sha256Hex, type ApiKey } from '../../config/api-keys.js';
import { AuthenticationError, OverloadedError } from '../../errors.js';
import { ANONYMOUS, type Caller } from '../../services/access.service.js';
import { AuthFailures, type FailureLimits } from './auth-failures.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Name of the API key the request came with; "anonymous" without one. */
    actor: string;
    /** The key the request came with: its role and groups (ANONYMOUS, an admin, when no keys are set). */
    caller: Caller;
  }
}

/** Off /api, with keys configured: reaches nothing (those routes declare no access and need none). */
const NOBODY: Caller = Object.freeze({ name: ANONYMOUS.name, role: 'reader', groups: Object.freeze([]) });

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

export function installAuth(app: FastifyInstance, apiKeys: readonly ApiKey[], limits: FailureLimits): void {
  app.decorateRequest('actor', ANONYMOUS.name);
  app.decorateRequest('caller', null as unknown as Caller);
  if (apiKeys.length === 0) {
    app.addHook('onRequest', async (request) => {
      request.caller = ANONYMOUS;
    });
    return;
  }
  const held = apiKeys.map((k) => ({
    caller: Object.freeze({ name: k.name, role: k.role, groups: Object.freeze([...k.groups]) }) as Caller,
    digest: Buffer.from(k.sha256, 'hex'),
  }));
  /** The matching key; every key is compared whatever matches. */
  const holder = (token: string): Caller | undefined => {
    const given = Buffer.from(sha256Hex(token), 'hex');
    let caller: Caller | undefined;
    for (const k of held) if (timingSafeEqual(given, k.digest)) caller ??= k.caller;
    return caller;
  };
  const failures = new AuthFailures(limits);

  app.addHook('onRequest', async (request, reply) => {
    request.caller = NOBODY;
    if (!isApiPath(request)) return;
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined) {
      const wait = failures.blockedFor(request.ip);
      if (wait > 0)
        throw new OverloadedError(`Too many wrong API keys from this address: retry in ${wait} s`, {
          retryAfterSeconds: wait,
        });
      const caller = holder(token);
      if (caller) {
        request.caller = caller;
        request.actor = caller.name;
        request.log = request.log.child({ actor: caller.name });
        return;
      }
      failures.fail(request.ip);
    }
    reply.header('WWW-Authenticate', 'Bearer realm="faceembed"');
    throw new AuthenticationError(
      token === undefined ? 'Authentication required: send "Authorization: Bearer <API key>"' : 'Invalid API key',
    );
  });
}
