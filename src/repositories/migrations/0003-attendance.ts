// Attendance sessions of a group: the class photos uploaded to them, one attendance row per
// roster member, and the audit trail. Attendance rows and audit events outlive the person they
// name: attendance.person_id is set to NULL on deletion and person_name keeps the name as it
// was; audit_events has no foreign keys at all (a record of the past is not cascaded away).
import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import { databaseKind } from '../database.js';

/** A CHECK that the column holds one of the values. */
const sqlIn = (column: string, values: string[]) =>
  sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;

export const attendance: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const pg = databaseKind(db) === 'postgres';
    const time = pg ? 'timestamptz' : 'text';
    const id = (c: ColumnDefinitionBuilder) =>
      pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'integer', id)
      .addColumn('group_id', 'integer', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('name', 'text')
      .addColumn('starts_at', time)
      .addColumn('status', 'text', (c) =>
        c
          .notNull()
          .defaultTo('open')
          .check(sqlIn('status', ['open', 'closed'])),
      )
      .addColumn('model_name', 'text', (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('closed_at', time)
      .execute();
    await db.schema.createIndex('sessions_group_id_idx').on('sessions').column('group_id').execute();

    await db.schema
      .createTable('session_photos')
      .addColumn('id', 'integer', id)
      .addColumn('session_id', 'integer', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
      .addColumn('image_path', 'text', (c) => c.notNull())
      .addColumn('width', 'integer', (c) => c.notNull())
      .addColumn('height', 'integer', (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('session_photos_session_id_idx').on('session_photos').column('session_id').execute();
    await db.schema.createIndex('face_crops_source_photo_id_idx').on('face_crops').column('source_photo_id').execute();

    await db.schema
      .createTable('attendance')
      .addColumn('id', 'integer', id)
      .addColumn('session_id', 'integer', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
      .addColumn('person_id', 'integer', (c) => c.references('persons.id').onDelete('set null'))
      .addColumn('person_name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sqlIn('status', ['present', 'absent'])))
      .addColumn('source', 'text', (c) => c.notNull().check(sqlIn('source', ['auto', 'manual'])))
      .addColumn('similarity', pg ? 'double precision' : 'real')
      .addColumn('face_crop_id', 'integer', (c) => c.references('face_crops.id').onDelete('set null'))
      .addColumn('updated_at', time, (c) => c.notNull())
      .addUniqueConstraint('attendance_session_person_key', ['session_id', 'person_id'])
      .execute();

    await db.schema
      .createTable('audit_events')
      .addColumn('id', 'integer', id)
      .addColumn('at', time, (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('session_id', 'integer')
      .addColumn('person_id', 'integer')
      .addColumn('person_name', 'text')
      .addColumn('face_crop_id', 'integer')
      // JSON text, the same in both databases.
      .addColumn('before', 'text')
      .addColumn('after', 'text')
      .addColumn('note', 'text')
      .execute();
    await db.schema.createIndex('audit_events_session_id_idx').on('audit_events').column('session_id').execute();
    await db.schema.createIndex('audit_events_person_id_idx').on('audit_events').column('person_id').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('audit_events').execute();
    await db.schema.dropTable('attendance').execute();
    await db.schema.dropIndex('face_crops_source_photo_id_idx').execute();
    await db.schema.dropTable('session_photos').execute();
    await db.schema.dropTable('sessions').execute();
  },
};
