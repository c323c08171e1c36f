// One scoring of the LFW dev photos summed up: the 10-fold protocol and AUC on the View 2 pairs,
// accuracy and both error kinds at a threshold, the threshold at the calibration FAR over every
// pair of different people, and TAR at FAR 1e-3, 1e-4 and 1e-5.
import { confusionAt, rocAuc, type Confusion } from '../accuracy-metrics.js';
import type { Lfw } from './lfw-data.js';
import {
  tarAt,
  tarAtFar,
  tenFold,
  thresholdAtFar,
  type FarThreshold,
  type TarAtFar,
  type TenFold,
} from './lfw-metrics.js';
import { allPairs, viewPairs, type SimilarityMatrix, type Verification } from './lfw-scores.js';

export const TAR_FARS = [1e-3, 1e-4, 1e-5] as const;

export interface AtThreshold {
  threshold: number;
  /** The 3000 View 2 pairs. */
  pairs: Confusion;
  /** Same-person View 2 pairs accepted. */
  sameAccepted: number;
  /** Over every pair of different people among the photos. */
  far: number;
  falseAccepts: number;
  /** Over every same-person pair among the photos. */
  tar: number;
}

export interface VerificationSummary {
  tenFold: TenFold;
  auc: number;
  genuine: number;
  impostors: number;
  tarAtFar: TarAtFar[];
  /** The threshold at the calibration FAR (0.001 grid), and the figures there. */
  chosen: FarThreshold;
  atChosen: AtThreshold;
  /** Impostor mean and spread (score fusion puts models on one scale with them). */
  impostorMean: number;
  impostorStd: number;
  verification: Verification;
}

export function atThreshold(lfw: Lfw, sim: SimilarityMatrix, v: Verification, t: number): AtThreshold {
  const pairs = viewPairs(lfw, sim);
  const same = pairs.filter((p) => p.same);
  const falseAccepts = v.impostors.atLeast(t);
  return {
    threshold: t,
    pairs: confusionAt(pairs, t),
    sameAccepted: same.filter((p) => p.score >= t).length / same.length,
    far: falseAccepts / v.impostors.total,
    falseAccepts,
    tar: tarAt(v.genuine, t),
  };
}

export function summarise(lfw: Lfw, sim: SimilarityMatrix, far: number): VerificationSummary {
  const v = allPairs(lfw, sim);
  const pairs = viewPairs(lfw, sim);
  const chosen = thresholdAtFar(v.impostors, far);
  return {
    tenFold: tenFold(pairs),
    auc: rocAuc(pairs),
    genuine: v.genuine.length,
    impostors: v.impostors.total,
    tarAtFar: TAR_FARS.map((f) => tarAtFar(v.genuine, v.impostors, f)),
    chosen,
    atChosen: atThreshold(lfw, sim, v, chosen.threshold),
    impostorMean: v.impostors.mean(),
    impostorStd: v.impostors.std(),
    verification: v,
  };
}
