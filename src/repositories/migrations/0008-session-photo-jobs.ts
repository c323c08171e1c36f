// Class photos as jobs (issue 23): a `session-photo` job names its session and the actor the
// audit trail records; its one item carries the stored photo (image_path) and, once done, the
// answer the synchronous upload would have given (result, JSON), so the job reads the same body
// however late it is asked and whichever node ran it.
import type { Kysely, Migration } from 'kysely';

export const sessionPhotoJobs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // No foreign key: the job's history outlives a deleted session.
    await db.schema.alterTable('jobs').addColumn('session_id', 'integer').execute();
    await db.schema.alterTable('jobs').addColumn('actor', 'text').execute();
    await db.schema.alterTable('job_items').addColumn('result', 'text').execute();
    // Re-running a photo item (a node died after its commit) finds the photo by its file.
    await db.schema
      .createIndex('session_photos_path_idx')
      .on('session_photos')
      .columns(['session_id', 'image_path'])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('session_photos_path_idx').execute();
    await db.schema.alterTable('job_items').dropColumn('result').execute();
    await db.schema.alterTable('jobs').dropColumn('actor').execute();
    await db.schema.alterTable('jobs').dropColumn('session_id').execute();
  },
};
