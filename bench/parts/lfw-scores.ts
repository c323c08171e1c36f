// Scores among the LFW dev photos: the full cosine matrix of one model's vectors (plain
// Float32Array dot products), every same-person pair as a genuine score, every pair of different
// people into an impostor histogram (about 14 million), and the View 2 pairs with their folds.
import type { Lfw } from './lfw-data.js';
import { ScoreHistogram, type FoldedPair } from './lfw-metrics.js';

/** Dot product of row i of `a` and row j of `b` (both `dims` wide). */
export function dot(a: Float32Array, i: number, b: Float32Array, j: number, dims: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const oa = i * dims,
    ob = j * dims;
  let k = 0;
  for (; k + 3 < dims; k += 4) {
    s0 += a[oa + k]! * b[ob + k]!;
    s1 += a[oa + k + 1]! * b[ob + k + 1]!;
    s2 += a[oa + k + 2]! * b[ob + k + 2]!;
    s3 += a[oa + k + 3]! * b[ob + k + 3]!;
  }
  for (; k < dims; k++) s0 += a[oa + k]! * b[ob + k]!;
  return s0 + s1 + s2 + s3;
}

/** n x n cosines of L2-normalised rows (row-major, symmetric). */
export class SimilarityMatrix {
  readonly values: Float32Array;
  constructor(
    readonly n: number,
    values?: Float32Array,
  ) {
    this.values = values ?? new Float32Array(n * n);
  }

  static of(vectors: Float32Array, dims: number): SimilarityMatrix {
    const n = vectors.length / dims;
    const m = new SimilarityMatrix(n);
    for (let i = 0; i < n; i++) {
      m.values[i * n + i] = dot(vectors, i, vectors, i, dims);
      for (let j = i + 1; j < n; j++) {
        const s = dot(vectors, i, vectors, j, dims);
        m.values[i * n + j] = s;
        m.values[j * n + i] = s;
      }
    }
    return m;
  }

  at(i: number, j: number): number {
    return this.values[i * this.n + j]!;
  }

  /** Element-wise map of two matrices (score fusion). */
  static combine(a: SimilarityMatrix, b: SimilarityMatrix, f: (x: number, y: number) => number): SimilarityMatrix {
    const out = new Float32Array(a.values.length);
    for (let k = 0; k < out.length; k++) out[k] = f(a.values[k]!, b.values[k]!);
    return new SimilarityMatrix(a.n, out);
  }
}

export interface Verification {
  /** Every pair of photos of the same person. */
  genuine: Float64Array;
  genuineHistogram: ScoreHistogram;
  /** Every pair of photos of different people. */
  impostors: ScoreHistogram;
}

/** All pairs among the photos, split by identity. */
export function allPairs(lfw: Lfw, sim: SimilarityMatrix): Verification {
  const impostors = new ScoreHistogram();
  const genuine: number[] = [];
  const n = sim.n;
  for (let i = 0; i < n; i++) {
    const pi = lfw.person[i]!;
    const row = i * n;
    for (let j = i + 1; j < n; j++) {
      const s = sim.values[row + j]!;
      if (lfw.person[j] === pi) genuine.push(s);
      else impostors.add(s);
    }
  }
  return { genuine: Float64Array.from(genuine), genuineHistogram: new ScoreHistogram().addAll(genuine), impostors };
}

/** The View 2 pairs of pairs.csv, scored. */
export function viewPairs(lfw: Lfw, sim: SimilarityMatrix): FoldedPair[] {
  const index = new Map(lfw.photos.map((p, i) => [p, i]));
  return lfw.pairs.map((p) => ({ same: p.same, fold: p.fold, score: sim.at(index.get(p.x)!, index.get(p.y)!) }));
}
