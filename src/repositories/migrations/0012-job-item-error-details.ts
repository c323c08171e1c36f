// A failed job item keeps its typed error's details (JSON), as the HTTP error body carries them:
// an enrol photo refused by the gate names its reason (several_faces, face_too_small, ...).
import type { Kysely, Migration } from 'kysely';

export const jobItemErrorDetails: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('job_items').addColumn('error_details', 'text').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('job_items').dropColumn('error_details').execute();
  },
};
