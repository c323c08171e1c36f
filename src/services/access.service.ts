// Roles and group scopes of API keys (docs/api.md "Keys and roles"). An admin reaches
// everything; a teacher reads and changes its groups, their sessions, members, photos and
// faces; a reader only reads those. Anything else is ForbiddenError (403). Routes declare what
// they touch (http/plugins/access.ts); this service answers whether a caller reaches it.
import type { Role } from '../config/config.js';
import { ForbiddenError } from '../errors.js';
import type { AccessRepository, ResourceKind } from '../repositories/access.repository.js';

export type { ResourceKind } from '../repositories/access.repository.js';

/** The key a request came with. */
export interface Caller {
  name: string;
  role: Role;
  /** A teacher's or reader's groups; empty for an admin. */
  groups: readonly number[];
}

/** read: every role; write: teachers and admins; admin: admins only. */
export type Level = 'read' | 'write' | 'admin';

const RANK: Readonly<Record<Role, number>> = Object.freeze({ reader: 0, teacher: 1, admin: 2 });
const NEEDED: Readonly<Record<Level, Role>> = Object.freeze({ read: 'reader', write: 'teacher', admin: 'admin' });

/** No keys configured: every caller is an admin, as before keys existed. */
export const ANONYMOUS: Caller = Object.freeze({ name: 'anonymous', role: 'admin', groups: Object.freeze([]) });

export const isAdmin = (caller: Caller): boolean => caller.role === 'admin';

/** The groups a list is filtered to; undefined for an admin (no filter). */
export const groupScope = (caller: Caller): readonly number[] | undefined =>
  isAdmin(caller) ? undefined : caller.groups;

export function assertLevel(caller: Caller, level: Level): void {
  if (RANK[caller.role] >= RANK[NEEDED[level]]) return;
  const what = level === 'admin' ? 'an admin key' : 'a teacher or admin key';
  throw new ForbiddenError(`This needs ${what}; key "${caller.name}" is a ${caller.role} key`, {
    role: caller.role,
    needed: NEEDED[level],
  });
}

/** Only an admin may do this unfiltered; `why` says what a scoped key must do instead. */
export function assertAdmin(caller: Caller, why: string): void {
  if (!isAdmin(caller))
    throw new ForbiddenError(`Key "${caller.name}" (${caller.role}): ${why}`, { role: caller.role });
}

export class AccessService {
  constructor(private readonly deps: { access: AccessRepository }) {}

  /** ForbiddenError when any existing resource among `ids` lies outside the caller's groups. */
  async assertReaches(caller: Caller, kind: ResourceKind, ids: readonly number[]): Promise<void> {
    if (isAdmin(caller) || ids.length === 0) return;
    const outside = await this.deps.access.outside(kind, ids, { groups: caller.groups, actor: caller.name });
    if (outside.length === 0) return;
    const shown = outside.slice(0, 10);
    throw new ForbiddenError(
      `Key "${caller.name}" does not reach ${kind} ${shown.join(', ')}${outside.length > shown.length ? ', …' : ''}: ` +
        "it is outside the key's groups",
      { kind, ids: shown, groups: [...caller.groups] },
    );
  }
}
