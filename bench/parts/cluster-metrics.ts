// Clustering measured against the truth: pairwise precision (purity: of the pairs put in one
// cluster, how many are one person) and recall (completeness: of the pairs of one person, how
// many share a cluster). Also the whole-set algorithms the product's one-face-at-a-time
// placement is compared with: agglomerative clustering and DBSCAN.
import type { Linkage } from '../../src/domain/face-clusters.js';
import { cosineSimilarity } from '../../src/domain/vector.js';

export interface Labelled {
  identity: string;
  embedding: Float32Array;
}

export interface PairScore {
  precision: number;
  recall: number;
  clusters: number;
  /** Faces in clusters of one face. */
  singletons: number;
}

/** `assigned[i]` is face i's cluster (any number; -1: noise, a cluster of its own). */
export function pairScore(faces: readonly Labelled[], assigned: readonly number[]): PairScore {
  let together = 0;
  let togetherSame = 0;
  let same = 0;
  for (let i = 0; i < faces.length; i++)
    for (let j = i + 1; j < faces.length; j++) {
      const isSame = faces[i]!.identity === faces[j]!.identity;
      const isTogether = assigned[i]! >= 0 && assigned[i] === assigned[j];
      if (isSame) same++;
      if (isTogether) together++;
      if (isSame && isTogether) togetherSame++;
    }
  const sizes = new Map<number, number>();
  assigned.forEach((c, i) => sizes.set(c < 0 ? -1 - i : c, (sizes.get(c < 0 ? -1 - i : c) ?? 0) + 1));
  return {
    precision: together === 0 ? 1 : togetherSame / together,
    recall: same === 0 ? 1 : togetherSame / same,
    clusters: sizes.size,
    singletons: [...sizes.values()].filter((n) => n === 1).length,
  };
}

/** Agglomerative over the whole set: merge the two closest clusters while their link reaches the threshold. */
export function agglomerate(faces: readonly Labelled[], linkage: Linkage, threshold: number): number[] {
  const sim = faces.map((f) => faces.map((g) => cosineSimilarity(f.embedding, g.embedding)));
  const clusters = faces.map((_, i) => [i]);
  const clusterLink = (a: number[], b: number[]): number => {
    const all = a.flatMap((i) => b.map((j) => sim[i]![j]!));
    if (linkage === 'complete') return Math.min(...all);
    if (linkage === 'single') return Math.max(...all);
    return all.reduce((x, y) => x + y, 0) / all.length;
  };
  for (;;) {
    let best = { a: -1, b: -1, l: -Infinity };
    for (let a = 0; a < clusters.length; a++)
      for (let b = a + 1; b < clusters.length; b++) {
        const l = clusterLink(clusters[a]!, clusters[b]!);
        if (l > best.l) best = { a, b, l };
      }
    if (best.a < 0 || best.l < threshold) break;
    clusters[best.a]!.push(...clusters[best.b]!);
    clusters.splice(best.b, 1);
  }
  const out = new Array<number>(faces.length);
  clusters.forEach((c, k) => c.forEach((i) => (out[i] = k)));
  return out;
}

/** DBSCAN on cosine similarity: neighbours at >= `eps`, a core point has >= `minPts` (itself included). */
export function dbscan(faces: readonly Labelled[], eps: number, minPts: number): number[] {
  const n = faces.length;
  const neighbours = faces.map((f, i) =>
    faces.flatMap((g, j) => (cosineSimilarity(f.embedding, g.embedding) >= eps || i === j ? [j] : [])),
  );
  const out = new Array<number>(n).fill(-2);
  let next = 0;
  for (let i = 0; i < n; i++) {
    if (out[i] !== -2) continue;
    if (neighbours[i]!.length < minPts) {
      out[i] = -1;
      continue;
    }
    const k = next++;
    const queue = [i];
    out[i] = k;
    while (queue.length > 0) {
      const p = queue.pop()!;
      if (neighbours[p]!.length < minPts) continue;
      for (const q of neighbours[p]!) {
        if (out[q] === -1) out[q] = k;
        if (out[q] !== -2) continue;
        out[q] = k;
        queue.push(q);
      }
    }
  }
  return out;
}
