// Persons, groups (rosters) and the link from a face crop to the person it shows. Today's
// free-text face_crops.person_id values become persons (external_id = name = the old text),
// so no link is lost. The column is swapped in place (add, copy, drop, rename) rather than by
// rebuilding the table: a SQLite rebuild would drop face_crops, and with it (ON DELETE CASCADE)
// every embedding.
import { sql, type Kysely, type Migration } from 'kysely';
import { databaseKind } from '../database.js';

export const persons: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const pg = databaseKind(db) === 'postgres';
    const time = pg ? 'timestamptz' : 'text';
    const now = new Date().toISOString();

    await db.schema
      .createTable('persons')
      .addColumn('id', 'integer', (c) =>
        pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.unique())
      .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('groups')
      .addColumn('id', 'integer', (c) =>
        pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.unique())
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('group_members')
      .addColumn('group_id', 'integer', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('person_id', 'integer', (c) => c.notNull().references('persons.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('group_members_pkey', ['group_id', 'person_id'])
      .execute();
    await db.schema.createIndex('group_members_person_id_idx').on('group_members').column('person_id').execute();

    // One person per distinct old value.
    await sql`
      insert into persons (name, external_id, metadata, created_at)
      select person_id, person_id, '{}', ${pg ? sql`${now}::timestamptz` : sql`${now}`}
      from (select distinct person_id from face_crops where person_id is not null) old
      order by person_id`.execute(db);

    await db.schema
      .alterTable('face_crops')
      .addColumn('person_ref', 'integer', (c) => c.references('persons.id').onDelete('set null'))
      .execute();
    await sql`
      update face_crops
      set person_ref = (select p.id from persons p where p.external_id = face_crops.person_id)
      where person_id is not null`.execute(db);
    await db.schema.dropIndex('face_crops_person_id_idx').execute();
    await db.schema.alterTable('face_crops').dropColumn('person_id').execute();
    await db.schema.alterTable('face_crops').renameColumn('person_ref', 'person_id').execute();
    await db.schema.createIndex('face_crops_person_id_idx').on('face_crops').column('person_id').execute();

    await db.schema.alterTable('face_crops').addColumn('box', 'text').execute();
    await db.schema.alterTable('face_crops').addColumn('source_photo_id', 'integer').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('face_crops').dropColumn('source_photo_id').execute();
    await db.schema.alterTable('face_crops').dropColumn('box').execute();
    await db.schema.alterTable('face_crops').addColumn('person_text', 'text').execute();
    await sql`
      update face_crops
      set person_text = (select coalesce(p.external_id, cast(p.id as text)) from persons p where p.id = face_crops.person_id)
      where person_id is not null`.execute(db);
    await db.schema.dropIndex('face_crops_person_id_idx').execute();
    await db.schema.alterTable('face_crops').dropColumn('person_id').execute();
    await db.schema.alterTable('face_crops').renameColumn('person_text', 'person_id').execute();
    await db.schema.createIndex('face_crops_person_id_idx').on('face_crops').column('person_id').execute();
    await db.schema.dropTable('group_members').execute();
    await db.schema.dropTable('groups').execute();
    await db.schema.dropTable('persons').execute();
  },
};
