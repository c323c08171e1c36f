// The LFW part of bench:accuracy: every lfw-dev photo embedded once per model (cached), then the
// verification figures, the thresholds at the calibration FAR (model and size bands), open-set
// identification, and the levers (flip-averaging, two-model fusion, several enrolment photos,
// quality weighting), each measured on the same photos.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CALIBRATION_FAR, ModelRegistry } from '../../src/models/registry.js';
import { DEFAULT_FLIP } from '../../src/services/embedding-settings.js';
import { say } from './common.js';
import { loadLfw, photoPath, type Lfw } from './lfw-data.js';
import { calibrateLfwBands, type BandResult } from './lfw-bands.js';
import { swappedChannels } from './lfw-channel-order.js';
import { embedSet, pipelineFingerprint, type EmbeddedSet } from './lfw-embed.js';
import { enrolmentLevers, type EnrolmentRow } from './lfw-enrolment.js';
import { identification, type IdentificationResult } from './lfw-identification.js';
import { rocPoints } from './lfw-metrics.js';
import { SimilarityMatrix } from './lfw-scores.js';
import { atThreshold, summarise, type AtThreshold, type VerificationSummary } from './lfw-verification.js';

/** Every threshold is chosen at the registry's false-accept rate (a roster of 30 then accepts a given stranger with <= 0.3% chance). */
export { CALIBRATION_FAR };
/** The attendance default first: its shrunk probes are cut from its face boxes. */
export const LFW_MODELS = ['arcface', 'facenet', 'hse-faceres'] as const;
/** Flip-averaging needs a second embedding pass: measured on the attendance default. */
const FLIP_MODELS = ['arcface'] as const;
/** The attendance default's package feeds RGB, its weights measure better fed BGR: the other order kept measured. */
const CHANNEL_MODELS = ['arcface'] as const;
const FUSED = ['arcface', 'facenet'] as const;
/** Fused z-scores are divided by this to fit the score histogram's [-1, 1] (a monotone rescaling: no figure changes). */
const FUSION_SCALE = 32;

export interface LfwModelResult {
  alias: string;
  model: string;
  version: string;
  /** The registry's threshold and the FAR it was chosen at, as shipped. */
  shipped: { threshold: number; far: number | undefined };
  embed: { seconds: number; fromCache: boolean; noFace: number; failed: number; photosPerSecond: number };
  summary: VerificationSummary;
  atShipped: AtThreshold;
  roc: [number, number][];
  bands: BandResult[];
  /** The registry's size bands as shipped. */
  shippedBands: { belowWidth: number; threshold: number; far?: number }[];
  identification: IdentificationResult[];
  enrolment: EnrolmentRow[];
}

export interface LeverRow {
  lever: string;
  model: string;
  summary: VerificationSummary;
  /** At the shipped threshold of the model (fusion: n/a). */
  atShipped?: AtThreshold;
  cost: string;
}

export interface LfwRun {
  lfw: Lfw;
  fingerprint: string;
  models: LfwModelResult[];
  levers: LeverRow[];
  seconds: number;
}

async function embedFull(
  lfw: Lfw,
  model: string,
  flip: 'never' | 'upsampled' | 'always',
  workers: number,
  modelsConfig?: string,
) {
  return embedSet({
    model,
    names: lfw.photos,
    files: lfw.photos.map((p) => photoPath(lfw, p)),
    flip,
    variant: 'full',
    workers,
    ...(modelsConfig ? { modelsConfig } : {}),
  });
}

export async function runLfw(
  dir: string,
  workers: number,
  aliases: readonly string[] = LFW_MODELS,
  opts: { flip: boolean; channelOrder: boolean } = { flip: true, channelOrder: true },
): Promise<LfwRun> {
  const started = performance.now();
  const lfw = await loadLfw(dir);
  const registry = new ModelRegistry();
  const models: LfwModelResult[] = [];
  const sims = new Map<string, { sim: SimilarityMatrix; summary: VerificationSummary }>();
  let reference: EmbeddedSet | undefined;
  for (const alias of aliases) {
    const spec = registry.get(alias);
    const full = await embedFull(lfw, alias, DEFAULT_FLIP, workers);
    reference ??= full;
    say(`${spec.name}: scoring ${lfw.photos.length} photos`);
    const sim = SimilarityMatrix.of(full.vectors, full.dims);
    const summary = summarise(lfw, sim, CALIBRATION_FAR);
    const bands = await calibrateLfwBands(lfw, full, reference, {
      far: CALIBRATION_FAR,
      fullThreshold: summary.chosen.threshold,
      flip: DEFAULT_FLIP,
      workers,
    });
    models.push({
      alias,
      model: spec.name,
      version: full.version,
      shipped: { threshold: spec.threshold, far: spec.thresholdFar },
      embed: {
        seconds: full.seconds,
        fromCache: full.fromCache,
        noFace: full.faces.filter((f) => f && !f.detected).length,
        failed: full.failed.length,
        photosPerSecond: lfw.photos.length / full.seconds,
      },
      summary,
      atShipped: atThreshold(lfw, sim, summary.verification, spec.threshold),
      roc: rocPoints(summary.verification.genuineHistogram, summary.verification.impostors),
      bands,
      shippedBands: (spec.sizeBands ?? []).map((b) => ({ ...b })),
      identification: identification(lfw, sim, spec.threshold),
      enrolment: enrolmentLevers(lfw, full, spec.threshold),
    });
    if ((FUSED as readonly string[]).includes(alias)) sims.set(alias, { sim, summary });
  }
  const levers: LeverRow[] = [];
  const [a, b] = FUSED.map((m) => sims.get(m));
  if (a && b) {
    const fused = SimilarityMatrix.combine(
      a.sim,
      b.sim,
      (x, y) =>
        ((x - a.summary.impostorMean) / a.summary.impostorStd + (y - b.summary.impostorMean) / b.summary.impostorStd) /
        2 /
        FUSION_SCALE,
    );
    levers.push({
      lever: `fusion: mean of z-scored cosines (impostor mean and spread), / ${FUSION_SCALE}`,
      model: FUSED.join(' + '),
      summary: summarise(lfw, fused, CALIBRATION_FAR),
      cost: 'both models per face (about 2x the embedding time)',
    });
  }
  sims.clear();
  for (const alias of FLIP_MODELS.filter((m) => opts.flip && aliases.includes(m))) {
    const spec = registry.get(alias);
    const flipped = await embedFull(lfw, alias, 'always', workers);
    const sim = SimilarityMatrix.of(flipped.vectors, flipped.dims);
    const summary = summarise(lfw, sim, CALIBRATION_FAR);
    const base = models.find((m) => m.alias === alias)!;
    levers.push({
      lever: "flip-averaging: every chip embedded with its mirror image, vectors averaged (flip 'always')",
      model: alias,
      summary,
      atShipped: atThreshold(lfw, sim, summary.verification, spec.threshold),
      cost: `two chips per face: ${(lfw.photos.length / flipped.seconds).toFixed(1)} photos/s against ${base.embed.photosPerSecond.toFixed(1)} (${flipped.fromCache ? 'timed when cached' : 'this run'})`,
    });
  }
  for (const alias of CHANNEL_MODELS.filter((m) => opts.channelOrder && aliases.includes(m))) {
    const spec = registry.get(alias);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-channels-'));
    try {
      const variant = await swappedChannels(spec, dir);
      const swapped = await embedFull(lfw, variant.name, DEFAULT_FLIP, workers, variant.modelsConfig);
      const sim = SimilarityMatrix.of(swapped.vectors, swapped.dims);
      const summary = summarise(lfw, sim, CALIBRATION_FAR);
      levers.push({
        lever: `channel order ${variant.channelOrder.toUpperCase()} (shipped: ${spec.input.channelOrder.toUpperCase()})`,
        model: alias,
        summary,
        atShipped: atThreshold(lfw, sim, summary.verification, spec.threshold),
        cost: 'none (the same chip, its channels in the other order)',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return {
    lfw,
    fingerprint: await pipelineFingerprint(),
    models,
    levers,
    seconds: (performance.now() - started) / 1000,
  };
}
