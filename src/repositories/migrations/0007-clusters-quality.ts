// Unknown faces grouped across a group's sessions, and each stored face's quality (issue 22).
// - unknown_clusters: a group's clusters on one model; `person_id` is set once the cluster was
//   enrolled (kept, so that a second enrol of it is told it came too late).
// - unknown_cluster_faces: the faces placed in a cluster, each once per cluster.
// - face_crops gains width_px, sharpness, yaw and roll (null for crops stored before).
// - attendance.source may also be 'cluster' (marked present by a cluster's enrolment). The
//   CHECK is replaced: PostgreSQL alters it; SQLite cannot, so the table is rebuilt.
import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import { databaseKind } from '../database.js';

const SOURCES_BEFORE = ['auto', 'manual'];
const SOURCES_AFTER = ['auto', 'manual', 'cluster'];
const QUALITY = ['width_px', 'sharpness', 'yaw', 'roll'] as const;

export const clustersQuality: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const pg = databaseKind(db) === 'postgres';
    const time = pg ? 'timestamptz' : 'text';
    const id = (c: ColumnDefinitionBuilder) =>
      pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();

    for (const column of QUALITY)
      await db.schema
        .alterTable('face_crops')
        .addColumn(column, pg ? 'double precision' : 'real')
        .execute();

    await db.schema
      .createTable('unknown_clusters')
      .addColumn('id', 'integer', id)
      .addColumn('group_id', 'integer', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('model_name', 'text', (c) => c.notNull())
      .addColumn('person_id', 'integer', (c) => c.references('persons.id').onDelete('set null'))
      .addColumn('enrolled_at', time)
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('unknown_clusters_group_idx')
      .on('unknown_clusters')
      .columns(['group_id', 'model_name'])
      .execute();
    await db.schema
      .createTable('unknown_cluster_faces')
      .addColumn('cluster_id', 'integer', (c) => c.notNull().references('unknown_clusters.id').onDelete('cascade'))
      .addColumn('face_crop_id', 'integer', (c) => c.notNull().references('face_crops.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('unknown_cluster_faces_pkey', ['cluster_id', 'face_crop_id'])
      .execute();
    await db.schema
      .createIndex('unknown_cluster_faces_face_idx')
      .on('unknown_cluster_faces')
      .column('face_crop_id')
      .execute();

    await replaceSourceCheck(db, pg, SOURCES_AFTER);
  },

  async down(db: Kysely<unknown>): Promise<void> {
    const pg = databaseKind(db) === 'postgres';
    await sql`update attendance set source = 'manual' where source = 'cluster'`.execute(db);
    await replaceSourceCheck(db, pg, SOURCES_BEFORE);
    await db.schema.dropTable('unknown_cluster_faces').execute();
    await db.schema.dropTable('unknown_clusters').execute();
    for (const column of QUALITY) await db.schema.alterTable('face_crops').dropColumn(column).execute();
  },
};

const sourceCheck = (values: string[]) => sql`check (source in (${sql.join(values.map((v) => sql.lit(v)))}))`;

async function replaceSourceCheck(db: Kysely<unknown>, pg: boolean, values: string[]): Promise<void> {
  if (pg) {
    await sql`alter table attendance drop constraint attendance_source_check`.execute(db);
    await sql`alter table attendance add constraint attendance_source_check ${sourceCheck(values)}`.execute(db);
    return;
  }
  // SQLite: the documented 12-step rebuild (nothing references attendance, so no foreign key moves).
  const columns = sql.raw(
    'id, session_id, person_id, person_name, status, source, similarity, face_crop_id, updated_at',
  );
  await sql`create table attendance_rebuilt (
    id integer primary key autoincrement,
    session_id integer not null references sessions (id) on delete cascade,
    person_id integer references persons (id) on delete set null,
    person_name text not null,
    status text not null check (status in ('present', 'absent')),
    source text not null ${sourceCheck(values)},
    similarity real,
    face_crop_id integer references face_crops (id) on delete set null,
    updated_at text not null,
    constraint attendance_session_person_key unique (session_id, person_id)
  )`.execute(db);
  await sql`insert into attendance_rebuilt (${columns}) select ${columns} from attendance`.execute(db);
  await sql`drop table attendance`.execute(db);
  await sql`alter table attendance_rebuilt rename to attendance`.execute(db);
}
