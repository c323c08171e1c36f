// Face crop rows. Narrow camelCase shapes leave this file; snake_case stays in the database.
import type { Selectable } from 'kysely';
import type { Box } from '../domain/face.js';
import type { FaceQuality } from '../domain/face-quality.js';
import type { Database, FaceCropTable } from './database.js';

export interface FaceCrop {
  id: number;
  imagePath: string;
  width: number;
  height: number;
  sha256: string;
  /** The person the crop shows (an enrolment face), if any. */
  personId: number | null;
  label: string | null;
  /** Where the face sits in the photo it was cut from. */
  box: Box | null;
  sourcePhotoId: number | null;
  /** Measured for faces cut from a photo; all null for other crops. */
  quality: FaceQuality;
  /** ISO 8601, UTC. */
  createdAt: string;
}

export interface NewFaceCrop {
  imagePath: string;
  width: number;
  height: number;
  sha256: string;
  personId?: number | null;
  label?: string | null;
  box?: Box | null;
  sourcePhotoId?: number | null;
  quality?: FaceQuality;
}

export interface ListCropsOptions {
  offset: number;
  limit: number;
  personId?: number;
}

const orNull = (v: number | string | null): number | null => (v === null ? null : Number(v));

type QualityColumns = Record<'width_px' | 'sharpness' | 'yaw' | 'roll', number | string | null>;

/** A face's quality from its face_crops columns (selected under their own names). */
export const qualityOf = (r: QualityColumns): FaceQuality => ({
  widthPx: orNull(r.width_px),
  sharpness: orNull(r.sharpness),
  yaw: orNull(r.yaw),
  roll: orNull(r.roll),
});

export const toIso = (value: Date | string): string => new Date(value).toISOString();

const toFaceCrop = (row: Selectable<FaceCropTable>): FaceCrop => ({
  id: Number(row.id),
  imagePath: row.image_path,
  width: row.width,
  height: row.height,
  sha256: row.sha256,
  personId: row.person_id === null ? null : Number(row.person_id),
  label: row.label,
  box: row.box === null ? null : (JSON.parse(row.box) as Box),
  sourcePhotoId: row.source_photo_id === null ? null : Number(row.source_photo_id),
  quality: qualityOf(row),
  createdAt: toIso(row.created_at),
});

export class FaceCropRepository {
  constructor(private readonly db: Database) {}

  async create(crop: NewFaceCrop): Promise<FaceCrop> {
    const row = await this.db
      .insertInto('face_crops')
      .values({
        image_path: crop.imagePath,
        width: crop.width,
        height: crop.height,
        sha256: crop.sha256,
        person_id: crop.personId ?? null,
        label: crop.label ?? null,
        box: crop.box ? JSON.stringify(crop.box) : null,
        source_photo_id: crop.sourcePhotoId ?? null,
        width_px: crop.quality?.widthPx ?? null,
        sharpness: crop.quality?.sharpness ?? null,
        yaw: crop.quality?.yaw ?? null,
        roll: crop.quality?.roll ?? null,
        created_at: new Date().toISOString(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toFaceCrop(row);
  }

  async findById(id: number): Promise<FaceCrop | undefined> {
    const row = await this.db.selectFrom('face_crops').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toFaceCrop(row);
  }

  /** Rows for the ids that exist, in no particular order. */
  async findByIds(ids: readonly number[]): Promise<FaceCrop[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('face_crops')
      .selectAll()
      .where('id', 'in', [...ids])
      .execute();
    return rows.map(toFaceCrop);
  }

  /** One page in id order, plus the total count under the same filter. */
  async list(opts: ListCropsOptions): Promise<{ count: number; crops: FaceCrop[] }> {
    const base = this.db
      .selectFrom('face_crops')
      .$if(opts.personId !== undefined, (qb) => qb.where('person_id', '=', opts.personId ?? null));
    const [total, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow(),
      base.selectAll().orderBy('id').limit(opts.limit).offset(opts.offset).execute(),
    ]);
    // PostgreSQL's count is int8, which pg returns as a string.
    return { count: Number(total.n), crops: rows.map(toFaceCrop) };
  }

  /** The quality of each person's enrolment faces (their face crops); a person without any is absent. */
  async qualitiesByPerson(personIds: readonly number[]): Promise<Map<number, FaceQuality[]>> {
    const out = new Map<number, FaceQuality[]>();
    if (personIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('face_crops')
      .select(['person_id', 'width_px', 'sharpness', 'yaw', 'roll'])
      .where('person_id', 'in', [...personIds])
      .orderBy('id')
      .execute();
    for (const r of rows) {
      const id = Number(r.person_id);
      out.set(id, [...(out.get(id) ?? []), qualityOf(r)]);
    }
    return out;
  }

  /** Deletes the crop (its embeddings go with it) and returns what was deleted. */
  async delete(id: number): Promise<FaceCrop | undefined> {
    const row = await this.db.deleteFrom('face_crops').where('id', '=', id).returningAll().executeTakeFirst();
    return row && toFaceCrop(row);
  }

  /** Links the crop to a person (enrols it) or unlinks it; the row after the change. */
  async setPerson(id: number, personId: number | null): Promise<FaceCrop | undefined> {
    const row = await this.db
      .updateTable('face_crops')
      .set({ person_id: personId })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toFaceCrop(row);
  }

  /** The person's oldest face crop with these bytes (a photo enrolled before). */
  async findByPersonAndSha256(personId: number, sha256: string): Promise<FaceCrop | undefined> {
    const row = await this.db
      .selectFrom('face_crops')
      .selectAll()
      .where('person_id', '=', personId)
      .where('sha256', '=', sha256)
      .orderBy('id')
      .executeTakeFirst();
    return row && toFaceCrop(row);
  }

  async countByImagePath(imagePath: string): Promise<number> {
    const { n } = await this.db
      .selectFrom('face_crops')
      .where('image_path', '=', imagePath)
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }
}
