// The rows erasure and retention remove or rewrite. Every count returned is the
// number of rows a statement actually deleted, so that a receipt says what happened, never what
// was meant to happen. Call inside one transaction (PrivacyRepository over a transaction).
import type { Database } from './database.js';
import { AuditRepository, type AuditEvent } from './audit.repository.js';
import { toIso } from './face-crop.repository.js';
import { MediaOwnerRepository } from './media-owner.repository.js';
import { PersonRepository } from './person.repository.js';

/** Ids per IN (...) list. */
const IN_CHUNK = 500;

export interface RemovedFaces {
  faceCrops: number;
  embeddings: number;
  clusterFaces: number;
  /** The image files the deleted crops named (media-root relative), each once. */
  paths: string[];
}

export interface ExpiredPhoto {
  id: number;
  imagePath: string;
}

function chunks<T>(items: readonly T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const counted = (r: { numDeletedRows: bigint }[]) => r.reduce((n, x) => n + Number(x.numDeletedRows), 0);

export class PrivacyRepository {
  readonly persons: PersonRepository;
  readonly audit: AuditRepository;

  constructor(private readonly db: Database) {
    this.persons = new PersonRepository(db);
    this.audit = new AuditRepository(db);
  }

  transaction<T>(fn: (repo: PrivacyRepository) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(new PrivacyRepository(trx)));
  }

  /**
   * Every face crop that shows the person: their enrolment faces, and the session faces an
   * attendance row of theirs holds (matched automatically, assigned by hand, or by a cluster).
   */
  /** Enrolment faces, and session faces matched to the person in any photo (attendance row or not). */
  async personFaceIds(personId: number): Promise<number[]> {
    const [enrolled, held, matched] = await Promise.all([
      this.db.selectFrom('face_crops').select('id').where('person_id', '=', personId).execute(),
      this.db
        .selectFrom('attendance')
        .select('face_crop_id')
        .where('person_id', '=', personId)
        .where('face_crop_id', 'is not', null)
        .execute(),
      this.db.selectFrom('session_face_matches').select('face_crop_id').where('person_id', '=', personId).execute(),
    ]);
    const ids = new Set([
      ...enrolled.map((r) => Number(r.id)),
      ...held.map((r) => Number(r.face_crop_id)),
      ...matched.map((r) => Number(r.face_crop_id)),
    ]);
    return [...ids].sort((a, b) => a - b);
  }

  /**
   * Deletes the crops with their embeddings and cluster memberships (each counted), and the
   * attendance rows' links to them (the rows stay, face_crop_id null).
   */
  async removeFaces(ids: readonly number[]): Promise<RemovedFaces> {
    const out: RemovedFaces = { faceCrops: 0, embeddings: 0, clusterFaces: 0, paths: [] };
    const paths = new Set<string>();
    for (const part of chunks(ids)) {
      out.embeddings += counted(
        await this.db.deleteFrom('face_embeddings').where('face_crop_id', 'in', part).execute(),
      );
      out.clusterFaces += counted(
        await this.db.deleteFrom('unknown_cluster_faces').where('face_crop_id', 'in', part).execute(),
      );
      await this.db.updateTable('attendance').set({ face_crop_id: null }).where('face_crop_id', 'in', part).execute();
      const gone = await this.db.deleteFrom('face_crops').where('id', 'in', part).returning('image_path').execute();
      out.faceCrops += gone.length;
      for (const r of gone) paths.add(r.image_path);
    }
    out.paths = [...paths];
    return out;
  }

  /** The paths among `paths` that a row still owns (the one owner rule: MediaOwnerRepository). */
  referencedPaths(paths: readonly string[]): Promise<Set<string>> {
    return new MediaOwnerRepository(this.db).owned(paths);
  }

  /** The photos bulk enrolment stored for the person (enrol job items); forgotten by the items. */
  async takeEnrolPhotoPaths(personId: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('job_items')
      .select('image_path')
      .where('person_id', '=', personId)
      .where('image_path', 'is not', null)
      .execute();
    await this.db
      .updateTable('job_items')
      .set({ image_path: null })
      .where('person_id', '=', personId)
      .where('image_path', 'is not', null)
      .execute();
    return [...new Set(rows.map((r) => r.image_path!))];
  }

  /**
   * The person's automatic "present" rows in open sessions become fixed (source manual): with
   * their faces gone, a later photo's re-solve would otherwise turn the recorded fact to absent.
   */
  async freezePresence(personId: number): Promise<void> {
    await this.db
      .updateTable('attendance')
      .set({ source: 'manual', updated_at: new Date().toISOString() })
      .where('person_id', '=', personId)
      .where('source', '=', 'auto')
      .where('status', '=', 'present')
      .where('session_id', 'in', (eb) => eb.selectFrom('sessions').select('id').where('status', '=', 'open'))
      .execute();
  }

  /** Name, external_id and metadata replaced; the name also in attendance rows and the audit trail. */
  async pseudonymise(personId: number, pseudonym: string): Promise<void> {
    await this.db
      .updateTable('persons')
      .set({ name: pseudonym, external_id: null, metadata: '{}' })
      .where('id', '=', personId)
      .execute();
    await this.db.updateTable('attendance').set({ person_name: pseudonym }).where('person_id', '=', personId).execute();
    await this.db
      .updateTable('audit_events')
      .set({ person_name: pseudonym })
      .where('person_id', '=', personId)
      .execute();
  }

  /** Session faces (cut from a class photo) that are nobody's enrolment face, stored before `cutoff`. */
  async sessionFacesBefore(cutoff: Date, unknownOnly: boolean): Promise<number[]> {
    const rows = await this.db
      .selectFrom('face_crops as f')
      .select('f.id')
      .where('f.source_photo_id', 'is not', null)
      .where('f.person_id', 'is', null)
      .where('f.created_at', '<', cutoff.toISOString())
      .$if(unknownOnly, (qb) =>
        qb.where(({ and, not, exists, selectFrom }) =>
          and([
            not(exists(selectFrom('attendance as a').select('a.id').whereRef('a.face_crop_id', '=', 'f.id'))),
            // A member's face in another photo than their row's is matched, not unknown.
            not(
              exists(
                selectFrom('session_face_matches as m')
                  .select('m.face_crop_id')
                  .whereRef('m.face_crop_id', '=', 'f.id'),
              ),
            ),
          ]),
        ),
      )
      .orderBy('f.id')
      .execute();
    return rows.map((r) => Number(r.id));
  }

  /** Class photos stored before `cutoff` whose file is still kept. */
  async photosBefore(cutoff: Date): Promise<ExpiredPhoto[]> {
    const rows = await this.db
      .selectFrom('session_photos')
      .select(['id', 'image_path'])
      .where('purged_at', 'is', null)
      .where('created_at', '<', cutoff.toISOString())
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: Number(r.id), imagePath: r.image_path }));
  }

  /** The photos' files are gone: their rows say so. */
  async markPhotosPurged(ids: readonly number[]): Promise<number> {
    let n = 0;
    const at = new Date().toISOString();
    for (const part of chunks(ids)) {
      const r = await this.db
        .updateTable('session_photos')
        .set({ purged_at: at })
        .where('id', 'in', part)
        .where('purged_at', 'is', null)
        .executeTakeFirst();
      n += Number(r.numUpdatedRows);
    }
    return n;
  }

  /** The newest audit event of this action. */
  async lastEvent(action: string): Promise<Pick<AuditEvent, 'at' | 'actor' | 'after'> | undefined> {
    const row = await this.db
      .selectFrom('audit_events')
      .select(['at', 'actor', 'after'])
      .where('action', '=', action)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { at: toIso(row.at), actor: row.actor, after: row.after === null ? null : JSON.parse(row.after) };
  }
}
