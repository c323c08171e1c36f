// The LFW dev pairs (../shared/datasets/lfw-dev, folds 0-4 of View 2) and the k-fold protocol:
// each fold is scored at the best-accuracy threshold of the other folds; AUC over all pairs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bestThreshold, confusionAt, rocAuc, type ScoredPair } from '../accuracy-metrics.js';
import { REPO } from './common.js';

/** FACEEMBED_LFW_DEV, else ../shared/datasets/lfw-dev beside the repository or one level up. */
export function lfwDevDir(): string | undefined {
  const candidates = [
    process.env.FACEEMBED_LFW_DEV,
    path.join(REPO, '../shared/datasets/lfw-dev'),
    path.join(REPO, '../../shared/datasets/lfw-dev'),
  ];
  return candidates.find((d): d is string => !!d && existsSync(path.join(d, 'pairs.csv')));
}

export interface LfwPair {
  a: string;
  b: string;
  same: boolean;
  fold: number;
}

/** pairs.csv: file_x,file_y,Decision,fold (paths relative to img/). */
export async function readPairs(dir: string): Promise<LfwPair[]> {
  const lines = (await readFile(path.join(dir, 'pairs.csv'), 'utf8')).trim().split('\n').slice(1);
  return lines.map((line) => {
    const [a, b, decision, fold] = line.split(',');
    return { a: a!, b: b!, same: decision === 'Yes', fold: Number(fold) };
  });
}

export interface FoldResult {
  /** Mean and standard deviation (over folds) of the test-fold accuracy. */
  accuracy: number;
  sd: number;
  auc: number;
  /** Accuracy over all pairs at a fixed threshold, when given. */
  atThreshold?: number;
}

/** k-fold accuracy of cosine-scored pairs; `fixed`: also the accuracy at that threshold. */
export function foldAccuracy(pairs: readonly (ScoredPair & { fold: number })[], fixed?: number): FoldResult {
  const folds = [...new Set(pairs.map((p) => p.fold))].sort();
  const accuracies = folds.map((k) => {
    const { threshold } = bestThreshold(pairs.filter((p) => p.fold !== k));
    return confusionAt(
      pairs.filter((p) => p.fold === k),
      threshold,
    ).accuracy;
  });
  const accuracy = accuracies.reduce((s, a) => s + a, 0) / accuracies.length;
  const sd = Math.sqrt(accuracies.reduce((s, a) => s + (a - accuracy) ** 2, 0) / Math.max(1, accuracies.length - 1));
  return {
    accuracy,
    sd,
    auc: rocAuc(pairs),
    ...(fixed === undefined ? {} : { atThreshold: confusionAt(pairs, fixed).accuracy }),
  };
}

export const cosine = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
