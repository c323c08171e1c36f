// Which groups a resource belongs to, for key scopes (docs/api.md "Keys and roles"). A session
// and its photos belong to the session's group; a person to every group whose roster holds
// them; a face crop to its person's groups and to the group of the session photo it was cut
// from; a job to the group of its session (session-photo jobs) and to the key that started it.
// Ids with no row are not reported: the route answers its own 404.
import { sql } from 'kysely';
import type { Database } from './database.js';

export type ResourceKind = 'group' | 'session' | 'photo' | 'person' | 'face-crop' | 'job';

/** What a teacher or reader key reaches: its groups, and the jobs it started itself. */
export interface Reach {
  groups: readonly number[];
  actor: string;
}

/** Ids per IN (...) list. */
const IN_CHUNK = 500;

export class AccessRepository {
  constructor(private readonly db: Database) {}

  /** The ids among `ids` that exist and lie outside `reach` (ids with no row are not returned). */
  async outside(kind: ResourceKind, ids: readonly number[], reach: Reach): Promise<number[]> {
    const out: number[] = [];
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += IN_CHUNK) {
      const part = unique.slice(i, i + IN_CHUNK);
      const rows = await this.outsideQuery(kind, part, reach).execute(this.db);
      out.push(...rows.rows.map((r) => Number(r.id)));
    }
    return out;
  }

  private outsideQuery(kind: ResourceKind, ids: number[], reach: Reach) {
    const idList = sql.join(ids);
    // Never empty: a teacher or reader key names at least one group (config/api-keys.ts).
    const groups = sql.join(reach.groups.length ? [...reach.groups] : [0]);
    const member = (person: ReturnType<typeof sql.ref>) =>
      sql`exists (select 1 from group_members m where m.person_id = ${person} and m.group_id in (${groups}))`;
    switch (kind) {
      case 'group':
        return sql<{ id: number }>`select id from "groups" where id in (${idList}) and id not in (${groups})`;
      case 'session':
        return sql<{ id: number }>`select id from sessions where id in (${idList}) and group_id not in (${groups})`;
      case 'photo':
        return sql<{ id: number }>`select p.id from session_photos p join sessions s on s.id = p.session_id
          where p.id in (${idList}) and s.group_id not in (${groups})`;
      case 'person':
        return sql<{ id: number }>`select p.id from persons p
          where p.id in (${idList}) and not ${member(sql.ref('p.id'))}`;
      case 'face-crop':
        return sql<{ id: number }>`select c.id from face_crops c
          where c.id in (${idList}) and not ${member(sql.ref('c.person_id'))}
          and not exists (select 1 from session_photos p join sessions s on s.id = p.session_id
            where p.id = c.source_photo_id and s.group_id in (${groups}))`;
      case 'job':
        return sql<{ id: number }>`select j.id from jobs j left join sessions s on s.id = j.session_id
          where j.id in (${idList}) and coalesce(j.actor, '') <> ${reach.actor}
          and (s.group_id is null or s.group_id not in (${groups}))`;
    }
  }
}
