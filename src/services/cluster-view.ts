// Unknown-face clusters read from the group's unknown faces as the cluster repository lists
// them: as a reader sees one (its faces best quality first, the first one representing it, the
// sessions they were seen in, the group member it is nearest to: the mean of its faces'
// similarities to that member's gallery), and as the domain's clusters that new faces join.
import type { FaceCluster } from '../domain/face-clusters.js';
import { qualityRank } from '../domain/face-quality.js';
import type { UnknownFace } from '../repositories/cluster.repository.js';
import { gallerySimilarity } from './session-matching.js';

export interface ClusterView {
  id: number;
  /** Best quality first. */
  faceCropIds: number[];
  representativeFaceCropId: number;
  sessionIds: number[];
  nearestPerson: { personId: number; similarity: number } | null;
}

/** Best quality first; equal quality, lower face crop id first. */
export const bestFirst = (faces: readonly UnknownFace[]): UnknownFace[] =>
  [...faces].sort((a, b) => qualityRank(b.quality) - qualityRank(a.quality) || a.faceCropId - b.faceCropId);

/** The placed faces as clusters (faces without an embedding are left out of the links). */
export function toClusters(faces: readonly UnknownFace[]): FaceCluster[] {
  const byId = new Map<number, FaceCluster>();
  for (const f of faces) {
    if (f.clusterId === null) continue;
    const c = byId.get(f.clusterId) ?? { id: f.clusterId, faces: [] };
    if (f.embedding) c.faces.push({ faceCropId: f.faceCropId, embedding: f.embedding });
    byId.set(f.clusterId, c);
  }
  return [...byId.values()];
}

/** One cluster of `faces`; `galleries`: the group members' enrolled embeddings, by person id. */
export function clusterView(
  clusterId: number,
  faces: readonly UnknownFace[],
  galleries: ReadonlyMap<number, readonly Float32Array[]>,
): ClusterView {
  const mine = bestFirst(faces.filter((f) => f.clusterId === clusterId));
  let nearest: ClusterView['nearestPerson'] = null;
  for (const [personId, gallery] of galleries) {
    const scores = mine.flatMap((f) => (f.embedding ? [gallerySimilarity(f.embedding, gallery)] : []));
    const known = scores.filter((s): s is number => s !== null);
    if (known.length === 0) continue;
    const similarity = known.reduce((a, b) => a + b, 0) / known.length;
    if (!nearest || similarity > nearest.similarity) nearest = { personId, similarity };
  }
  return {
    id: clusterId,
    faceCropIds: mine.map((f) => f.faceCropId),
    representativeFaceCropId: mine[0]?.faceCropId ?? 0,
    sessionIds: [...new Set(mine.map((f) => f.sessionId))].sort((a, b) => a - b),
    nearestPerson: nearest,
  };
}
