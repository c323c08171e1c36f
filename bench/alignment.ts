// bench:alignment — each network's chip against its recipe, on the LFW dev photos.
// 1. Pixels: dlib's own chip (bench/dlib-chip/chip.cpp: get_face_chip_details(shape, 150, 0.25)
//    + extract_image_chip, with dlib's 68 landmarks) against ours from the same landmarks, and
//    against the chips our detector's five points give.
// 2. Accuracy: every photo of pairs.csv embedded once per chip variant (bench/parts/
//    alignment-variants.ts), 5-fold accuracy (threshold from four folds) and AUC, and the
//    accuracy at the registry's shipped threshold, alone and with its size bands (the band of
//    the pair's narrower face). The variant the product cuts and feeds is marked "(shipped)".
// Flags: --pixels N (photos for part 1, default 200; 0 skips), --no-lfw (part 1 only),
// --limit N (first N pairs of each fold for part 2), --dlib68 (part 2 also with dlib's landmarks),
// --models facenet,arcface (the networks whose variants part 2 measures).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { arcfaceTemplate, boxWarp, landmarkBox } from '../src/detect/alignment.js';
import { dlibFaceChipDetails, dlibFivePointTemplate } from '../src/detect/dlib-chip.js';
import { extractDlibChip } from '../src/detect/dlib-resample.js';
import { warpRgb } from '../src/detect/resample.js';
import type { DetectedFace, Point } from '../src/domain/face.js';
import { thresholdForFace } from '../src/domain/face-threshold.js';
import { DEFAULT_LIMITS, decodeImage, decodeSquare, type RgbImage } from '../src/image/decode.js';
import { embedChips } from '../src/inference/worker/embed-chip.js';
import { FaceDetector } from '../src/inference/worker/face-detector.js';
import { OnnxSession } from '../src/inference/worker/session.js';
import { modelFile } from '../src/models/prepare.js';
import { ModelRegistry, type ModelSpec } from '../src/models/registry.js';
import { confusionAt } from './accuracy-metrics.js';
import {
  ARCFACE_VARIANTS,
  FACENET_VARIANTS,
  inputLabel,
  isShipped,
  templateResidual,
  variantInput,
  type PhotoFace,
} from './parts/alignment-variants.js';
import { REPO, quantile, round } from './parts/common.js';
import { DlibReference, fivePointsOf68, pixelDifference, referenceMissing } from './parts/dlib-reference.js';
import { cosine, foldAccuracy, lfwDevDir, readPairs } from './parts/lfw-folds.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const PIXEL_PHOTOS = option('--pixels', 200);
const MODELS = argv.includes('--models') ? argv[argv.indexOf('--models') + 1]!.split(',') : ['facenet', 'arcface'];
const LIMIT = option('--limit', Infinity);
const MODELS_DIR = path.join(REPO, 'data/models');
const CACHE = path.join(os.tmpdir(), 'faceembed-bench-alignment');

const area = (f: DetectedFace) => f.box[2] * f.box[3];

/** The face the worker's 'auto' mode takes: a tight crop's, else the largest detected; undefined: none. */
async function workerFace(detector: FaceDetector, image: RgbImage): Promise<DetectedFace | undefined> {
  const crop = await detector.tightCrop(image);
  if (crop.face) return crop.face;
  const faces = await detector.detect(image);
  return faces.reduce<DetectedFace | undefined>((best, f) => (!best || area(f) > area(best) ? f : best), undefined);
}

async function cached<T>(name: string, make: () => Promise<T>): Promise<T> {
  const file = path.join(CACHE, name);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    const value = await make();
    await mkdir(CACHE, { recursive: true });
    await writeFile(file, JSON.stringify(value));
    return value;
  }
}

const decode = async (file: string) => (await decodeImage(file, DEFAULT_LIMITS, 1024)).image;

interface OurFace {
  five: Point[];
  /** Box width in photo pixels: the size band the face falls in. */
  width: number;
}

/** Our detector's face per photo (null: no face), as the worker finds it. */
async function detectAll(detector: FaceDetector, dir: string, photos: readonly string[]) {
  const key = `faces-${detector.versions.blazeface}-${detector.versions.facemesh}-${photos.length}.json`;
  return cached(key, async () => {
    const out: Record<string, OurFace | null> = {};
    for (const [i, photo] of photos.entries()) {
      const face = await workerFace(detector, await decode(path.join(dir, 'img', photo)));
      out[photo] = face ? { five: face.landmarks, width: face.box[2] } : null;
      if (i % 500 === 0) console.error(`detected ${i}/${photos.length}`);
    }
    return out;
  });
}

/** dlib's 68 landmarks per photo (HOG face nearest the centre, else our face's box); null: none. */
async function dlibLandmarks(ref: DlibReference, dir: string, photos: readonly string[]) {
  return cached(`dlib68-${photos.length}.json`, async () => {
    const out: Record<string, Point[] | null> = {};
    for (const [i, photo] of photos.entries()) {
      out[photo] = (await ref.landmarks(await ref.upload(await decode(path.join(dir, 'img', photo))))) ?? null;
      if (i % 500 === 0) console.error(`dlib landmarks ${i}/${photos.length}`);
    }
    return out;
  });
}

const stats = (values: readonly number[]) =>
  values.length
    ? `max ${round(Math.max(...values), 3)}, mean ${round(values.reduce((s, v) => s + v, 0) / values.length, 4)}, p95 ${round(quantile(values, 0.95), 3)}`
    : 'none';

/** Part 1: chip pixels, ours against dlib's, on every k-th photo. */
async function pixelProof(
  ref: DlibReference,
  dir: string,
  photos: readonly string[],
  faces: Record<string, OurFace | null>,
) {
  const step = Math.max(1, Math.floor(photos.length / PIXEL_PHOTOS));
  const picked = photos.filter((_, i) => i % step === 0).slice(0, PIXEL_PHOTOS);
  const rows = { same68: [] as number[], same68Mean: [] as number[], same5: [] as number[], same5Mean: [] as number[] };
  const production = { dlib5: [] as number[], box: [] as number[], dlib5From68: [] as number[] };
  const residual: number[] = [];
  let none = 0;
  for (const photo of picked) {
    const image = await decode(path.join(dir, 'img', photo));
    const raw = await ref.upload(image);
    const p68 = await ref.landmarks(raw);
    if (!p68) {
      none++;
      continue;
    }
    const theirs = await ref.chip68(raw, p68, 150, 0.25);
    const ours = extractDlibChip(image, dlibFaceChipDetails(p68, 150, 0.25)).pixels;
    const d68 = pixelDifference(theirs.pixels, ours);
    rows.same68.push(d68.max);
    rows.same68Mean.push(d68.mean);
    const f5 = fivePointsOf68(p68);
    const theirs5 = await ref.chipFit(raw, dlibFivePointTemplate(150, 0.25), f5, 150);
    const d5 = pixelDifference(theirs5.pixels, extractDlibChip(image, dlibFaceChipDetails(f5, 150, 0.25)).pixels);
    rows.same5.push(d5.max);
    rows.same5Mean.push(d5.mean);
    production.dlib5From68.push(pixelDifference(theirs.pixels, theirs5.pixels).mean);
    const ourFive = faces[photo]?.five;
    if (ourFive) {
      const chip = extractDlibChip(image, dlibFaceChipDetails(ourFive, 150, 0.25)).pixels;
      production.dlib5.push(pixelDifference(theirs.pixels, chip).mean);
      production.box.push(pixelDifference(theirs.pixels, warpRgb(image, boxWarp(landmarkBox(ourFive), 150), 150)).mean);
      residual.push(templateResidual(ourFive, dlibFivePointTemplate(150, 0.25)));
    }
  }
  console.log(`\n## Chip pixels against dlib 19.24 (${picked.length} LFW dev photos, ${none} without a dlib face)\n`);
  console.log('| comparison | per-photo max abs diff | per-photo mean abs diff |');
  console.log('|---|---|---|');
  console.log(
    `| ours vs dlib, same 68 landmarks (get_face_chip_details) | ${stats(rows.same68)} | ${stats(rows.same68Mean)} |`,
  );
  console.log(
    `| ours vs dlib, same five points (chip_details on our template) | ${stats(rows.same5)} | ${stats(rows.same5Mean)} |`,
  );
  console.log("\nHow far other chips are from dlib's chip on its own 68 landmarks (per-photo mean abs diff, 0-255):\n");
  console.log('| chip | per-photo mean abs diff |');
  console.log('|---|---|');
  console.log(`| dlib recipe, five points taken from dlib's 68 | ${stats(production.dlib5From68)} |`);
  console.log(`| dlib recipe, our detector's five points | ${stats(production.dlib5)} |`);
  console.log(`| landmark box (face-api), our detector's five points | ${stats(production.box)} |`);
  console.log(`\nOur five points against the five-point dlib template: RMS residual ${stats(residual)} chip px`);
}

async function loadModel(registry: ModelRegistry, name: string) {
  const spec = registry.get(name);
  const file = await modelFile(spec, MODELS_DIR);
  const session = await OnnxSession.load(file.path, { threads: 2 }, spec.output ? { output: spec.output } : {});
  return { spec, session };
}

const bandsLabel = (spec: ModelSpec) =>
  `${spec.threshold}${(spec.sizeBands ?? []).map((b) => `, ${b.threshold} below ${b.belowWidth} px`).join('')}`;

/** Part 2: every variant's embeddings of every photo, then the 5-fold protocol. */
async function lfwAccuracy(
  dir: string,
  photos: readonly string[],
  faces: Record<string, OurFace | null>,
  dlib68: Record<string, Point[] | null> | undefined,
  pairs: Awaited<ReturnType<typeof readPairs>>,
) {
  const registry = new ModelRegistry();
  const models = { facenet: await loadModel(registry, 'facenet'), arcface: await loadModel(registry, 'arcface') };
  const variants = [...FACENET_VARIANTS, ...ARCFACE_VARIANTS].filter(
    (v) => MODELS.includes(v.model) && (dlib68 || v.needs !== 'dlib68'),
  );
  const vectors = variants.map(() => new Map<string, Float32Array>());
  const missing = variants.map(() => 0);
  const residual: number[] = [];
  for (const [i, photo] of photos.entries()) {
    const file = path.join(dir, 'img', photo);
    const image = await decode(file);
    const points = faces[photo]?.five;
    const face: PhotoFace | undefined = points
      ? { five: points, ...(dlib68?.[photo] ? { dlib68: dlib68[photo]! } : {}) }
      : undefined;
    if (points) residual.push(templateResidual(points, arcfaceTemplate(1)));
    for (const [k, v] of variants.entries()) {
      const model = models[v.model];
      const spec: ModelSpec = { ...model.spec, input: variantInput(v, model.spec) };
      let chip = face ? v.chip(image, face) : undefined;
      if (!chip) {
        // As the worker does without a face: the whole photo as a tight crop.
        if (face) missing[k]!++;
        chip = (await decodeSquare(file, spec.input.size)).image.data;
      }
      const [e] = await embedChips({ spec, session: model.session }, [{ pixels: chip, flip: false }]);
      vectors[k]!.set(photo, e!);
    }
    if (i % 500 === 0) console.error(`embedded ${i}/${photos.length}`);
  }
  console.log(
    `\n## LFW dev, ${pairs.length} pairs, 5-fold protocol (threshold from four folds), ${photos.length} photos\n`,
  );
  console.log(`Photos without a face of ours: ${Object.values(faces).filter((p) => !p).length} (whole photo used)`);
  console.log(`ArcFace template residual of our five points (RMS, 112 px chip): ${stats(residual)}\n`);
  // A pair's size band is its narrower face's, as bench/parts/small-faces.ts decides pairs.
  const narrower = pairs.map((p) => {
    const widths = [faces[p.a]?.width, faces[p.b]?.width].filter((w): w is number => w !== undefined);
    return widths.length ? Math.min(...widths) : null;
  });
  for (const name of MODELS) {
    const spec = models[name as keyof typeof models].spec;
    const used = new Map<number, number>();
    for (const t of narrower.map((w) => thresholdForFace(spec, w))) used.set(t, (used.get(t) ?? 0) + 1);
    const counts = [...used].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t}: ${n}`);
    console.log(`${name} shipped threshold ${bandsLabel(spec)}; pairs per threshold: ${counts.join(', ')}`);
  }
  console.log(
    '\n| model | chip and input | 5-fold accuracy | sd | AUC | at shipped threshold | with its size bands | photos lacking landmarks |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  variants.forEach((v, k) => {
    const spec = models[v.model].spec;
    const scored = pairs.map((p) => ({
      score: cosine(vectors[k]!.get(p.a)!, vectors[k]!.get(p.b)!),
      same: p.same,
      fold: p.fold,
    }));
    const r = foldAccuracy(scored, spec.threshold);
    const banded = confusionAt(
      scored.map((p, i) => ({ same: p.same, score: p.score - thresholdForFace(spec, narrower[i]) })),
      0,
    ).accuracy;
    const pct = (x: number) => `${round(x * 100, 2)}%`;
    const label = `${v.name}, ${inputLabel(variantInput(v, spec))}${isShipped(v, spec) ? ' (shipped)' : ''}`;
    console.log(
      `| ${v.model} | ${label} | ${pct(r.accuracy)} | ${pct(r.sd)} | ${round(r.auc, 5)} | ${pct(r.atThreshold!)} | ${pct(banded)} | ${missing[k]} |`,
    );
  });
}

async function main(): Promise<void> {
  const dir = lfwDevDir();
  if (!dir) {
    console.log('LFW dev not found (../shared/datasets/lfw-dev or FACEEMBED_LFW_DEV): nothing to measure');
    return;
  }
  const all = await readPairs(dir);
  const pairs = Number.isFinite(LIMIT)
    ? [...new Set(all.map((p) => p.fold))].flatMap((k) => all.filter((p) => p.fold === k).slice(0, LIMIT))
    : all;
  const photos = [...new Set(pairs.flatMap((p) => [p.a, p.b]))].sort();
  const detector = await FaceDetector.load(MODELS_DIR, 2);
  const faces = await detectAll(detector, dir, photos);
  const why = await referenceMissing();
  const ref = why ? undefined : await DlibReference.start();
  if (why) console.log(`dlib reference skipped: ${why}`);
  try {
    if (ref && PIXEL_PHOTOS > 0) await pixelProof(ref, dir, photos, faces);
    if (flag('--no-lfw')) return;
    const dlib68 = ref && flag('--dlib68') ? await dlibLandmarks(ref, dir, photos) : undefined;
    await lfwAccuracy(dir, photos, faces, dlib68, pairs);
  } finally {
    await ref?.close();
    await detector.release();
  }
}

await main();
