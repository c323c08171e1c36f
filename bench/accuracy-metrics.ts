// Verification metrics over labelled pairs: accuracy and both error kinds at a threshold, the
// best-accuracy threshold interval, and ROC AUC. A pair is accepted ("same person") when its
// score >= threshold, so a distance d is scored as -d (DeepFace accepts d <= threshold).

export interface ScoredPair {
  score: number;
  same: boolean;
}

export interface Confusion {
  pairs: number;
  correct: number;
  accuracy: number;
  /** Different people accepted as the same. */
  falseAccepts: number;
  /** The same person rejected. */
  falseRejects: number;
}

export interface BestThreshold {
  accuracy: number;
  /** The widest run of thresholds reaching that accuracy: every t with low < t <= high. */
  low: number;
  high: number;
  /** Midpoint of the run: the farthest point from the scores on either side. */
  threshold: number;
}

export function confusionAt(pairs: readonly ScoredPair[], threshold: number): Confusion {
  let falseAccepts = 0;
  let falseRejects = 0;
  for (const p of pairs) {
    const accepted = p.score >= threshold;
    if (accepted && !p.same) falseAccepts++;
    if (!accepted && p.same) falseRejects++;
  }
  const correct = pairs.length - falseAccepts - falseRejects;
  return {
    pairs: pairs.length,
    correct,
    accuracy: pairs.length ? correct / pairs.length : NaN,
    falseAccepts,
    falseRejects,
  };
}

/**
 * Accuracy is constant between consecutive distinct scores, so the candidates are the gaps
 * (s[i-1], s[i]] plus the two ends, bounded by [min, max] (cosine: [-1, 1]). Adjacent gaps
 * with the same best accuracy (a tie of same and different pairs on one score) are merged; of
 * several separate best runs the widest wins, as it leaves the most margin.
 */
export function bestThreshold(
  pairs: readonly ScoredPair[],
  bounds: { min: number; max: number } = { min: -1, max: 1 },
): BestThreshold {
  if (pairs.length === 0) throw new RangeError('bestThreshold needs at least one pair');
  const sorted = [...pairs].sort((a, b) => a.score - b.score);
  const scores = sorted.map((p) => p.score);
  const lo = Math.min(bounds.min, scores[0]!);
  const hi = Math.max(bounds.max, scores[scores.length - 1]!);
  // Threshold at or below every score: all accepted.
  let correct = sorted.filter((p) => p.same).length;
  const gaps: { low: number; high: number; correct: number }[] = [];
  let prev = lo;
  let i = 0;
  while (i <= sorted.length) {
    const next = i < sorted.length ? scores[i]! : hi;
    // Gap (prev, next]; the first gap is closed at `lo` too, harmlessly.
    gaps.push({ low: prev, high: next, correct });
    if (i === sorted.length) break;
    // Raising the threshold past this score rejects every pair that has it.
    const s = scores[i]!;
    while (i < sorted.length && scores[i] === s) {
      correct += sorted[i]!.same ? -1 : 1;
      i++;
    }
    prev = s;
  }
  const bestCorrect = Math.max(...gaps.map((g) => g.correct));
  let best: { low: number; high: number } | undefined;
  let run: { low: number; high: number } | undefined;
  for (const g of gaps) {
    if (g.correct !== bestCorrect) {
      run = undefined;
      continue;
    }
    run = run ? { low: run.low, high: g.high } : { low: g.low, high: g.high };
    if (!best || run.high - run.low > best.high - best.low) best = run;
  }
  const b = best!;
  return { accuracy: bestCorrect / pairs.length, low: b.low, high: b.high, threshold: (b.low + b.high) / 2 };
}

/** Area under the ROC curve: the chance that a random same pair outscores a random different one (ties count half). */
export function rocAuc(pairs: readonly ScoredPair[]): number {
  const sorted = [...pairs].sort((a, b) => a.score - b.score);
  const positives = sorted.filter((p) => p.same).length;
  const negatives = sorted.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  // Mann-Whitney U from mid-ranks.
  let rankSum = 0;
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j < sorted.length && sorted[j]!.score === sorted[i]!.score) j++;
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (sorted[k]!.same) rankSum += midRank;
    i = j;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * A threshold to ship: the best run's midpoint rounded to `decimals`, unless rounding would
 * leave the run (then the unrounded midpoint).
 */
export function roundedInside(best: BestThreshold, decimals = 3): number {
  const f = 10 ** decimals;
  const r = Math.round(best.threshold * f) / f;
  return r > best.low && r <= best.high ? r : best.threshold;
}
