// Stored embeddings: one row per (face crop, model), written by upsert so that concurrent
// writers for the same crop can never leave two rows.
import { sql, type SqlBool } from 'kysely';
import type { Database } from './database.js';
import { toIso } from './face-crop.repository.js';

export interface EmbeddingSummary {
  faceCropId: number;
  modelName: string;
  modelVersion: string;
  dimensions: number;
  createdAt: string;
}

export interface StoredEmbedding extends EmbeddingSummary {
  embedding: Float32Array;
}

export interface NewEmbedding {
  faceCropId: number;
  modelName: string;
  modelVersion: string;
  embedding: Float32Array;
}

/** Little-endian float32, whatever the host's byte order: the same bytes in SQLite and PostgreSQL. */
export function encodeEmbedding(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i]!, i * 4);
  return out;
}

export function decodeEmbedding(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`Embedding has ${bytes.byteLength} bytes, not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** An enrolment face's embedding: what a search gallery is built from. */
export interface EnrolledEmbedding {
  faceCropId: number;
  personId: number;
  embedding: Float32Array;
}

/**
 * Which enrolment faces may be matched. consentedOnly (FACEEMBED_REQUIRE_CONSENT): only faces
 * of persons whose consent is `granted`; the others stay stored but are never searched.
 */
export interface MatchScope {
  consentedOnly?: boolean;
}

/** "The crop's person has granted consent", for a WHERE over `c` or `f` (face_crops). */
export const personConsented = (column: 'c.person_id' | 'f.person_id') =>
  sql<SqlBool>`${sql.ref(column)} in (select id from persons where consent_status = 'granted')`;

export class EmbeddingRepository {
  constructor(
    private readonly db: Database,
    private readonly scope: MatchScope = {},
  ) {}

  async find(faceCropId: number, modelName: string): Promise<StoredEmbedding | undefined> {
    const row = await this.db
      .selectFrom('face_embeddings')
      .select(['face_crop_id', 'model_name', 'model_version', 'dimensions', 'embedding', 'created_at'])
      .where('face_crop_id', '=', faceCropId)
      .where('model_name', '=', modelName)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      faceCropId: row.face_crop_id,
      modelName: row.model_name,
      modelVersion: row.model_version,
      dimensions: row.dimensions,
      embedding: decodeEmbedding(row.embedding),
      createdAt: toIso(row.created_at),
    };
  }

  /** crop id -> stored model version, for the given crops and model. */
  async findVersions(faceCropIds: readonly number[], modelName: string): Promise<Map<number, string>> {
    if (faceCropIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('face_embeddings')
      .select(['face_crop_id', 'model_version'])
      .where('model_name', '=', modelName)
      .where('face_crop_id', 'in', [...faceCropIds])
      .execute();
    return new Map(rows.map((r) => [r.face_crop_id, r.model_version]));
  }

  async listForCrop(faceCropId: number): Promise<EmbeddingSummary[]> {
    const rows = await this.db
      .selectFrom('face_embeddings')
      .select(['face_crop_id', 'model_name', 'model_version', 'dimensions', 'created_at'])
      .where('face_crop_id', '=', faceCropId)
      .orderBy('model_name')
      .execute();
    return rows.map((r) => ({
      faceCropId: r.face_crop_id,
      modelName: r.model_name,
      modelVersion: r.model_version,
      dimensions: r.dimensions,
      createdAt: toIso(r.created_at),
    }));
  }

  /** Inserts or replaces the (crop, model) row in one statement. */
  async upsert(e: NewEmbedding): Promise<void> {
    await this.upsertMany([e]);
  }

  /**
   * Inserts or replaces all rows in one multi-row statement: all of them or none. A key given
   * twice keeps its last row (one statement may not update a row twice). Rows go in key order
   * so that two overlapping batches lock rows in the same order and cannot deadlock (PostgreSQL).
   */
  async upsertMany(rows: readonly NewEmbedding[]): Promise<void> {
    if (rows.length === 0) return;
    const byKey = new Map(rows.map((e) => [`${e.faceCropId}\u0000${e.modelName}`, e]));
    const ordered = [...byKey.values()].sort(
      (a, b) => a.faceCropId - b.faceCropId || (a.modelName < b.modelName ? -1 : a.modelName > b.modelName ? 1 : 0),
    );
    const now = new Date().toISOString();
    await this.db
      .insertInto('face_embeddings')
      .values(
        ordered.map((e) => ({
          face_crop_id: e.faceCropId,
          model_name: e.modelName,
          model_version: e.modelVersion,
          dimensions: e.embedding.length,
          embedding: encodeEmbedding(e.embedding),
          created_at: now,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['face_crop_id', 'model_name']).doUpdateSet((eb) => ({
          model_version: eb.ref('excluded.model_version'),
          dimensions: eb.ref('excluded.dimensions'),
          embedding: eb.ref('excluded.embedding'),
          created_at: eb.ref('excluded.created_at'),
        })),
      )
      .execute();
  }

  /**
   * Embeddings of one model version for face crops linked to a person, a page at a time in
   * crop id order (keyset paging: memory stays one page, whatever the gallery size).
   */
  async *listEnrolled(modelName: string, modelVersion: string, pageSize = 5000): AsyncGenerator<EnrolledEmbedding[]> {
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('face_embeddings as e')
        .innerJoin('face_crops as c', 'c.id', 'e.face_crop_id')
        .select(['e.face_crop_id', 'c.person_id', 'e.embedding'])
        .where('e.model_name', '=', modelName)
        .where('e.model_version', '=', modelVersion)
        .where('c.person_id', 'is not', null)
        .$if(this.scope.consentedOnly === true, (qb) => qb.where(personConsented('c.person_id')))
        .where('e.face_crop_id', '>', after)
        .orderBy('e.face_crop_id')
        .limit(pageSize)
        .execute();
      if (rows.length === 0) return;
      yield rows.map((r) => ({
        faceCropId: Number(r.face_crop_id),
        personId: Number(r.person_id),
        embedding: decodeEmbedding(r.embedding),
      }));
      after = Number(rows[rows.length - 1]!.face_crop_id);
      if (rows.length < pageSize) return;
    }
  }

  /**
   * The enrolment faces, as they are now, among some face crops or of one person: what a
   * gallery re-reads when told that they changed (a crop absent from the answer is not enrolled).
   */
  async findEnrolled(
    modelName: string,
    modelVersion: string,
    among: { faceCropIds: readonly number[] } | { personId: number },
  ): Promise<EnrolledEmbedding[]> {
    let query = this.db
      .selectFrom('face_embeddings as e')
      .innerJoin('face_crops as c', 'c.id', 'e.face_crop_id')
      .select(['e.face_crop_id', 'c.person_id', 'e.embedding'])
      .where('e.model_name', '=', modelName)
      .where('e.model_version', '=', modelVersion)
      .where('c.person_id', 'is not', null)
      .$if(this.scope.consentedOnly === true, (qb) => qb.where(personConsented('c.person_id')));
    if ('personId' in among) query = query.where('c.person_id', '=', among.personId);
    else if (among.faceCropIds.length === 0) return [];
    else query = query.where('e.face_crop_id', 'in', [...among.faceCropIds]);
    const rows = await query.orderBy('e.face_crop_id').execute();
    return rows.map((r) => ({
      faceCropId: Number(r.face_crop_id),
      personId: Number(r.person_id),
      embedding: decodeEmbedding(r.embedding),
    }));
  }

  /** How many enrolment faces (crops linked to a person) hold an embedding of the model, per model version. */
  async enrolledVersions(modelName: string): Promise<{ version: string; count: number }[]> {
    const rows = await this.db
      .selectFrom('face_embeddings as e')
      .innerJoin('face_crops as c', 'c.id', 'e.face_crop_id')
      .select(['e.model_version', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
      .where('e.model_name', '=', modelName)
      .where('c.person_id', 'is not', null)
      .groupBy('e.model_version')
      .execute();
    return rows.map((r) => ({ version: r.model_version, count: Number(r.n) }));
  }

  async count(faceCropId: number): Promise<number> {
    const { n } = await this.db
      .selectFrom('face_embeddings')
      .where('face_crop_id', '=', faceCropId)
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }
}
