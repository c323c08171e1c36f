// The faces of a session that the automatic solve gave to roster members, one row per face: a
// member matched in several photos answers each of those faces. Each re-solve rewrites the
// session's set (inside the session's locked transaction).
import type { Database } from './database.js';

export interface FaceMatch {
  faceCropId: number;
  personId: number;
  similarity: number;
}

/** Rows per insert: well under SQLite's bound-parameter limit. */
const CHUNK = 500;

export class SessionMatchRepository {
  constructor(private readonly db: Database) {}

  /** The session's matched faces, in face order. */
  async list(sessionId: number): Promise<FaceMatch[]> {
    const rows = await this.db
      .selectFrom('session_face_matches')
      .select(['face_crop_id', 'person_id', 'similarity'])
      .where('session_id', '=', sessionId)
      .orderBy('face_crop_id')
      .execute();
    return rows.map((r) => ({
      faceCropId: Number(r.face_crop_id),
      personId: Number(r.person_id),
      similarity: Number(r.similarity),
    }));
  }

  /** The session's set becomes exactly `matches`. */
  async replace(sessionId: number, matches: readonly FaceMatch[]): Promise<void> {
    await this.db.deleteFrom('session_face_matches').where('session_id', '=', sessionId).execute();
    for (let i = 0; i < matches.length; i += CHUNK) {
      await this.db
        .insertInto('session_face_matches')
        .values(
          matches.slice(i, i + CHUNK).map((m) => ({
            face_crop_id: m.faceCropId,
            session_id: sessionId,
            person_id: m.personId,
            similarity: m.similarity,
          })),
        )
        .execute();
    }
  }
}
