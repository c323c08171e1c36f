// How a model's embeddings of real faces are spread: how close a face is to its identity and how
// close identities are to each other. Measured once per model on labelled photos
// (bench/face-statistics.ts, stored in src/search/face-stats/) and reproduced by the synthetic
// faces distribution (face-distribution.ts) that the search benchmark draws from.
import { cosineSimilarity, l2Normalize } from '../domain/vector.js';

export interface Summary {
  mean: number;
  sd: number;
  min: number;
  p10: number;
  p50: number;
  p90: number;
  max: number;
  count: number;
}

export interface FaceStatistics {
  /** Cosine of each face to its identity's centre (the normalised mean of its faces, itself included). */
  faceToCentre: Summary;
  /** Cosine between two faces of the same identity. */
  sameIdentity: Summary;
  /** Cosine between two faces of different identities. */
  differentIdentity: Summary;
  /** Cosine between the centres of two identities. */
  betweenCentres: Summary;
}

export function summarise(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(sorted.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  const at = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))]!;
  const r = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    mean: r(mean),
    sd: r(sd),
    min: r(sorted[0]!),
    p10: r(at(0.1)),
    p50: r(at(0.5)),
    p90: r(at(0.9)),
    max: r(sorted[n - 1]!),
    count: n,
  };
}

function centreOf(faces: readonly Float32Array[]): Float32Array {
  const sum = new Float32Array(faces[0]!.length);
  for (const f of faces) {
    const n = l2Normalize(f);
    for (let i = 0; i < n.length; i++) sum[i]! += n[i]!;
  }
  return l2Normalize(sum);
}

/** The statistics of embeddings grouped by identity (identities with one face count only across). */
export function faceStatistics(identities: readonly (readonly Float32Array[])[]): FaceStatistics {
  const centres = identities.map(centreOf);
  const toCentre: number[] = [];
  const same: number[] = [];
  const different: number[] = [];
  const between: number[] = [];
  identities.forEach((faces, i) => {
    if (faces.length > 1) for (const f of faces) toCentre.push(cosineSimilarity(f, centres[i]!));
    for (let a = 0; a < faces.length; a++)
      for (let b = a + 1; b < faces.length; b++) same.push(cosineSimilarity(faces[a]!, faces[b]!));
    for (let j = i + 1; j < identities.length; j++) {
      between.push(cosineSimilarity(centres[i]!, centres[j]!));
      for (const f of faces) for (const g of identities[j]!) different.push(cosineSimilarity(f, g));
    }
  });
  return {
    faceToCentre: summarise(toCentre),
    sameIdentity: summarise(same),
    differentIdentity: summarise(different),
    betweenCentres: summarise(between),
  };
}
