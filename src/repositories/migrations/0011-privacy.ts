// Biometric data a school can defend: a consent record per person, and class photos
// whose file a retention purge removed (the row stays: the photo was taken, its faces and the
// attendance it decided keep their history; purged_at says the image is gone for good).
import type { Kysely, Migration } from 'kysely';
import { databaseKind } from '../database.js';

export const privacy: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const time = databaseKind(db) === 'postgres' ? 'timestamptz' : 'text';
    await db.schema
      .alterTable('persons')
      .addColumn('consent_status', 'text', (c) => c.notNull().defaultTo('unknown'))
      .execute();
    await db.schema.alterTable('persons').addColumn('consent_by', 'text').execute();
    await db.schema.alterTable('persons').addColumn('consent_at', time).execute();
    await db.schema.alterTable('persons').addColumn('consent_basis', 'text').execute();
    await db.schema.alterTable('session_photos').addColumn('purged_at', time).execute();
    // The purge reads faces and photos by age.
    await db.schema.createIndex('face_crops_created_at_idx').on('face_crops').column('created_at').execute();
    await db.schema.createIndex('session_photos_created_at_idx').on('session_photos').column('created_at').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('session_photos_created_at_idx').execute();
    await db.schema.dropIndex('face_crops_created_at_idx').execute();
    await db.schema.alterTable('session_photos').dropColumn('purged_at').execute();
    for (const column of ['consent_basis', 'consent_at', 'consent_by', 'consent_status'])
      await db.schema.alterTable('persons').dropColumn(column).execute();
  },
};
