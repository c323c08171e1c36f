// The faces of a session that answer roster members besides the one face each attendance row
// holds: a member matched in several photos answers each of those faces. `auto` matches are the
// solve's and each re-solve rewrites them; `manual` ones are faces given by hand that the
// member's row has moved on from, fixed until the member is marked absent or the face is given
// to someone else. Written inside the session's locked transaction.
import type { Database } from './database.js';

export interface FaceMatch {
  faceCropId: number;
  personId: number;
  similarity: number | null;
  source: 'auto' | 'manual';
}

/** Rows per insert: well under SQLite's bound-parameter limit. */
const CHUNK = 500;

export class SessionMatchRepository {
  constructor(private readonly db: Database) {}

  /** The session's matched faces, in face order. */
  async list(sessionId: number): Promise<FaceMatch[]> {
    const rows = await this.db
      .selectFrom('session_face_matches')
      .select(['face_crop_id', 'person_id', 'similarity', 'source'])
      .where('session_id', '=', sessionId)
      .orderBy('face_crop_id')
      .execute();
    return rows.map((r) => ({
      faceCropId: Number(r.face_crop_id),
      personId: Number(r.person_id),
      similarity: r.similarity === null ? null : Number(r.similarity),
      source: r.source,
    }));
  }

  /** The session's automatic matches become exactly `matches` (manual ones stay). */
  async replaceAuto(sessionId: number, matches: readonly Omit<FaceMatch, 'source'>[]): Promise<void> {
    await this.db
      .deleteFrom('session_face_matches')
      .where('session_id', '=', sessionId)
      .where('source', '=', 'auto')
      .execute();
    for (let i = 0; i < matches.length; i += CHUNK) {
      await this.db
        .insertInto('session_face_matches')
        .values(
          matches.slice(i, i + CHUNK).map((m) => ({
            face_crop_id: m.faceCropId,
            session_id: sessionId,
            person_id: m.personId,
            similarity: m.similarity,
            source: 'auto' as const,
          })),
        )
        .execute();
    }
  }

  /** A face given by hand stays its member's (replacing whatever answer it had). */
  async keepManual(sessionId: number, match: Omit<FaceMatch, 'source'>): Promise<void> {
    await this.removeFace(match.faceCropId);
    await this.db
      .insertInto('session_face_matches')
      .values({
        face_crop_id: match.faceCropId,
        session_id: sessionId,
        person_id: match.personId,
        similarity: match.similarity,
        source: 'manual',
      })
      .execute();
  }

  async removeFace(faceCropId: number): Promise<void> {
    await this.db.deleteFrom('session_face_matches').where('face_crop_id', '=', faceCropId).execute();
  }

  /** The member's faces given by hand in this session are theirs no more. */
  async removeManual(sessionId: number, personId: number): Promise<void> {
    await this.db
      .deleteFrom('session_face_matches')
      .where('session_id', '=', sessionId)
      .where('person_id', '=', personId)
      .where('source', '=', 'manual')
      .execute();
  }
}
