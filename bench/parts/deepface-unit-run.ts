// The deepface-unit part of bench:accuracy: every photo (and its low-res and tight-crop copies)
// embedded once per model and mode, both pair files scored at the shipped threshold and at the
// one calibrated on the pivot pairs, the size bands calibrated, and the low-res chips cut again
// with each upsampler.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../src/config/config.js';
import type { DetectMode } from '../../src/domain/face.js';
import type { FlipMode } from '../../src/inference/protocol.js';
import { createLogger } from '../../src/logging/logger.js';
import { modelFile } from '../../src/models/prepare.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { DEFAULT_FLIP } from '../../src/services/embedding-settings.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import type { FaceEmbedding } from '../../src/services/embedding.types.js';
import { LOW_RES_FLIP_MODE, LOW_RES_MODE } from './accuracy-format.js';
import { confusionAt, roundedInside, type Confusion } from '../accuracy-metrics.js';
import { cropCopies, lowResCopies } from './deepface-unit-copies.js';
import {
  MASTER,
  PIVOT,
  deepfaceReference,
  heldOut,
  pairScore,
  readPairs,
  scoreSet,
  type DeepfaceReference,
  type Pair,
  type SetResult,
} from './deepface-unit-pairs.js';
import { fastPathLog } from './fast-path-log.js';
import { maxDifference, reembed, UPSAMPLERS } from './interpolation.js';
import type { Upsampled } from './small-face-levers.js';
import { calibrateBands, type BandCalibration } from './small-faces.js';

const MODELS = ['facenet', 'arcface', 'hse-faceres'] as const;
/** Which copy of the photos a row embeds: as given, shrunk (LOW_RES), or each one's largest face cut out (CROP). */
type Source = 'photos' | 'lowRes' | 'crops' | 'bands';
/**
 * 'aligned' is the shipped default; the flip rows measure flip-averaging of upsampled chips, the
 * crop rows the tight-crop fast path against BlazeFace on the same crops (issue 12).
 */
const MODES: readonly { mode: DetectMode; label: string; flip?: FlipMode; source?: Source; tightCrops?: false }[] = [
  { mode: 'auto', label: 'aligned' },
  { mode: 'auto', label: 'aligned, flip-averaged when upsampled', flip: 'upsampled' },
  { mode: 'skip', label: 'whole image' },
  { mode: 'auto', label: LOW_RES_MODE, source: 'lowRes' },
  { mode: 'auto', label: LOW_RES_FLIP_MODE, source: 'lowRes', flip: 'upsampled' },
  { mode: 'auto', label: 'tight crops (25% margin, 160 px)', source: 'crops' },
  { mode: 'auto', label: 'tight crops, BlazeFace path', source: 'crops', tightCrops: false },
];

/** One model in one mode (a row of the results table). */
export interface Evaluation {
  model: string;
  alias: string;
  mode: string;
  threshold: number;
  calibrated: number;
  masterAtCalibrated: Confusion;
  heldOutAtCalibrated: Confusion;
  master: SetResult;
  pivot: SetResult;
  noFace: string[];
  /** Photos that took the tight-crop fast path (BlazeFace skipped), from the worker's debug step lines. */
  fastPath: string[];
  failedImages: string[];
  seconds: number;
  embeddings: Map<string, FaceEmbedding | null>;
}

interface ModelRun {
  evals: Evaluation[];
  bands: BandCalibration[];
}

export interface DeepfaceUnitRun {
  /** The photos of both pair files, in natural order. */
  images: string[];
  master: Pair[];
  pivot: Pair[];
  evals: Evaluation[];
  bands: Map<string, BandCalibration[]>;
  upsampled: Upsampled | undefined;
  /** DeepFace's own Facenet distances on the pivot pairs. */
  reference: DeepfaceReference;
  /** Wall time of the copies and every embedding. */
  seconds: number;
}

/** Measures every model and mode on the deepface-unit folder `dataDir`. */
export async function runDeepfaceUnit(dataDir: string, workers: number): Promise<DeepfaceUnitRun> {
  for (const f of [MASTER, PIVOT])
    if (!existsSync(path.join(dataDir, f)))
      throw new Error(`${path.join(dataDir, f)} not found: --data must name the deepface-unit folder`);
  const [master, pivot] = await Promise.all([
    readPairs(path.join(dataDir, MASTER)),
    readPairs(path.join(dataDir, PIVOT)),
  ]);
  const images = [...new Set([...master, ...pivot].flatMap((p) => [p.x, p.y]))].sort((a, b) =>
    a.localeCompare(b, 'en', { numeric: true }),
  );
  const work = await mkdtemp(path.join(os.tmpdir(), 'faceembed-accuracy-'));
  const dirs: Record<Source, string> = {
    photos: dataDir,
    lowRes: path.join(work, 'low-res'),
    crops: path.join(work, 'crops'),
    bands: path.join(work, 'bands'),
  };
  const started = performance.now();
  const evals: Evaluation[] = [];
  const bands = new Map<string, BandCalibration[]>();
  let upsampled: Upsampled | undefined;
  try {
    await lowResCopies(dataDir, images, dirs.lowRes);
    await cropCopies(dataDir, images, dirs.crops, workers);
    for (const alias of MODELS) {
      const run = await evaluateModel(alias, dirs, images, master, pivot, workers);
      evals.push(...run.evals);
      bands.set(alias, run.bands);
    }
    upsampled = await upsampleLowRes(evals, dirs.lowRes, images);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  return { images, master, pivot, evals, bands, upsampled, reference: deepfaceReference(pivot), seconds };
}

async function evaluateModel(
  alias: string,
  dirs: Record<Source, string>,
  images: string[],
  master: Pair[],
  pivot: Pair[],
  workers: number,
): Promise<ModelRun> {
  const track = fastPathLog();
  const service = new EmbeddingService({ modelName: alias, workers, logger: track.logger });
  // Rows with the fast path off need a pool of their own (the switch is the service's).
  let blazeOnly: EmbeddingService | undefined;
  try {
    await service.ready();
    const info = service.resolveModel(alias);
    const out: Evaluation[] = [];
    for (const { mode, label, flip, source, tightCrops } of MODES) {
      const t0 = performance.now();
      const files = images.map((f) => path.join(dirs[source ?? 'photos'], f));
      track.clear();
      if (tightCrops === false)
        blazeOnly ??= new EmbeddingService({ modelName: alias, workers, tightCrops, logger: createLogger('silent') });
      const results = await (tightCrops === false ? blazeOnly! : service).generateEmbeddingsBatch(files, {
        detect: mode,
        flip: flip ?? DEFAULT_FLIP,
      });
      const verdicts = track.verdicts();
      const embeddings = new Map(images.map((f, i) => [f, results[i] ?? null]));
      const pivotResult = scoreSet(pivot, embeddings, info.threshold);
      const calibrated = roundedInside(pivotResult.best);
      const atCalibrated = (pairs: Pair[]) =>
        confusionAt(
          pairs.map((p) => ({ same: p.same, score: pairScore(p, embeddings) })),
          calibrated,
        );
      out.push({
        model: info.name,
        alias,
        mode: label,
        threshold: info.threshold,
        calibrated,
        masterAtCalibrated: atCalibrated(master),
        heldOutAtCalibrated: atCalibrated(heldOut(master, pivot)),
        master: scoreSet(master, embeddings, info.threshold),
        pivot: pivotResult,
        noFace: mode === 'skip' ? [] : images.filter((f) => embeddings.get(f)?.face.detected === false),
        fastPath: tightCrops === false ? [] : images.filter((f, i) => verdicts.get(files[i]!)?.tight),
        failedImages: images.filter((f) => !embeddings.get(f)),
        seconds: (performance.now() - t0) / 1000,
        embeddings,
      });
    }
    const aligned = out.find((e) => e.mode === 'aligned')!;
    const bands = await calibrateBands(service, dirs.photos, dirs.bands, master, aligned.embeddings, info.threshold);
    return { evals: out, bands };
  } finally {
    await Promise.all([service.close(), blazeOnly?.close()]);
  }
}

/** The low-res rows' chips cut again with each upsampler (bench/parts/interpolation.ts), per model. */
async function upsampleLowRes(evals: Evaluation[], lowResDir: string, images: string[]): Promise<Upsampled> {
  const registry = new ModelRegistry();
  const files = new Map(images.map((f) => [f, path.join(lowResDir, f)]));
  const out: Upsampled = new Map();
  for (const alias of MODELS) {
    const spec = registry.get(alias);
    const file = await modelFile(spec, loadConfig().modelsDir);
    const worker = evals.find((e) => e.alias === alias && e.mode === LOW_RES_MODE)!.embeddings;
    const byMethod = new Map();
    for (const upsampler of UPSAMPLERS) {
      const embeddings = await reembed(spec, file.path, files, worker, upsampler);
      byMethod.set(upsampler, { embeddings, maxDiffFromWorker: maxDifference(embeddings, worker) });
    }
    out.set(alias, byMethod);
  }
  return out;
}
