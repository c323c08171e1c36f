// The review flag judged as a detector of bad matches: over every automatic match (right or
// wrong), how many of the wrong ones it flags (recall), how many of its flags are wrong matches
// (precision), and how many matches it flags at all (the reader's workload). Candidate rules are
// scored on one set of classes and the chosen rule reported on the others.
import { needsReview, type FaceQuality, type ReviewPolicy } from '../../src/domain/face-quality.js';

export interface ReviewCase {
  /** The face is the member it was matched to. */
  correct: boolean;
  similarity: number;
  /** The threshold the face was decided at (its width's). */
  threshold: number;
  quality: FaceQuality;
  /** What the service answered: `review`. */
  flagged: boolean;
}

export interface FlagScore {
  matches: number;
  wrong: number;
  flagged: number;
  wrongFlagged: number;
  rightFlagged: number;
  /** Flagged share of matches. */
  rate: number;
  /** Share of flags that are wrong matches; NaN without flags. */
  precision: number;
  /** Share of wrong matches flagged; NaN without wrong matches. */
  recall: number;
}

export function flagScore(cases: readonly ReviewCase[], flag: (c: ReviewCase) => boolean): FlagScore {
  let wrong = 0;
  let wrongFlagged = 0;
  let rightFlagged = 0;
  for (const c of cases) {
    const f = flag(c);
    if (!c.correct) wrong++;
    if (f && c.correct) rightFlagged++;
    if (f && !c.correct) wrongFlagged++;
  }
  const flagged = wrongFlagged + rightFlagged;
  return {
    matches: cases.length,
    wrong,
    flagged,
    wrongFlagged,
    rightFlagged,
    rate: cases.length ? flagged / cases.length : NaN,
    precision: flagged ? wrongFlagged / flagged : NaN,
    recall: wrong ? wrongFlagged / wrong : NaN,
  };
}

/** The rule as the product applies it. */
export const byPolicy =
  (policy: ReviewPolicy) =>
  (c: ReviewCase): boolean =>
    needsReview(c.quality, c.similarity, c.threshold, policy);

/** The grid of rules tried: margins above the threshold, face-width floors, sharpness floors. */
export function candidateRules(): ReviewPolicy[] {
  const out: ReviewPolicy[] = [];
  for (const margin of [0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1])
    for (const minWidthPx of [0, 33, 36])
      for (const minSharpness of [0, 60]) out.push({ margin, minWidthPx, minSharpness });
  return out;
}

/**
 * The rule chosen on `groups` (e.g. one per face-size band): among the rules that flag at most
 * `maxRate` of the matches in every group, the one that flags the most wrong matches in all;
 * then the fewest right ones; then the earlier in `rules` (the simpler).
 */
export function chooseRule(
  groups: readonly (readonly ReviewCase[])[],
  rules: readonly ReviewPolicy[],
  maxRate: number,
): ReviewPolicy | undefined {
  let best: { rule: ReviewPolicy; caught: number; rightFlagged: number } | undefined;
  for (const rule of rules) {
    const scores = groups.map((cases) => flagScore(cases, byPolicy(rule)));
    if (scores.some((s) => s.rate > maxRate)) continue;
    const caught = scores.reduce((n, s) => n + s.wrongFlagged, 0);
    const rightFlagged = scores.reduce((n, s) => n + s.rightFlagged, 0);
    if (!best || caught > best.caught || (caught === best.caught && rightFlagged < best.rightFlagged))
      best = { rule, caught, rightFlagged };
  }
  return best?.rule;
}

export const sameRule = (a: ReviewPolicy, b: ReviewPolicy): boolean =>
  a.margin === b.margin && a.minWidthPx === b.minWidthPx && a.minSharpness === b.minSharpness;
