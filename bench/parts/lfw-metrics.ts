// The maths of the LFW benchmark, on plain score lists: the 10-fold protocol (threshold from the
// other folds, accuracy on the held-out one), a histogram of millions of impostor scores that
// answers "how many pass threshold t" exactly on a 0.001 grid, the threshold and TAR at a
// false-accept target, and open-set identification (Best-Rowden & Jain: DIR at a FAR).
import { bestThreshold, confusionAt, type ScoredPair } from '../accuracy-metrics.js';

export interface FoldedPair extends ScoredPair {
  fold: number;
}

export interface TenFold {
  /** Accuracy of each held-out fold, in fold order. */
  folds: number[];
  /** Threshold chosen on the other folds, per held-out fold. */
  thresholds: number[];
  mean: number;
  /** Population standard deviation of the fold accuracies (as LFW results are usually reported). */
  std: number;
}

/** LFW's protocol: each fold is tested at the best-accuracy threshold (widest run's midpoint) of the others. */
export function tenFold(pairs: readonly FoldedPair[]): TenFold {
  const ids = [...new Set(pairs.map((p) => p.fold))].sort((a, b) => a - b);
  if (ids.length < 2) throw new RangeError('tenFold needs at least two folds');
  const thresholds: number[] = [];
  const folds = ids.map((f) => {
    const t = bestThreshold(pairs.filter((p) => p.fold !== f)).threshold;
    thresholds.push(t);
    return confusionAt(
      pairs.filter((p) => p.fold === f),
      t,
    ).accuracy;
  });
  const mean = folds.reduce((a, b) => a + b, 0) / folds.length;
  const std = Math.sqrt(folds.reduce((a, b) => a + (b - mean) ** 2, 0) / folds.length);
  return { folds, thresholds, mean, std };
}

/** Bins per unit of score: 1e-5 wide, so every 0.001 step is a bin edge. */
const BINS_PER_UNIT = 100_000;
const GRID = 1000;
/** Scores a hair below a bin edge (decimal values like 0.2 stored as 0.19999…) belong to the edge's bin. */
const EDGE_SLACK = 1e-7;

/**
 * Counts of scores in [-1, 1] (cosines; values outside are clamped) in bins 1e-5 wide. A score
 * s falls in bin floor((s + 1) * 1e5); `atLeast(t)` for t on the 0.001 grid is exact up to
 * floating-point rounding at the edge itself.
 */
export class ScoreHistogram {
  readonly bins = new Float64Array(2 * BINS_PER_UNIT + 1);
  total = 0;
  private suffix: Float64Array | undefined;

  add(score: number): void {
    const b = Math.min(
      this.bins.length - 1,
      Math.floor((Math.min(1, Math.max(-1, score)) + 1) * BINS_PER_UNIT + EDGE_SLACK),
    );
    this.bins[b]!++;
    this.total++;
    this.suffix = undefined;
  }

  addAll(scores: Iterable<number>): this {
    for (const s of scores) this.add(s);
    return this;
  }

  private edge(t: number): number {
    return Math.min(this.bins.length, Math.max(0, Math.round((t + 1) * BINS_PER_UNIT)));
  }

  /** Scores >= t, for t on the bin grid (any t is rounded to the nearest bin edge); a score within 1e-12 below t counts. */
  atLeast(t: number): number {
    if (!this.suffix) {
      this.suffix = new Float64Array(this.bins.length + 1);
      for (let i = this.bins.length - 1; i >= 0; i--) this.suffix[i] = this.suffix[i + 1]! + this.bins[i]!;
    }
    return this.suffix[this.edge(t)]!;
  }

  /** Fraction of scores >= t. */
  rateAtLeast(t: number): number {
    return this.total ? this.atLeast(t) / this.total : NaN;
  }

  mean(): number {
    let s = 0;
    this.bins.forEach((n, i) => (s += n * ((i + 0.5) / BINS_PER_UNIT - 1)));
    return s / this.total;
  }

  std(): number {
    const m = this.mean();
    let s = 0;
    this.bins.forEach((n, i) => (s += n * ((i + 0.5) / BINS_PER_UNIT - 1 - m) ** 2));
    return Math.sqrt(s / this.total);
  }
}

export interface FarThreshold {
  /** The lowest threshold on the grid whose false-accept rate is <= the target. */
  threshold: number;
  far: number;
  falseAccepts: number;
  impostors: number;
}

/**
 * The lowest threshold t on a grid of `1 / steps` (default 0.001, what the registry ships) at
 * which impostors with score >= t are at most `target` of all impostors.
 */
export function thresholdAtFar(impostors: ScoreHistogram, target: number, steps = GRID): FarThreshold {
  if (impostors.total === 0) throw new RangeError('thresholdAtFar needs impostor scores');
  const allowed = target * impostors.total;
  // atLeast falls as t rises: bisect the grid -steps..steps.
  let lo = -steps;
  let hi = steps + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (impostors.atLeast(mid / steps) <= allowed) hi = mid;
    else lo = mid + 1;
  }
  const threshold = lo / steps;
  const falseAccepts = threshold > 1 ? 0 : impostors.atLeast(threshold);
  return { threshold, far: falseAccepts / impostors.total, falseAccepts, impostors: impostors.total };
}

/** Fraction of genuine scores >= t (true accept rate). */
export function tarAt(genuine: ArrayLike<number>, t: number): number {
  let n = 0;
  for (let i = 0; i < genuine.length; i++) if (genuine[i]! >= t) n++;
  return genuine.length ? n / genuine.length : NaN;
}

export interface TarAtFar extends FarThreshold {
  far_target: number;
  tar: number;
}

/** TAR at the finest-grid threshold (1e-5) whose FAR is at most `target`. */
export function tarAtFar(genuine: ArrayLike<number>, impostors: ScoreHistogram, target: number): TarAtFar {
  const t = thresholdAtFar(impostors, target, BINS_PER_UNIT);
  return { ...t, far_target: target, tar: tarAt(genuine, t.threshold) };
}

/** ROC points (FAR, TAR) at every `step` of threshold from 1 down to -1. */
export function rocPoints(genuine: ScoreHistogram, impostors: ScoreHistogram, step = 0.001): [number, number][] {
  const out: [number, number][] = [];
  for (let k = Math.round(1 / step); k >= -Math.round(1 / step); k--) {
    const t = k * step;
    out.push([impostors.rateAtLeast(t), genuine.rateAtLeast(t)]);
  }
  return out;
}

/** A probe's best match in the gallery: its score and whether it is the probe's own person. */
export interface Search {
  score: number;
  correct: boolean;
}

export interface OpenSetPoint {
  far_target: number;
  /** Accept when the top score is above this (the non-mated score at the allowed rank). */
  threshold: number;
  /** Non-mated probes whose top score passes. */
  far: number;
  /** Mated probes whose top match is right and passes. */
  dir: number;
}

/**
 * Open-set identification at a FAR: the threshold is the top non-mated score that leaves at
 * most floor(target * n) non-mated probes strictly above it; DIR counts mated probes whose top
 * match is correct and strictly above it.
 */
export function openSetAtFar(mated: readonly Search[], nonMated: readonly number[], target: number): OpenSetPoint {
  if (nonMated.length === 0 || mated.length === 0)
    throw new RangeError('openSetAtFar needs mated and non-mated probes');
  const sorted = [...nonMated].sort((a, b) => b - a);
  const allowed = Math.floor(target * sorted.length);
  const threshold = allowed < sorted.length ? sorted[allowed]! : -Infinity;
  return openSetAt(mated, nonMated, threshold, target);
}

/** The same figures at a given threshold (accepted when strictly above it, or at/above with `inclusive`). */
export function openSetAt(
  mated: readonly Search[],
  nonMated: readonly number[],
  threshold: number,
  far_target = NaN,
  inclusive = false,
): OpenSetPoint {
  const pass = (s: number) => (inclusive ? s >= threshold : s > threshold);
  return {
    far_target,
    threshold,
    far: nonMated.filter(pass).length / nonMated.length,
    dir: mated.filter((m) => m.correct && pass(m.score)).length / mated.length,
  };
}
