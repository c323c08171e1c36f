// Long work as jobs (issue 15): one row per job and one per (job, face crop). The item rows are
// the source of truth for progress under both engines (embedded and BullMQ): a node reports by
// writing its items' outcomes here, never only to the queue.
import type { Kysely, Migration } from 'kysely';
import { databaseKind } from '../database.js';

export const jobs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const pg = databaseKind(db) === 'postgres';
    const time = pg ? 'timestamptz' : 'text';

    await db.schema
      .createTable('jobs')
      .addColumn('id', 'integer', (c) =>
        pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
      )
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('model_name', 'text', (c) => c.notNull())
      .addColumn('force', 'integer', (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('created_at', time, (c) => c.notNull())
      .addColumn('started_at', time)
      .addColumn('finished_at', time)
      .execute();
    await db.schema.createIndex('jobs_status_idx').on('jobs').column('status').execute();

    await db.schema
      .createTable('job_items')
      .addColumn('job_id', 'integer', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
      // No foreign key: a crop deleted while its job runs is reported as not found, and the
      // job's history stays.
      .addColumn('face_crop_id', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('error_type', 'text')
      .addColumn('error_message', 'text')
      .addColumn('node', 'text')
      .addColumn('finished_at', time)
      .addPrimaryKeyConstraint('job_items_pkey', ['job_id', 'face_crop_id'])
      .execute();
    await db.schema.createIndex('job_items_status_idx').on('job_items').columns(['job_id', 'status']).execute();
    await db.schema.createIndex('job_items_finished_idx').on('job_items').column('finished_at').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('job_items').execute();
    await db.schema.dropTable('jobs').execute();
  },
};
