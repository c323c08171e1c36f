// Bulk enrolment as a job (issue 15): a job's items are no longer always face crops. The item key
// becomes `item_id` (the face crop id for generate-embeddings; the photo's number, 1..n, for an
// enrol job), and an enrol item carries its photo (relative to the media root), the person it
// goes to, and the face crop it enrolled once done.
import type { Kysely, Migration } from 'kysely';

export const enrolJobs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('job_items').renameColumn('face_crop_id', 'item_id').execute();
    await db.schema.alterTable('job_items').addColumn('image_path', 'text').execute();
    // No foreign keys, as for the item key: a person or crop deleted later leaves the history.
    await db.schema.alterTable('job_items').addColumn('person_id', 'integer').execute();
    await db.schema.alterTable('job_items').addColumn('enrolled_face_crop_id', 'integer').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('job_items').dropColumn('enrolled_face_crop_id').execute();
    await db.schema.alterTable('job_items').dropColumn('person_id').execute();
    await db.schema.alterTable('job_items').dropColumn('image_path').execute();
    await db.schema.alterTable('job_items').renameColumn('item_id', 'face_crop_id').execute();
  },
};
