// Which rows own which media files: a face crop, a session photo, or (until its job ends) a
// queued photo or enrolment item. A stored file has exactly one owner; a file in the service's
// folders that no row owns is an orphan (the sweep and `faceembed fsck` look here).
import type { Database } from './database.js';
import { ACTIVE_JOB } from './job-rows.js';

export interface MediaOwners {
  faceCropIds: number[];
  photoIds: number[];
  /** Items of jobs still queued or running. */
  jobItems: number;
}

/** Paths per IN (...) query: well under SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 500;

export class MediaOwnerRepository {
  constructor(private readonly db: Database) {}

  async ownersOf(relPath: string): Promise<MediaOwners> {
    const [crops, photos, items] = await Promise.all([
      this.db.selectFrom('face_crops').select('id').where('image_path', '=', relPath).execute(),
      this.db.selectFrom('session_photos').select('id').where('image_path', '=', relPath).execute(),
      this.activeItems().where('job_items.image_path', '=', relPath).execute(),
    ]);
    return {
      faceCropIds: crops.map((r) => Number(r.id)),
      photoIds: photos.map((r) => Number(r.id)),
      jobItems: items.length,
    };
  }

  /** The paths among `paths` that some row owns (a photo whose file retention purged owns none). */
  async owned(paths: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < paths.length; i += CHUNK) {
      const part = paths.slice(i, i + CHUNK);
      const rows = await Promise.all([
        this.db.selectFrom('face_crops').select('image_path').where('image_path', 'in', part).execute(),
        this.db
          .selectFrom('session_photos')
          .select('image_path')
          .where('image_path', 'in', part)
          .where('purged_at', 'is', null)
          .execute(),
        this.activeItems().where('job_items.image_path', 'in', part).execute(),
      ]);
      for (const list of rows) for (const r of list) if (r.image_path) found.add(r.image_path);
    }
    return found;
  }

  /**
   * Every path a face crop or a session photo names (a path once, however many rows); a photo
   * whose file retention purged keeps its row but names no file.
   */
  async rowPaths(): Promise<string[]> {
    const [crops, photos] = await Promise.all([
      this.db.selectFrom('face_crops').select('image_path').distinct().execute(),
      this.db.selectFrom('session_photos').select('image_path').where('purged_at', 'is', null).distinct().execute(),
    ]);
    return [...new Set([...crops, ...photos].map((r) => r.image_path))].sort();
  }

  private activeItems() {
    return this.db
      .selectFrom('job_items')
      .innerJoin('jobs', 'jobs.id', 'job_items.job_id')
      .select('job_items.image_path')
      .where('jobs.status', 'in', [...ACTIVE_JOB])
      .where('job_items.image_path', 'is not', null);
  }
}
