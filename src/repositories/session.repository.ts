// Attendance sessions and the class photos uploaded to them.
import type { Selectable } from 'kysely';
import type { Database, SessionPhotoTable, SessionStatus, SessionTable } from './database.js';
import { databaseKind } from './database.js';
import { toIso } from './face-crop.repository.js';

export interface Session {
  id: number;
  groupId: number;
  name: string | null;
  /** ISO 8601, UTC. */
  startsAt: string | null;
  status: SessionStatus;
  modelName: string;
  createdAt: string;
  closedAt: string | null;
}

export interface NewSession {
  groupId: number;
  name?: string | null;
  startsAt?: string | null;
  modelName: string;
}

export interface SessionPhoto {
  id: number;
  sessionId: number;
  imagePath: string;
  width: number;
  height: number;
  createdAt: string;
}

export type NewSessionPhoto = Omit<SessionPhoto, 'id' | 'createdAt'>;

const isoOrNull = (v: Date | string | null): string | null => (v === null ? null : toIso(v));

const toSession = (r: Selectable<SessionTable>): Session => ({
  id: Number(r.id),
  groupId: Number(r.group_id),
  name: r.name,
  startsAt: isoOrNull(r.starts_at),
  status: r.status,
  modelName: r.model_name,
  createdAt: toIso(r.created_at),
  closedAt: isoOrNull(r.closed_at),
});

const toPhoto = (r: Selectable<SessionPhotoTable>): SessionPhoto => ({
  id: Number(r.id),
  sessionId: Number(r.session_id),
  imagePath: r.image_path,
  width: r.width,
  height: r.height,
  createdAt: toIso(r.created_at),
});

export class SessionRepository {
  constructor(private readonly db: Database) {}

  async create(s: NewSession): Promise<Session> {
    const row = await this.db
      .insertInto('sessions')
      .values({
        group_id: s.groupId,
        name: s.name ?? null,
        starts_at: s.startsAt ?? null,
        status: 'open',
        model_name: s.modelName,
        created_at: new Date().toISOString(),
        closed_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSession(row);
  }

  async findById(id: number): Promise<Session | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSession(row);
  }

  /**
   * The session, its row locked until the surrounding transaction ends: writers on other
   * connections or processes wait. PostgreSQL: SELECT … FOR UPDATE. SQLite: a write first, so
   * the transaction holds the database's write lock before it reads anything (a worker node on
   * the same file then waits its turn instead of failing on a stale snapshot).
   */
  async lock(id: number): Promise<Session | undefined> {
    const query = this.db.selectFrom('sessions').selectAll().where('id', '=', id);
    if (databaseKind(this.db) === 'postgres') {
      const row = await query.forUpdate().executeTakeFirst();
      return row && toSession(row);
    }
    await this.db
      .updateTable('sessions')
      .set((eb) => ({ status: eb.ref('status') }))
      .where('id', '=', id)
      .execute();
    const row = await query.executeTakeFirst();
    return row && toSession(row);
  }

  async list(opts: {
    offset: number;
    limit: number;
    groupId?: number;
    /** Only sessions of these groups (a scoped key's groups). */
    groupIds?: readonly number[];
  }): Promise<{ count: number; sessions: Session[] }> {
    const base = this.db
      .selectFrom('sessions')
      .$if(opts.groupId !== undefined, (qb) => qb.where('group_id', '=', opts.groupId ?? 0))
      .$if(opts.groupIds !== undefined, (qb) => qb.where('group_id', 'in', [...(opts.groupIds ?? []), 0]));
    const [total, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow(),
      base.selectAll().orderBy('id', 'desc').limit(opts.limit).offset(opts.offset).execute(),
    ]);
    return { count: Number(total.n), sessions: rows.map(toSession) };
  }

  /** Closes an open session; undefined when it was not open (or does not exist). */
  async close(id: number): Promise<Session | undefined> {
    const row = await this.db
      .updateTable('sessions')
      .set({ status: 'closed', closed_at: new Date().toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .returningAll()
      .executeTakeFirst();
    return row && toSession(row);
  }

  async addPhoto(p: NewSessionPhoto): Promise<SessionPhoto> {
    const row = await this.db
      .insertInto('session_photos')
      .values({
        session_id: p.sessionId,
        image_path: p.imagePath,
        width: p.width,
        height: p.height,
        created_at: new Date().toISOString(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toPhoto(row);
  }

  async listPhotos(sessionId: number): Promise<SessionPhoto[]> {
    const rows = await this.db
      .selectFrom('session_photos')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('id')
      .execute();
    return rows.map(toPhoto);
  }

  /** The photo stored from this file, if any (a queued photo run a second time). */
  async findPhotoByPath(sessionId: number, imagePath: string): Promise<SessionPhoto | undefined> {
    const row = await this.db
      .selectFrom('session_photos')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('image_path', '=', imagePath)
      .executeTakeFirst();
    return row && toPhoto(row);
  }

  async findPhoto(sessionId: number, photoId: number): Promise<SessionPhoto | undefined> {
    const row = await this.db
      .selectFrom('session_photos')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('id', '=', photoId)
      .executeTakeFirst();
    return row && toPhoto(row);
  }
}
