// Attendance rows (one per roster member and session) and what the matcher reads: the
// session's faces and the members' enrolled faces, with their embeddings of one model.
import type { Selectable } from 'kysely';
import type { Box } from '../domain/face.js';
import type { FaceQuality } from '../domain/face-quality.js';
import type { AttendanceSource, AttendanceStatus, AttendanceTable, Database } from './database.js';
import { decodeEmbedding, personConsented, type MatchScope } from './embedding.repository.js';
import { qualityOf, toIso } from './face-crop.repository.js';

export interface AttendanceRow {
  id: number;
  sessionId: number;
  /** Null once the person was deleted; personName keeps the name. */
  personId: number | null;
  personName: string;
  status: AttendanceStatus;
  source: AttendanceSource;
  similarity: number | null;
  faceCropId: number | null;
  updatedAt: string;
}

export interface NewAttendanceRow {
  sessionId: number;
  personId: number;
  personName: string;
}

export type AttendanceChange = Pick<AttendanceRow, 'status' | 'source' | 'similarity' | 'faceCropId'>;

export interface SessionFace {
  faceCropId: number;
  photoId: number;
  box: Box | null;
  /** Of the session's model; null when it has none. */
  embedding: Float32Array | null;
  /** The version of the model that made `embedding`. */
  modelVersion: string | null;
  quality: FaceQuality;
}

export interface GalleryFace {
  personId: number;
  faceCropId: number;
  embedding: Float32Array | null;
  modelVersion: string | null;
}

const toRow = (r: Selectable<AttendanceTable>): AttendanceRow => ({
  id: Number(r.id),
  sessionId: Number(r.session_id),
  personId: r.person_id === null ? null : Number(r.person_id),
  personName: r.person_name,
  status: r.status,
  source: r.source,
  similarity: r.similarity === null ? null : Number(r.similarity),
  faceCropId: r.face_crop_id === null ? null : Number(r.face_crop_id),
  updatedAt: toIso(r.updated_at),
});

export class AttendanceRepository {
  constructor(
    private readonly db: Database,
    private readonly scope: MatchScope = {},
  ) {}

  /** In roster order (person id), rows of deleted persons last. */
  async listForSession(sessionId: number): Promise<AttendanceRow[]> {
    const rows = await this.db
      .selectFrom('attendance')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('person_id')
      .orderBy('id')
      .execute();
    const out = rows.map(toRow);
    return [...out.filter((r) => r.personId !== null), ...out.filter((r) => r.personId === null)];
  }

  async find(sessionId: number, personId: number): Promise<AttendanceRow | undefined> {
    const row = await this.db
      .selectFrom('attendance')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('person_id', '=', personId)
      .executeTakeFirst();
    return row && toRow(row);
  }

  /** Absent, automatic rows for members that have none yet (existing rows are kept as they are). */
  async addAbsent(rows: readonly NewAttendanceRow[]): Promise<void> {
    if (rows.length === 0) return;
    const now = new Date().toISOString();
    await this.db
      .insertInto('attendance')
      .values(
        rows.map((r) => ({
          session_id: r.sessionId,
          person_id: r.personId,
          person_name: r.personName,
          status: 'absent' as const,
          source: 'auto' as const,
          similarity: null,
          face_crop_id: null,
          updated_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['session_id', 'person_id']).doNothing())
      .execute();
  }

  async update(id: number, change: AttendanceChange): Promise<AttendanceRow> {
    const row = await this.db
      .updateTable('attendance')
      .set({
        status: change.status,
        source: change.source,
        similarity: change.similarity,
        face_crop_id: change.faceCropId,
        updated_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRow(row);
  }

  /** Every face cut from the session's photos, in upload order. */
  async sessionFaces(sessionId: number, modelName: string): Promise<SessionFace[]> {
    const rows = await this.db
      .selectFrom('face_crops as f')
      .innerJoin('session_photos as p', 'p.id', 'f.source_photo_id')
      .leftJoin('face_embeddings as e', (j) =>
        j.onRef('e.face_crop_id', '=', 'f.id').on('e.model_name', '=', modelName),
      )
      .select([
        'f.id',
        'f.box',
        'p.id as photo_id',
        'e.embedding',
        'e.model_version',
        'f.width_px',
        'f.sharpness',
        'f.yaw',
        'f.roll',
      ])
      .where('p.session_id', '=', sessionId)
      .orderBy('f.id')
      .execute();
    return rows.map((r) => ({
      faceCropId: Number(r.id),
      photoId: Number(r.photo_id),
      box: r.box === null ? null : (JSON.parse(r.box) as Box),
      embedding: r.embedding ? decodeEmbedding(r.embedding) : null,
      modelVersion: r.model_version ?? null,
      quality: qualityOf(r),
    }));
  }

  /** The enrolled faces (face crops linked to the person) of these persons (MatchScope: those that may be matched). */
  async galleries(personIds: readonly number[], modelName: string): Promise<GalleryFace[]> {
    if (personIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('face_crops as f')
      .leftJoin('face_embeddings as e', (j) =>
        j.onRef('e.face_crop_id', '=', 'f.id').on('e.model_name', '=', modelName),
      )
      .select(['f.id', 'f.person_id', 'e.embedding', 'e.model_version'])
      .where('f.person_id', 'in', [...personIds])
      .$if(this.scope.consentedOnly === true, (qb) => qb.where(personConsented('f.person_id')))
      .orderBy('f.id')
      .execute();
    return rows.map((r) => ({
      personId: Number(r.person_id),
      faceCropId: Number(r.id),
      embedding: r.embedding ? decodeEmbedding(r.embedding) : null,
      modelVersion: r.model_version ?? null,
    }));
  }
}
