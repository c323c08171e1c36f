// Thresholds per face-width band on LFW dev: probe photos shrunk so that their face is 36/48/64/96
// px wide (JPEG q70, as class photos are saved) are scored against every full-size photo (the
// enrolment), other photos of the same person as genuine pairs, everyone else as impostors; each
// band's threshold is the lowest at which those impostors pass at most the target FAR.
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { FlipMode } from '../../src/inference/protocol.js';
import { say } from './common.js';
import { photoPath, type Lfw } from './lfw-data.js';
import { CACHE_DIR, embedSet, pipelineFingerprint, type EmbeddedSet } from './lfw-embed.js';
import { ScoreHistogram, tarAt, thresholdAtFar, type FarThreshold } from './lfw-metrics.js';
import { dot } from './lfw-scores.js';
import { BANDS } from './small-faces.js';

const QUALITY = 70;
/** Probe photos per person (of people with two or more): thousands of pairs without one person's dozens dominating. */
export const PROBES_PER_PERSON = 1;

export interface BandResult {
  width: number;
  belowWidth: number;
  probes: number;
  /** Median face width the detector reported in the shrunk probes. */
  detectedWidth: number;
  /** Shrunk probes where no face was found (embedded whole, as the product does). */
  noFace: number;
  genuinePairs: number;
  chosen: FarThreshold;
  /** Same-person pairs accepted at the chosen threshold. */
  tar: number;
  /** At the model's full-size threshold, for comparison. */
  atFullThreshold: { threshold: number; tar: number; far: number };
}

/** Probe photo indices: the first PROBES_PER_PERSON photos of everyone with two or more. */
export function bandProbes(lfw: Lfw): number[] {
  return lfw.photosOf.filter((ids) => ids.length >= 2).flatMap((ids) => ids.slice(0, PROBES_PER_PERSON));
}

/** Shrunk copies of the probes whose full-size face is wider than `width` (never enlarged), cached by pipeline. */
async function shrunk(lfw: Lfw, reference: EmbeddedSet, probes: number[], width: number): Promise<number[]> {
  const dir = path.join(CACHE_DIR, `shrunk-${await pipelineFingerprint()}-${width}`);
  const kept: number[] = [];
  for (const i of probes) {
    const w = reference.faces[i]?.detected ? reference.faces[i]!.box![2] : 0;
    if (w <= width) continue;
    kept.push(i);
    const file = path.join(dir, lfw.photos[i]!);
    if (existsSync(file)) continue;
    await mkdir(path.dirname(file), { recursive: true });
    const image = sharp(photoPath(lfw, lfw.photos[i]!)).rotate();
    const { width: imageWidth = 0 } = await image.clone().metadata();
    // Written aside and renamed: another run sharing the cache never reads a half-written probe.
    const partial = `${file}.${process.pid}.jpg`;
    await image
      .resize({ width: Math.max(1, Math.round((imageWidth * width) / w)) })
      .jpeg({ quality: QUALITY })
      .toFile(partial);
    await rename(partial, file);
  }
  return kept;
}

export const shrunkPath = async (lfw: Lfw, width: number, i: number) =>
  path.join(CACHE_DIR, `shrunk-${await pipelineFingerprint()}-${width}`, lfw.photos[i]!);

export async function calibrateLfwBands(
  lfw: Lfw,
  full: EmbeddedSet,
  reference: EmbeddedSet,
  opts: { far: number; fullThreshold: number; flip: FlipMode; workers: number },
): Promise<BandResult[]> {
  const out: BandResult[] = [];
  const probes = bandProbes(lfw);
  for (const band of BANDS) {
    const kept = await shrunk(lfw, reference, probes, band.width);
    const files = await Promise.all(kept.map((i) => shrunkPath(lfw, band.width, i)));
    const small = await embedSet({
      model: full.model,
      names: kept.map((i) => lfw.photos[i]!),
      files,
      flip: opts.flip,
      variant: `face-${band.width}`,
      workers: opts.workers,
    });
    const impostors = new ScoreHistogram();
    const genuine: number[] = [];
    const n = lfw.photos.length;
    kept.forEach((probe, p) => {
      const person = lfw.person[probe]!;
      for (let g = 0; g < n; g++) {
        if (g === probe) continue;
        const s = dot(small.vectors, p, full.vectors, g, full.dims);
        if (lfw.person[g] === person) genuine.push(s);
        else impostors.add(s);
      }
    });
    const chosen = thresholdAtFar(impostors, opts.far);
    const widths = small.faces
      .filter((f) => f?.detected && f.box)
      .map((f) => f!.box![2])
      .sort((a, b) => a - b);
    out.push({
      width: band.width,
      belowWidth: band.belowWidth,
      probes: kept.length,
      detectedWidth: widths.length ? widths[Math.floor(widths.length / 2)]! : NaN,
      noFace: small.faces.filter((f) => f && !f.detected).length + small.failed.length,
      genuinePairs: genuine.length,
      chosen,
      tar: tarAt(genuine, chosen.threshold),
      atFullThreshold: {
        threshold: opts.fullThreshold,
        tar: tarAt(genuine, opts.fullThreshold),
        far: impostors.rateAtLeast(opts.fullThreshold),
      },
    });
    say(
      `${full.model} band ${band.width} px: ${kept.length} probes, threshold ${chosen.threshold} at FAR ${chosen.far.toExponential(1)}`,
    );
  }
  return out;
}
