// Levers for small faces, measured on the accuracy bench's photos. Dev data only for choosing:
// every master photo shrunk so that its face is a known width (JPEG q70, as class photos are
// saved), scored against the full-size photos over master.csv's pairs; one threshold per width
// band comes from those pairs alone. The test rows are the low-res copies of both files.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { thresholdForFace, type SizeBand, type ThresholdPolicy } from '../../src/domain/face-threshold.js';
import type { FaceEmbedding } from '../../src/services/embedding.types.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import {
  bestThreshold,
  confusionAt,
  rocAuc,
  roundedInside,
  type Confusion,
  type ScoredPair,
} from '../accuracy-metrics.js';

export interface Pair {
  x: string;
  y: string;
  same: boolean;
}
export type Embeddings = Map<string, FaceEmbedding | null>;

/** The widths the dev photos are shrunk to, and the band each calibrates (faces below `belowWidth`). */
export const BANDS = [
  { width: 36, belowWidth: 42 },
  { width: 48, belowWidth: 56 },
  { width: 64, belowWidth: 80 },
  { width: 96, belowWidth: 112 },
] as const;
const QUALITY = 70;

export interface BandCalibration {
  width: number;
  belowWidth: number;
  threshold: number;
  /** Dev pairs (full-size photo against the shrunk one, both orders). */
  pairs: number;
  bestAccuracy: number;
  auc: number;
  /** Accuracy at the model's full-size threshold, for comparison. */
  atBase: Confusion;
  /** Resolution-matched enrolment: the shrunk probe scored against the enrolment photo degraded the same way too. */
  matched: { bestAccuracy: number; auc: number; sameP10: number; impostorMax: number };
  plain: { sameP10: number; impostorMax: number };
}

export const faceWidth = (e: FaceEmbedding | null | undefined): number | null =>
  e?.face.detected && e.face.box ? e.face.box[2] : null;

const cos = (a: FaceEmbedding | null | undefined, b: FaceEmbedding | null | undefined) =>
  a && b ? EmbeddingService.cosineSimilarity(a.embedding, b.embedding) : -1;

/** Every photo with a face found at full size, shrunk so that face is `width` px wide (never enlarged). */
async function shrunkCopies(
  dataDir: string,
  full: Embeddings,
  width: number,
  outDir: string,
): Promise<Map<string, string>> {
  await mkdir(outDir, { recursive: true });
  const out = new Map<string, string>();
  for (const [f, e] of full) {
    const w = faceWidth(e);
    if (w === null || w <= width) continue;
    const image = sharp(path.join(dataDir, f)).rotate();
    const { width: imageWidth = 0 } = await image.clone().metadata();
    const file = path.join(outDir, f);
    await image
      .resize({ width: Math.max(1, Math.round((imageWidth * width) / w)) })
      .jpeg({ quality: QUALITY })
      .toFile(file);
    out.set(f, file);
  }
  return out;
}

const quantile = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};

/** One model's band thresholds from the dev (master) pairs, and what a resolution-matched enrolment would change. */
export async function calibrateBands(
  service: EmbeddingService,
  dataDir: string,
  workDir: string,
  master: readonly Pair[],
  full: Embeddings,
  baseThreshold: number,
): Promise<BandCalibration[]> {
  const out: BandCalibration[] = [];
  for (const band of BANDS) {
    const copies = await shrunkCopies(dataDir, full, band.width, path.join(workDir, `face-${band.width}`));
    const names = [...copies.keys()];
    const results = await service.generateEmbeddingsBatch(
      names.map((f) => copies.get(f)!),
      { detect: 'auto' },
    );
    const small: Embeddings = new Map(names.map((f, i) => [f, results[i] ?? null]));
    const plain: ScoredPair[] = [];
    const matched: ScoredPair[] = [];
    for (const p of master) {
      for (const [enrolled, probe] of [
        [p.x, p.y],
        [p.y, p.x],
      ] as const) {
        if (!small.has(probe)) continue;
        const s = cos(full.get(enrolled), small.get(probe));
        plain.push({ same: p.same, score: s });
        // The enrolment's gallery holds both its full-size and its degraded embedding: the better counts.
        matched.push({ same: p.same, score: Math.max(s, cos(small.get(enrolled), small.get(probe))) });
      }
    }
    const best = bestThreshold(plain);
    const spread = (pairs: ScoredPair[]) => ({
      sameP10: quantile(
        pairs.filter((q) => q.same).map((q) => q.score),
        0.1,
      ),
      impostorMax: Math.max(...pairs.filter((q) => !q.same).map((q) => q.score)),
    });
    out.push({
      width: band.width,
      belowWidth: band.belowWidth,
      threshold: roundedInside(best),
      pairs: plain.length,
      bestAccuracy: best.accuracy,
      auc: rocAuc(plain),
      atBase: confusionAt(plain, baseThreshold),
      matched: { bestAccuracy: bestThreshold(matched).accuracy, auc: rocAuc(matched), ...spread(matched) },
      plain: spread(plain),
    });
  }
  return out;
}

export const toBands = (c: readonly BandCalibration[]): SizeBand[] =>
  c.map((b) => ({ belowWidth: b.belowWidth, threshold: b.threshold }));

/** One model's verdict inputs on a pair: its similarity and the threshold the policy gives the smaller face. */
function margin(policy: ThresholdPolicy, e: Embeddings, p: Pair): { s: number; t: number } {
  const a = e.get(p.x),
    b = e.get(p.y);
  const widths = [faceWidth(a), faceWidth(b)].filter((w): w is number => w !== null);
  return { s: cos(a, b), t: thresholdForFace(policy, widths.length ? Math.min(...widths) : null) };
}

/** Pairs decided by one model under a threshold policy: score = similarity - threshold, accepted at >= 0. */
export function policyPairs(policy: ThresholdPolicy, e: Embeddings, pairs: readonly Pair[]): ScoredPair[] {
  return pairs.map((p) => {
    const { s, t } = margin(policy, e, p);
    return { same: p.same, score: s - t };
  });
}

export interface FusionMember {
  policy: ThresholdPolicy;
  embeddings: Embeddings;
  /** Spread of the model's similarities over the dev pairs at full size: puts both models' margins on one scale. */
  scale: number;
}

/** Score fusion: the mean of each model's calibrated margin (similarity - its threshold) / its spread; same at >= 0. */
export function fusedPairs(members: readonly FusionMember[], pairs: readonly Pair[]): ScoredPair[] {
  return pairs.map((p) => {
    const z = members.map((m) => {
      const { s, t } = margin(m.policy, m.embeddings, p);
      return (s - t) / m.scale;
    });
    return { same: p.same, score: z.reduce((a, b) => a + b, 0) / z.length };
  });
}

/** Standard deviation of a model's similarities over pairs (the fusion scale). */
export function similaritySpread(e: Embeddings, pairs: readonly Pair[]): number {
  const s = pairs.map((p) => cos(e.get(p.x), e.get(p.y)));
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
}

export interface LeverRow {
  lever: string;
  model: string;
  master: Confusion;
  pivot: Confusion;
  pivotAuc: number;
}

export function leverRow(lever: string, model: string, master: ScoredPair[], pivot: ScoredPair[]): LeverRow {
  return { lever, model, master: confusionAt(master, 0), pivot: confusionAt(pivot, 0), pivotAuc: rocAuc(pivot) };
}
