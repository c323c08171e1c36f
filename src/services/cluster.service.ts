// Unknown faces of a group, across all of its sessions, grouped by person on the group's
// attendance model. Faces are placed once, as photos arrive (update, after each photo; a
// listing first places whatever is still waiting), never re-clustered as a whole. A cluster
// enrolled becomes a person: its best faces enrolled, the person on the roster and present in
// the group's open sessions where the cluster's faces were seen. What a cluster looks like to a
// reader is cluster-view.ts.
import { placeFaces, type ClusterPolicy } from '../domain/face-clusters.js';
import { ConflictError, InternalError, NotFoundError, ValidationError } from '../errors.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { NewAuditEvent } from '../repositories/audit.repository.js';
import type { ClusterRow, UnknownFace } from '../repositories/cluster.repository.js';
import type { EmbeddingPort, ModelInfo } from './embedding.types.js';
import type { FaceCropService } from './face-crop.service.js';
import type { EnrolmentGate } from './consent.service.js';
import type { GalleryRegistry } from './gallery.registry.js';
import { bestFirst, clusterView, toClusters, type ClusterView } from './cluster-view.js';
import { KeyedLock } from './keyed-lock.js';
import { gallerySimilarity } from './session-matching.js';
import { attendanceModelName } from './session.service.js';
import { rowEvent, syncRoster } from './session-resolve.js';

/** Faces enrolled from one cluster, best quality first: enough views of a face, not a whole term of them. */
export const MAX_ENROL_FACES = 5;

export interface ClusterServiceDeps {
  store: AttendanceStore;
  embedder: Pick<EmbeddingPort, 'resolveModel' | 'models'>;
  faceCrops: Pick<FaceCropService, 'generateBatch'>;
  galleries: Pick<GalleryRegistry, 'changed'>;
  /** Asked before a cluster is enrolled as an existing person (a new person has no consent yet). */
  consent?: EnrolmentGate;
}

export type EnrolTarget = { personId: number } | { name: string; externalId?: string | null };

export interface ClusterEnrolment {
  personId: number;
  faceCropIds: number[];
  sessionIds: number[];
}

/** How faces join a cluster on a model: average link at the model's own threshold (docs/attendance.md). */
export const clusterPolicy = (model: Pick<ModelInfo, 'threshold'>): ClusterPolicy => ({
  linkage: 'average',
  threshold: model.threshold,
});

export class ClusterService {
  private readonly lock = new KeyedLock<number>();

  constructor(private readonly deps: ClusterServiceDeps) {}

  /** The model a group's faces are clustered with. */
  groupModel(): ModelInfo {
    return this.deps.embedder.resolveModel(attendanceModelName());
  }

  /** Places the group's unknown faces that are not in a cluster yet; one pass per group at a time. */
  async update(groupId: number): Promise<void> {
    const model = this.groupModel();
    const { store, faceCrops } = this.deps;
    const waiting = (await store.clusters.unknownFaces(groupId, model.name)).filter((f) => f.clusterId === null);
    if (waiting.length === 0) return;
    // Faces of sessions on another model get this model's embedding first (outside any lock).
    const missing = waiting.filter((f) => f.embedding === null).map((f) => f.faceCropId);
    if (missing.length > 0) await faceCrops.generateBatch(missing, { modelName: model.name, force: false });
    await this.lock.run(groupId, () =>
      store.transaction(async (trx) => {
        await trx.clusters.lockGroup(groupId);
        const faces = await trx.clusters.unknownFaces(groupId, model.name);
        const clusters = toClusters(faces);
        const pending = faces.filter((f) => f.clusterId === null && f.embedding !== null);
        const fresh = new Set<number>();
        let nextId = -1;
        const placed = placeFaces(
          pending.map((f) => ({ faceCropId: f.faceCropId, embedding: f.embedding! })),
          clusters,
          clusterPolicy(model),
          () => {
            fresh.add(nextId);
            return nextId--;
          },
        );
        const byCluster = new Map<number, number[]>();
        placed.forEach((clusterId, i) =>
          byCluster.set(clusterId, [...(byCluster.get(clusterId) ?? []), pending[i]!.faceCropId]),
        );
        for (const [clusterId, ids] of byCluster) {
          if (fresh.has(clusterId)) await trx.clusters.create(groupId, model.name, ids);
          else await trx.clusters.addFaces(clusterId, ids);
        }
      }),
    );
  }

  /** The group's clusters, largest first. */
  async list(groupId: number): Promise<ClusterView[]> {
    await this.group(groupId);
    await this.update(groupId);
    const model = this.groupModel();
    const { store } = this.deps;
    const faces = await store.clusters.unknownFaces(groupId, model.name);
    const galleries = await this.memberGalleries(groupId, model.name);
    const views = toClusters(faces).map((c) => clusterView(c.id, faces, galleries));
    return views.sort((a, b) => b.faceCropIds.length - a.faceCropIds.length || a.id - b.id);
  }

  async enrol(groupId: number, clusterId: number, target: EnrolTarget, actor: string): Promise<ClusterEnrolment> {
    const { store, embedder, faceCrops, galleries } = this.deps;
    const model = this.groupModel();
    const live = await this.liveFaces(groupId, clusterId, model.name);
    if ('personId' in target) {
      if (!(await store.persons.findById(target.personId)))
        throw new ValidationError(`Person ${target.personId} does not exist`, { person_id: target.personId });
      await this.deps.consent?.assertMayEnrol(target.personId);
    } else if (target.externalId && (await store.persons.findByExternalId(target.externalId))) {
      throw new ConflictError(`external_id "${target.externalId}" is taken`, { external_id: target.externalId });
    } else {
      this.deps.consent?.assertMayEnrolNew();
    }
    const picks = bestFirst(live)
      .slice(0, MAX_ENROL_FACES)
      .map((f) => f.faceCropId);
    // Enrolment faces carry every model's embedding (as PersonService.enrolCrop), computed before the writes.
    for (const m of embedder.models()) {
      const done = await faceCrops.generateBatch(picks, { modelName: m.name, force: false });
      const failed = done.results.find((r) => r.status === 'failed');
      if (failed) throw failed.cause ?? new InternalError(`Face crop ${failed.faceCropId}: ${failed.error?.message}`);
    }
    const enrolled = await store.transaction(async (trx) => {
      const cluster = await trx.clusters.lock(clusterId);
      assertActive(cluster, groupId, clusterId);
      const stillLive = (await trx.clusters.unknownFaces(groupId, model.name)).filter((f) => f.clusterId === clusterId);
      const faceIds = picks.filter((id) => stillLive.some((f) => f.faceCropId === id));
      if (faceIds.length === 0) throw gone(clusterId);
      const person =
        'personId' in target
          ? (await trx.persons.findById(target.personId))!
          : await trx.persons.create({ name: target.name, externalId: target.externalId ?? null });
      const before = (await trx.attendance.galleries([person.id], model.name))
        .map((g) => g.embedding)
        .filter((e): e is Float32Array => e !== null);
      for (const id of faceIds) await trx.crops.setPerson(id, person.id);
      await trx.groups.addMember(groupId, person.id);
      await trx.clusters.markEnrolled(clusterId, person.id);
      const events: NewAuditEvent[] = faceIds.map((faceCropId) => ({
        actor,
        action: 'cluster-enrol',
        sessionId: null,
        personId: person.id,
        personName: person.name,
        faceCropId,
        before: null,
        after: { cluster_id: clusterId },
        note: null,
      }));
      const sessionIds = await this.markPresent(trx, stillLive, person.id, before, actor, events);
      await trx.audit.append(events);
      return { personId: person.id, faceCropIds: faceIds, sessionIds };
    });
    await galleries.changed({ faceCropIds: enrolled.faceCropIds });
    return enrolled;
  }

  /** Moves some of a cluster's faces into a cluster of their own (a teacher saw a wrong one). */
  async split(groupId: number, clusterId: number, faceCropIds: readonly number[]): Promise<ClusterView[]> {
    const model = this.groupModel();
    await this.liveFaces(groupId, clusterId, model.name);
    const newId = await this.deps.store.transaction(async (trx) => {
      assertActive(await trx.clusters.lock(clusterId), groupId, clusterId);
      const live = new Set(
        (await trx.clusters.unknownFaces(groupId, model.name))
          .filter((f) => f.clusterId === clusterId)
          .map((f) => f.faceCropId),
      );
      const strangers = faceCropIds.filter((id) => !live.has(id));
      if (strangers.length > 0)
        throw new ValidationError(`Face crops ${strangers.join(', ')} are not faces of cluster ${clusterId}`, {
          face_crop_ids: strangers,
        });
      if (new Set(faceCropIds).size >= live.size)
        throw new ValidationError(`A split must leave cluster ${clusterId} at least one face`, {
          cluster_id: clusterId,
        });
      await trx.clusters.removeFaces(clusterId, faceCropIds);
      return trx.clusters.create(groupId, model.name, [...new Set(faceCropIds)]);
    });
    const faces = await this.deps.store.clusters.unknownFaces(groupId, model.name);
    const galleries = await this.memberGalleries(groupId, model.name);
    return [clusterView(clusterId, faces, galleries), clusterView(newId, faces, galleries)];
  }

  // ---- internals ---------------------------------------------------------------------------

  private async group(groupId: number) {
    const group = await this.deps.store.groups.findById(groupId);
    if (!group) throw new NotFoundError(`Group ${groupId} not found`, { group_id: groupId });
    return group;
  }

  /** The cluster's faces still unknown; 404 for no such cluster of this group, 409 once enrolled. */
  private async liveFaces(groupId: number, clusterId: number, modelName: string): Promise<UnknownFace[]> {
    await this.group(groupId);
    assertActive(await this.deps.store.clusters.find(clusterId), groupId, clusterId);
    const live = (await this.deps.store.clusters.unknownFaces(groupId, modelName)).filter(
      (f) => f.clusterId === clusterId,
    );
    if (live.length === 0) throw gone(clusterId);
    return live;
  }

  /** Present (source cluster) in each open session where the cluster's faces were seen and the person was absent. */
  private async markPresent(
    trx: AttendanceStore,
    faces: readonly UnknownFace[],
    personId: number,
    gallery: readonly Float32Array[],
    actor: string,
    events: NewAuditEvent[],
  ): Promise<number[]> {
    const marked: number[] = [];
    const sessionIds = [...new Set(faces.filter((f) => f.sessionOpen).map((f) => f.sessionId))].sort((a, b) => a - b);
    for (const sessionId of sessionIds) {
      const session = await trx.sessions.lock(sessionId);
      if (!session || session.status !== 'open') continue;
      await syncRoster(trx, session);
      const row = await trx.attendance.find(sessionId, personId);
      // A member already present, or set by hand, keeps what they have.
      if (!row || row.status === 'present' || row.source === 'manual') continue;
      const face = bestFirst(faces.filter((f) => f.sessionId === sessionId))[0]!;
      const updated = await trx.attendance.update(row.id, {
        status: 'present',
        source: 'cluster',
        similarity: face.embedding && gallery.length > 0 ? gallerySimilarity(face.embedding, gallery) : null,
        faceCropId: face.faceCropId,
      });
      events.push(rowEvent(actor, 'cluster-present', row, updated, null));
      marked.push(sessionId);
    }
    return marked;
  }

  private async memberGalleries(groupId: number, modelName: string): Promise<Map<number, Float32Array[]>> {
    const ids = await this.deps.store.groups.memberIds(groupId);
    const out = new Map<number, Float32Array[]>();
    for (const g of await this.deps.store.attendance.galleries(ids, modelName)) {
      if (g.embedding) out.set(g.personId, [...(out.get(g.personId) ?? []), g.embedding]);
    }
    return out;
  }
}

const gone = (clusterId: number) =>
  new NotFoundError(`Cluster ${clusterId} has no unknown faces left`, { cluster_id: clusterId });

function assertActive(cluster: ClusterRow | undefined, groupId: number, clusterId: number): void {
  if (!cluster || cluster.groupId !== groupId)
    throw new NotFoundError(`Cluster ${clusterId} of group ${groupId} not found`, { cluster_id: clusterId });
  if (cluster.personId !== null)
    throw new ConflictError(`Cluster ${clusterId} was already enrolled as person ${cluster.personId}`, {
      cluster_id: clusterId,
      person_id: cluster.personId,
    });
}
