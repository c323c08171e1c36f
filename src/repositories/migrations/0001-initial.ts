// Face crops and their embeddings. Embeddings are float32 bytes (pgvector is not available on
// the target systems), one row per crop and model, replaced in place when regenerated.
import { sql, type Kysely, type Migration } from 'kysely';
import { databaseKind } from '../database.js';

export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const pg = databaseKind(db) === 'postgres';
    const time = pg ? 'timestamptz' : 'text';

    await db.schema
      .createTable('face_crops')
      .addColumn('id', 'integer', (c) =>
        pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
      )
      .addColumn('image_path', 'text', (c) => c.notNull())
      .addColumn('width', 'integer', (c) => c.notNull())
      .addColumn('height', 'integer', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text')
      .addColumn('label', 'text')
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('face_crops_person_id_idx').on('face_crops').column('person_id').execute();
    await db.schema.createIndex('face_crops_image_path_idx').on('face_crops').column('image_path').execute();

    await db.schema
      .createTable('face_embeddings')
      .addColumn('id', 'integer', (c) =>
        pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
      )
      .addColumn('face_crop_id', 'integer', (c) => c.notNull().references('face_crops.id').onDelete('cascade'))
      .addColumn('model_name', 'text', (c) => c.notNull())
      .addColumn('model_version', 'text', (c) => c.notNull())
      .addColumn('dimensions', 'integer', (c) => c.notNull())
      .addColumn('embedding', pg ? 'bytea' : 'blob', (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .addUniqueConstraint('face_embeddings_crop_model_key', ['face_crop_id', 'model_name'])
      .addCheckConstraint('face_embeddings_bytes_check', sql`length(embedding) = dimensions * 4`)
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('face_embeddings').execute();
    await db.schema.dropTable('face_crops').execute();
  },
};
