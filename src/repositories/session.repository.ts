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

/** What removePhotos took away: the files now owned by no row, and the counts. */
export interface RemovedPhotos {
  photos: number;
  faceCrops: number;
  /** Faces enrolled as a person's (kept, no longer linked to the photo). */
  enrolledKept: number;
  /** Relative paths of the removed rows' files (the photos' and their face crops'). */
  files: string[];
}

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

  /** The ids of the photos of these sessions. */
  async photoIds(sessionIds: readonly number[]): Promise<number[]> {
    if (sessionIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('session_photos')
      .select('id')
      .where('session_id', 'in', [...sessionIds])
      .orderBy('id')
      .execute();
    return rows.map((r) => Number(r.id));
  }

  async idsOfGroup(groupId: number): Promise<number[]> {
    const rows = await this.db.selectFrom('sessions').select('id').where('group_id', '=', groupId).execute();
    return rows.map((r) => Number(r.id));
  }

  /**
   * Deletes the photos and the faces cut from them (their embeddings and cluster places go by
   * cascade; attendance rows lose the face reference). A face enrolled as a person's stays in
   * their gallery, unlinked from the photo. Run inside a transaction; the files are the
   * caller's to remove once it commits.
   */
  async removePhotos(photoIds: readonly number[]): Promise<RemovedPhotos> {
    const removed: RemovedPhotos = { photos: 0, faceCrops: 0, enrolledKept: 0, files: [] };
    if (photoIds.length === 0) return removed;
    const ids = [...photoIds];
    const crops = await this.db
      .selectFrom('face_crops')
      .select(['id', 'image_path', 'person_id'])
      .where('source_photo_id', 'in', ids)
      .execute();
    const enrolled = crops.filter((c) => c.person_id !== null).map((c) => Number(c.id));
    const faces = crops.filter((c) => c.person_id === null);
    if (enrolled.length > 0)
      await this.db.updateTable('face_crops').set({ source_photo_id: null }).where('id', 'in', enrolled).execute();
    if (faces.length > 0)
      await this.db
        .deleteFrom('face_crops')
        .where(
          'id',
          'in',
          faces.map((c) => Number(c.id)),
        )
        .execute();
    const photos = await this.db.deleteFrom('session_photos').where('id', 'in', ids).returning('image_path').execute();
    removed.photos = photos.length;
    removed.faceCrops = faces.length;
    removed.enrolledKept = enrolled.length;
    removed.files = [...photos.map((p) => p.image_path), ...faces.map((c) => c.image_path)];
    return removed;
  }

  /** Deletes the session (its attendance rows go by cascade); call removePhotos first. */
  async delete(id: number): Promise<boolean> {
    const rows = await this.db.deleteFrom('sessions').where('id', '=', id).returning('id').execute();
    return rows.length > 0;
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
