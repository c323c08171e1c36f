// Unknown faces grouped by person, one face at a time as photos arrive: a new face joins the
// cluster it links to best, when that link reaches the threshold, else it starts a cluster of
// its own. Clusters never merge on their own, so a cluster a person split stays split. The
// link is chosen by measurement (docs/attendance.md "Unknown-face clusters"): 'average' is the
// mean similarity to the cluster's faces, 'complete' the least, 'single' the greatest.
import { cosineSimilarity } from './vector.js';

export type Linkage = 'average' | 'complete' | 'single';

export interface ClusterPolicy {
  linkage: Linkage;
  /** The least link (cosine) at which a face joins a cluster. */
  threshold: number;
}

export interface ClusterFace {
  faceCropId: number;
  embedding: Float32Array;
}

export interface FaceCluster {
  id: number;
  faces: ClusterFace[];
}

/** The link of a face to a non-empty set of faces. */
export function link(face: Float32Array, members: readonly ClusterFace[], linkage: Linkage): number {
  let sum = 0;
  let least = Number.POSITIVE_INFINITY;
  let most = Number.NEGATIVE_INFINITY;
  for (const m of members) {
    const s = cosineSimilarity(face, m.embedding);
    sum += s;
    least = Math.min(least, s);
    most = Math.max(most, s);
  }
  if (linkage === 'complete') return least;
  if (linkage === 'single') return most;
  return sum / members.length;
}

/** The cluster the face joins (its id and link), or null: the face starts a cluster of its own. */
export function placeFace(
  face: Float32Array,
  clusters: readonly FaceCluster[],
  policy: ClusterPolicy,
): { clusterId: number; link: number } | null {
  let best: { clusterId: number; link: number } | null = null;
  for (const c of clusters) {
    const members = c.faces.filter((f) => f.embedding.length === face.length);
    if (members.length === 0) continue;
    const l = link(face, members, policy.linkage);
    if (l >= policy.threshold && (best === null || l > best.link)) best = { clusterId: c.id, link: l };
  }
  return best;
}

/**
 * Places `faces` one after the other into `clusters` (changed in place; new clusters get ids
 * from `nextId`). Returns, per face, the id of the cluster it went to.
 */
export function placeFaces(
  faces: readonly ClusterFace[],
  clusters: FaceCluster[],
  policy: ClusterPolicy,
  nextId: () => number,
): number[] {
  return faces.map((face) => {
    const hit = placeFace(face.embedding, clusters, policy);
    const cluster = hit ? clusters.find((c) => c.id === hit.clusterId)! : { id: nextId(), faces: [] };
    if (!hit) clusters.push(cluster);
    cluster.faces.push(face);
    return cluster.id;
  });
}
