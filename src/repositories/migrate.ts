// Schema migrations live in code (no files to ship or find at run time). Kysely's Migrator
// takes a lock, so several processes starting together migrate once.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { InternalError } from '../errors.js';
import { initial } from './migrations/0001-initial.js';
import { persons } from './migrations/0002-persons.js';
import { attendance } from './migrations/0003-attendance.js';
import { jobs } from './migrations/0004-jobs.js';
import { enrolJobs } from './migrations/0005-enrol-jobs.js';
import { clustersQuality } from './migrations/0007-clusters-quality.js';
import { sessionPhotoJobs } from './migrations/0008-session-photo-jobs.js';
import { sessionFaceMatches } from './migrations/0010-session-face-matches.js';
import { privacy } from './migrations/0011-privacy.js';
import { jobItemErrorDetails } from './migrations/0012-job-item-error-details.js';

const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-persons': persons,
  '0003-attendance': attendance,
  '0004-jobs': jobs,
  '0005-enrol-jobs': enrolJobs,
  '0007-clusters-quality': clustersQuality,
  '0008-session-photo-jobs': sessionPhotoJobs,
  '0010-session-face-matches': sessionFaceMatches,
  '0011-privacy': privacy,
  '0012-job-item-error-details': jobItemErrorDetails,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema to the latest version; returns the names of the migrations it applied. */
export async function migrate<T>(db: Kysely<T>): Promise<string[]> {
  const { error, results = [] } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const wrapped = new InternalError(
      `Database migration ${failed} failed: ${(error as Error).message ?? String(error)}`,
      { migration: failed },
    );
    if (error instanceof Error) wrapped.stack = error.stack;
    throw wrapped;
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
