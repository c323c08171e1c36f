// Every /api route declares what it touches (docs/api.md "Keys and roles"), in its options:
//   config: { access: access.write({ id: 'session' }, { body: { person_id: 'person' } }) }
// i.e. the level it needs (read / write / admin) and which path, body or query fields name a
// resource (an id or a list of ids). A route under /api without a declaration stops the app
// from starting, so a new route cannot forget its scope. The check runs after validation
// (ids are typed) and before the handler; lists and multipart fields are scoped by their
// handlers through request.caller.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError } from '../../errors.js';
import {
  assertLevel,
  type AccessService,
  type Caller,
  type Level,
  type ResourceKind,
} from '../../services/access.service.js';

/** Field name -> the kind of resource whose id (or ids) it holds. */
export type Refs = Readonly<Record<string, ResourceKind>>;

export interface AccessEntry {
  method: string;
  url: string;
  access: RouteAccess;
  /** The route's schema (body, params, querystring), for clients and tests that walk the table. */
  schema: unknown;
  multipart: boolean;
}

export interface RouteAccess {
  level: Level;
  params?: Refs;
  body?: Refs;
  query?: Refs;
  /**
   * The route starts a job whose items are listed in this body field (`"all": true` meaning
   * every row): a teacher key's job holds at most FACEEMBED_TEACHER_MAX_JOB_ITEMS items and
   * never "all".
   */
  jobItems?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every /api route (see the header). */
    access?: RouteAccess;
  }
  interface FastifyInstance {
    /** Every /api route with its declaration, as registered (docs/api.md "Keys and roles" lists them). */
    readonly accessTable: readonly AccessEntry[];
  }
  interface FastifyRequest {
    /** ForbiddenError unless the caller reaches every one of these (for fields the declaration cannot see). */
    assertReaches(kind: ResourceKind, ids: readonly number[]): Promise<void>;
  }
}

const declare =
  (level: Level) =>
  (params?: Refs, more: Omit<RouteAccess, 'level' | 'params'> = {}): RouteAccess =>
    Object.freeze({ level, params, ...more });

/** The declarations, one per route. */
export const access = Object.freeze({
  /** Every key may call it; the named resources must be in its groups. */
  read: declare('read'),
  /** Teachers (in their groups) and admins. */
  write: declare('write'),
  /** Admin keys only. */
  admin: Object.freeze({ level: 'admin' }) as RouteAccess,
});

const isApiRoute = (url: string) => /^\/api(\/|$)/.test(url);

function idsOf(value: unknown): number[] {
  if (typeof value === 'number' && Number.isInteger(value)) return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number' && Number.isInteger(v));
  return [];
}

async function check(service: AccessService, caller: Caller, refs: Refs | undefined, source: unknown) {
  if (!refs || !source || typeof source !== 'object') return;
  for (const [field, kind] of Object.entries(refs)) {
    const ids = idsOf((source as Record<string, unknown>)[field]);
    if (ids.length) await service.assertReaches(caller, kind, ids);
  }
}

function assertJobSize(caller: Caller, body: unknown, field: string, teacherMax: number): void {
  if (caller.role !== 'teacher' || !body || typeof body !== 'object') return;
  const b = body as Record<string, unknown>;
  if (b.all === true)
    throw new ForbiddenError(`Key "${caller.name}" (teacher): a job lists its items ("${field}"), not "all"`, {
      max_job_items: teacherMax,
    });
  const items = b[field];
  if (Array.isArray(items) && items.length > teacherMax)
    throw new ForbiddenError(
      `Key "${caller.name}" (teacher): a job holds at most ${teacherMax} items (got ${items.length})`,
      { max_job_items: teacherMax, items: items.length },
    );
}

/** Installs the startup rule and the per-request check; call before any route is registered. */
export function installAccess(
  app: FastifyInstance,
  service: AccessService,
  limits: { teacherMaxJobItems: number },
): void {
  app.decorateRequest('assertReaches', function (this: FastifyRequest, kind: ResourceKind, ids: readonly number[]) {
    return service.assertReaches(this.caller, kind, ids);
  });
  const table: AccessEntry[] = [];
  app.decorate('accessTable', table);
  app.addHook('onRoute', (route) => {
    if (!isApiRoute(route.url)) return;
    const config = route.config as { access?: RouteAccess; multipart?: boolean } | undefined;
    const declared = config?.access;
    if (!declared || !['read', 'write', 'admin'].includes(declared.level))
      throw new Error(
        `Route ${String(route.method)} ${route.url} declares no access: add config: { access: access.read(…) | access.write(…) | access.admin }`,
      );
    for (const method of [route.method].flat())
      table.push({ method, url: route.url, access: declared, schema: route.schema, multipart: !!config?.multipart });
  });
  app.addHook('preHandler', async (request: FastifyRequest) => {
    const declared = request.routeOptions.config.access;
    if (!declared) return;
    const caller = request.caller;
    assertLevel(caller, declared.level);
    if (declared.jobItems) assertJobSize(caller, request.body, declared.jobItems, limits.teacherMaxJobItems);
    await check(service, caller, declared.params, request.params);
    await check(service, caller, declared.query, request.query);
    if (!request.isMultipart()) await check(service, caller, declared.body, request.body);
  });
}
