// The deepface-unit pair files (master.csv, face-recognition-pivot.csv) and how the accuracy bench
// scores them: one model's embeddings against the pairs' answers, and DeepFace's own Facenet
// distances (stored in the pivot file) as the reference row.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import type { FaceEmbedding } from '../../src/services/embedding.types.js';
import {
  bestThreshold,
  confusionAt,
  rocAuc,
  type BestThreshold,
  type Confusion,
  type ScoredPair,
} from '../accuracy-metrics.js';

export const PIVOT = 'face-recognition-pivot.csv';
export const MASTER = 'master.csv';
/** DeepFace's default cosine-distance threshold for Facenet: a pair is the same person when distance <= 0.40. */
export const DEEPFACE_FACENET = { column: 'Facenet_cosine', threshold: 0.4 };

export interface Pair {
  x: string;
  y: string;
  same: boolean;
  distance?: number;
}
export interface FaceNote {
  score?: number;
  width?: number;
}
export interface Failing {
  x: string;
  y: string;
  same: boolean;
  similarity: number;
  faces: [FaceNote, FaceNote];
}
export interface SetResult {
  atDefault: Confusion;
  best: BestThreshold;
  auc: number;
  failing: Failing[];
}

export async function readPairs(file: string): Promise<Pair[]> {
  const [header, ...lines] = (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.trim());
  const cols = header!.split(',').map((c) => c.trim());
  const decision = cols.findIndex((c) => c.toLowerCase() === 'decision');
  const distance = cols.indexOf(DEEPFACE_FACENET.column);
  return lines.map((line) => {
    const cells = line.split(',').map((c) => c.trim());
    const pair: Pair = { x: path.basename(cells[0]!), y: path.basename(cells[1]!), same: cells[decision] === 'Yes' };
    if (distance >= 0) pair.distance = Number(cells[distance]);
    return pair;
  });
}

export function scoreSet(
  pairs: readonly Pair[],
  embeddings: Map<string, FaceEmbedding | null>,
  threshold: number,
): SetResult {
  const scored = pairs.map((p) => {
    const similarity = pairScore(p, embeddings);
    return { ...p, similarity, score: similarity };
  });
  const face = (f: string): FaceNote => {
    const info = embeddings.get(f)?.face;
    return info?.detected ? { score: info.score, width: info.box?.[2] } : {};
  };
  const failing = scored
    .filter((p) => p.score >= threshold !== p.same)
    .map(({ x, y, same, similarity }): Failing => ({ x, y, same, similarity, faces: [face(x), face(y)] }));
  return { atDefault: confusionAt(scored, threshold), best: bestThreshold(scored), auc: rocAuc(scored), failing };
}

/** The master pairs that the pivot file does not also hold (in either order). */
export function heldOut(master: Pair[], pivot: Pair[]): Pair[] {
  const key = (p: Pair) => [p.x, p.y].sort().join('|');
  const inPivot = new Set(pivot.map(key));
  return master.filter((p) => !inPivot.has(key(p)));
}

/** An image that could not be embedded rejects its pairs (lowest cosine). */
export function pairScore(p: Pair, embeddings: Map<string, FaceEmbedding | null>): number {
  const a = embeddings.get(p.x);
  const b = embeddings.get(p.y);
  return a && b ? EmbeddingService.cosineSimilarity(a.embedding, b.embedding) : -1;
}

export type DeepfaceReference = ReturnType<typeof deepfaceReference>;

export function deepfaceReference(pivot: Pair[]) {
  // Scored as -distance so that "accept when score >= threshold" matches DeepFace's distance <= threshold.
  const scored: ScoredPair[] = pivot.map((p) => ({ same: p.same, score: -(p.distance ?? NaN) }));
  const best = bestThreshold(scored, { min: -2, max: 0 });
  return {
    atDefault: confusionAt(scored, -DEEPFACE_FACENET.threshold),
    best: { ...best, threshold: -best.threshold },
    auc: rocAuc(scored),
  };
}
