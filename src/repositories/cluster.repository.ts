// Unknown-face clusters of a group (one model each) and the faces placed in them. A face is
// "unknown" while it is cut from a photo of one of the group's sessions, enrolled as nobody's
// face, held by no attendance row and matched to no member in its session; faces that stop
// being unknown simply stop being read.
import { sql } from 'kysely';
import type { FaceQuality } from '../domain/face-quality.js';
import { databaseKind, type Database } from './database.js';
import { decodeEmbedding } from './embedding.repository.js';
import { qualityOf, toIso } from './face-crop.repository.js';

export interface UnknownFace {
  faceCropId: number;
  sessionId: number;
  sessionOpen: boolean;
  /** The active cluster holding the face; null: not placed yet. */
  clusterId: number | null;
  /** Of the clusters' model; null when the face has none yet. */
  embedding: Float32Array | null;
  quality: FaceQuality;
}

export interface ClusterRow {
  id: number;
  groupId: number;
  modelName: string;
  /** Set once enrolled. */
  personId: number | null;
  enrolledAt: string | null;
}

export class ClusterRepository {
  constructor(private readonly db: Database) {}

  /** Every unknown face of the group's sessions, in id order, with its active cluster of this model. */
  async unknownFaces(groupId: number, modelName: string): Promise<UnknownFace[]> {
    const rows = await this.db
      .selectFrom('face_crops as f')
      .innerJoin('session_photos as p', 'p.id', 'f.source_photo_id')
      .innerJoin('sessions as s', 's.id', 'p.session_id')
      .leftJoin('face_embeddings as e', (j) =>
        j.onRef('e.face_crop_id', '=', 'f.id').on('e.model_name', '=', modelName),
      )
      .leftJoin(
        (eb) =>
          eb
            .selectFrom('unknown_cluster_faces as cf')
            .innerJoin('unknown_clusters as c', 'c.id', 'cf.cluster_id')
            .select(['cf.face_crop_id', 'cf.cluster_id'])
            .where('c.group_id', '=', groupId)
            .where('c.model_name', '=', modelName)
            .where('c.person_id', 'is', null)
            .as('placed'),
        (j) => j.onRef('placed.face_crop_id', '=', 'f.id'),
      )
      .select([
        'f.id',
        'f.width_px',
        'f.sharpness',
        'f.yaw',
        'f.roll',
        's.id as session_id',
        's.status',
        'e.embedding',
        'placed.cluster_id',
      ])
      .where('s.group_id', '=', groupId)
      .where('f.person_id', 'is', null)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('attendance as a').select('a.id').whereRef('a.face_crop_id', '=', 'f.id'))),
      )
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('session_face_matches as m').select('m.face_crop_id').whereRef('m.face_crop_id', '=', 'f.id'),
          ),
        ),
      )
      .orderBy('f.id')
      .execute();
    return rows.map((r) => ({
      faceCropId: Number(r.id),
      sessionId: Number(r.session_id),
      sessionOpen: r.status === 'open',
      clusterId: r.cluster_id === null ? null : Number(r.cluster_id),
      embedding: r.embedding ? decodeEmbedding(r.embedding) : null,
      quality: qualityOf(r),
    }));
  }

  async find(id: number): Promise<ClusterRow | undefined> {
    const row = await this.db.selectFrom('unknown_clusters').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toCluster(row);
  }

  /**
   * The cluster, its row locked until the transaction ends (PostgreSQL; SQLite has one writer).
   * NO KEY UPDATE, here and for the group: inserts that reference the row (its faces, a new
   * member) take only KEY SHARE, so they never deadlock with it.
   */
  async lock(id: number): Promise<ClusterRow | undefined> {
    const query = this.db.selectFrom('unknown_clusters').selectAll().where('id', '=', id);
    const row = await (databaseKind(this.db) === 'postgres' ? query.forNoKeyUpdate() : query).executeTakeFirst();
    return row && toCluster(row);
  }

  /** Holds the group's row until the transaction ends: one clustering pass per group at a time. */
  async lockGroup(groupId: number): Promise<void> {
    if (databaseKind(this.db) === 'postgres')
      await sql`select id from groups where id = ${groupId} for no key update`.execute(this.db);
  }

  /** A new cluster holding the faces; its id. */
  async create(groupId: number, modelName: string, faceCropIds: readonly number[]): Promise<number> {
    const { id } = await this.db
      .insertInto('unknown_clusters')
      .values({ group_id: groupId, model_name: modelName, created_at: new Date().toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.addFaces(Number(id), faceCropIds);
    return Number(id);
  }

  async addFaces(clusterId: number, faceCropIds: readonly number[]): Promise<void> {
    if (faceCropIds.length === 0) return;
    await this.db
      .insertInto('unknown_cluster_faces')
      .values(faceCropIds.map((f) => ({ cluster_id: clusterId, face_crop_id: f })))
      .onConflict((oc) => oc.columns(['cluster_id', 'face_crop_id']).doNothing())
      .execute();
  }

  async removeFaces(clusterId: number, faceCropIds: readonly number[]): Promise<void> {
    if (faceCropIds.length === 0) return;
    await this.db
      .deleteFrom('unknown_cluster_faces')
      .where('cluster_id', '=', clusterId)
      .where('face_crop_id', 'in', [...faceCropIds])
      .execute();
  }

  async markEnrolled(clusterId: number, personId: number): Promise<void> {
    await this.db
      .updateTable('unknown_clusters')
      .set({ person_id: personId, enrolled_at: new Date().toISOString() })
      .where('id', '=', clusterId)
      .execute();
  }
}

const toCluster = (r: {
  id: number;
  group_id: number;
  model_name: string;
  person_id: number | null;
  enrolled_at: Date | string | null;
}): ClusterRow => ({
  id: Number(r.id),
  groupId: Number(r.group_id),
  modelName: r.model_name,
  personId: r.person_id === null ? null : Number(r.person_id),
  enrolledAt: r.enrolled_at === null ? null : toIso(r.enrolled_at),
});
