// Sessions with several photos: a roster member may be matched in each photo, so the answer of
// every matched face is stored, not only the one face an attendance row holds.
// - session_face_matches: one row per face of a session's photo that answers a member besides
//   the one face their attendance row holds: `auto` rows are what the solve gave (rewritten by
//   every re-solve), `manual` rows are faces given by hand that the member's row has since moved
//   on from (fixed, like manual rows). A face in neither this table nor an attendance row is
//   unknown. Faces, sessions and persons take their matches with them when deleted.
import { sql, type Kysely, type Migration } from 'kysely';
import { databaseKind } from '../database.js';

export const sessionFaceMatches: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const pg = databaseKind(db) === 'postgres';
    await db.schema
      .createTable('session_face_matches')
      .addColumn('face_crop_id', 'integer', (c) => c.primaryKey().references('face_crops.id').onDelete('cascade'))
      .addColumn('session_id', 'integer', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
      .addColumn('person_id', 'integer', (c) => c.notNull().references('persons.id').onDelete('cascade'))
      .addColumn('similarity', pg ? 'double precision' : 'real')
      .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('auto', 'manual')`))
      .execute();
    await db.schema
      .createIndex('session_face_matches_session_idx')
      .on('session_face_matches')
      .column('session_id')
      .execute();
    await db.schema
      .createIndex('session_face_matches_person_idx')
      .on('session_face_matches')
      .column('person_id')
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('session_face_matches').execute();
  },
};
