// Verification accuracy of the built-in models. On LFW dev (--lfw, bench/parts/lfw-run.ts): the
// 10-fold protocol, TAR at FAR over every pair of dev photos, the thresholds chosen at a
// false-accept rate (model and size bands), open-set identification and the levers; a ROC image.
// On the deepface-unit pairs (--data; master.csv, face-recognition-pivot.csv): with alignment
// (detect 'auto') and without (detect 'skip'), next to DeepFace's own Facenet distances.
// Writes docs/accuracy.md (each part replaces its own, the other is kept), the LFW section of
// docs/identification.md, and prints the tables and a JSON summary.
// Run: npm run bench:accuracy -- --data ../shared/datasets/deepface-unit --lfw ../shared/datasets/lfw-dev
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { DetectMode } from '../src/domain/face.js';
import type { FlipMode } from '../src/inference/protocol.js';
import { CROP_MARGIN, marginRegion } from '../src/image/crop.js';
import { createLogger } from '../src/logging/logger.js';
import { EmbeddingService } from '../src/services/embedding.service.js';
import { DEFAULT_FLIP } from '../src/services/embedding-settings.js';
import type { FaceEmbedding } from '../src/services/embedding.types.js';
import {
  bestThreshold,
  confusionAt,
  rocAuc,
  roundedInside,
  type BestThreshold,
  type Confusion,
  type ScoredPair,
} from './accuracy-metrics.js';
import { fastPathLog } from './parts/fast-path-log.js';
import { calibrateBands, type BandCalibration } from './parts/small-faces.js';
import { leverTables, type Upsampled } from './parts/small-face-levers.js';
import { maxDifference, reembed, UPSAMPLERS } from './parts/interpolation.js';
import { loadConfig } from '../src/config/config.js';
import { modelFile } from '../src/models/prepare.js';
import { ModelRegistry } from '../src/models/registry.js';
import { carrySections, section, withSection } from './parts/doc-sections.js';
import { LFW_MODELS, runLfw, type LfwRun } from './parts/lfw-run.js';
import { lfwJson } from './parts/lfw-json.js';
import { rocImage } from './parts/lfw-roc.js';
import {
  LFW_SECTION,
  ROC_IMAGE,
  lfwAccuracySection,
  lfwIdentificationSection,
  withIdentificationSection,
} from './parts/lfw-report.js';

const MODELS = ['facenet', 'arcface', 'hse-faceres'] as const;
/** Which copy of the photos a row embeds: as given, shrunk (LOW_RES), or each one's largest face cut out (CROP). */
type Source = 'photos' | 'lowRes' | 'crops' | 'bands';
/**
 * 'aligned' is the shipped default; the flip rows measure flip-averaging of upsampled chips, the
 * crop rows the tight-crop fast path against BlazeFace on the same crops (issue 12).
 */
const LOW_RES_MODE = 'low-res (160 px wide, JPEG q70)';
const MODES: readonly { mode: DetectMode; label: string; flip?: FlipMode; source?: Source; tightCrops?: false }[] = [
  { mode: 'auto', label: 'aligned' },
  { mode: 'auto', label: 'aligned, flip-averaged when upsampled', flip: 'upsampled' },
  { mode: 'skip', label: 'whole image' },
  { mode: 'auto', label: LOW_RES_MODE, source: 'lowRes' },
  { mode: 'auto', label: 'low-res, flip-averaged when upsampled', source: 'lowRes', flip: 'upsampled' },
  { mode: 'auto', label: 'tight crops (25% margin, 160 px)', source: 'crops' },
  { mode: 'auto', label: 'tight crops, BlazeFace path', source: 'crops', tightCrops: false },
];
/** The low-resolution condition: class-photo faces are this small. */
const LOW_RES = { width: 160, quality: 70 };
/** The tight-crop condition: the largest face cut with a session's margin (src/image/crop.ts), at most this side. */
const CROP = { side: 160, quality: 90 };
const PIVOT = 'face-recognition-pivot.csv';
const MASTER = 'master.csv';
/** DeepFace's default cosine-distance threshold for Facenet: a pair is the same person when distance <= 0.40. */
const DEEPFACE_FACENET = { column: 'Facenet_cosine', threshold: 0.4 };
const TARGET = { best: 0.995, bestAuc: 0.999, other: 0.98 };

/**
 * What the photos behind failing pairs show, looked at by eye; printed beside any pair that
 * fails, so the notes follow the results rather than fix them.
 */
const PHOTO_NOTES: Record<string, string> = {
  'img46.jpg':
    'Katy Perry years younger (2011 Grammys), black hair, heavy coloured eye make-up; a 400x500 photo, so the face chip is upscaled and soft',
  'img28.jpg': 'Katy Perry recent, platinum bob, frontal, sharp',
  'img43.jpg': 'Katy Perry recent, black waved hair, red lips, frontal, sharp',
  'img20.jpg': 'Jeff Bezos, frontal, slight head tilt, sharp',
  'img13.jpg': 'Mark Zuckerberg, frontal studio portrait on white',
  'img14.jpg': 'Mark Zuckerberg, frontal studio portrait on white',
  'img22.jpg': 'Marissa Mayer, frontal, smiling, sharp',
  'img7.jpg': 'Angelina Jolie, frontal, sharp, light studio background',
  'img12.jpg': 'Jennifer Aniston, frontal, blue studio background',
  'img33.jpg': 'Matt Damon, frontal studio portrait, sharp',
  'img35.jpg': 'Leonardo DiCaprio, frontal studio portrait, beard, sharp',
};

/** Judgement on a model's failures, shown only when it has failing pairs. */
const MODEL_NOTES: Record<string, string> = {
  'hse-faceres':
    'Every failing photo is frontal and sharp enough, its face found with a high detector score (table above) and aligned: ' +
    'detection, pose, blur and occlusion are not the cause. The false accepts pair different people of the same sex, age band and ' +
    'colouring (two short-haired or bald men, two blonde women); the false rejects all involve img46, a small, years-older photo with ' +
    'heavy make-up. Thresholds cannot fix it: even the best threshold on the pivot file keeps its false rejects (see "pivot best"). ' +
    "It is the descriptor's limit: HSE FaceRes is a multi-output network (identity descriptor plus age and gender heads), not an " +
    'ArcFace-trained recogniser. Fixes: use facenet (face-api) where accuracy matters, or register a stronger ArcFace-trained ONNX model ' +
    'through FACEEMBED_MODELS_CONFIG; enrolling several recent photos per person narrows img46-like gaps.',
  'faceapi-resnet128':
    'The margin is thin (best pivot interval under 0.01 wide): a pair near the threshold flips with small changes in the chip. ' +
    'Enrol more than one photo per person and keep this benchmark in the release checks.',
};

interface Pair {
  x: string;
  y: string;
  same: boolean;
  distance?: number;
}
interface FaceNote {
  score?: number;
  width?: number;
}
interface Failing {
  x: string;
  y: string;
  same: boolean;
  similarity: number;
  faces: [FaceNote, FaceNote];
}
interface SetResult {
  atDefault: Confusion;
  best: BestThreshold;
  auc: number;
  failing: Failing[];
}
interface Evaluation {
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

async function readPairs(file: string): Promise<Pair[]> {
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

function scoreSet(pairs: readonly Pair[], embeddings: Map<string, FaceEmbedding | null>, threshold: number): SetResult {
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

/** The photos shrunk to LOW_RES (never enlarged), same names, in `outDir`. */
async function lowResCopies(dataDir: string, images: string[], outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  for (const f of images)
    await sharp(path.join(dataDir, f))
      .rotate()
      .resize({ width: LOW_RES.width, withoutEnlargement: true })
      .jpeg({ quality: LOW_RES.quality })
      .toFile(path.join(outDir, f));
}

/**
 * Each photo's largest face (the whole-photo detector) cut with CROP_MARGIN on every side and
 * shrunk to CROP.side, same names, in `outDir`; a photo without a face is shrunk whole.
 */
async function cropCopies(dataDir: string, images: string[], outDir: string, workers: number): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const service = new EmbeddingService({ workers, logger: createLogger('silent') });
  try {
    for (const f of images) {
      const file = path.join(dataDir, f);
      const faces = await service.detectFaces(file);
      const face = faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
      const { data, info } = await sharp(file).rotate().toBuffer({ resolveWithObject: true });
      const [left, top, width, height] = face
        ? marginRegion(face.box, info.width, info.height, CROP_MARGIN)
        : [0, 0, info.width, info.height];
      await sharp(data)
        .extract({ left, top, width, height })
        .resize(CROP.side, CROP.side, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: CROP.quality })
        .toFile(path.join(outDir, f));
    }
  } finally {
    await service.close();
  }
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

/** The master pairs that the pivot file does not also hold (in either order). */
function heldOut(master: Pair[], pivot: Pair[]): Pair[] {
  const key = (p: Pair) => [p.x, p.y].sort().join('|');
  const inPivot = new Set(pivot.map(key));
  return master.filter((p) => !inPivot.has(key(p)));
}

/** An image that could not be embedded rejects its pairs (lowest cosine). */
function pairScore(p: Pair, embeddings: Map<string, FaceEmbedding | null>): number {
  const a = embeddings.get(p.x);
  const b = embeddings.get(p.y);
  return a && b ? EmbeddingService.cosineSimilarity(a.embedding, b.embedding) : -1;
}

function deepfaceReference(pivot: Pair[]) {
  // Scored as -distance so that "accept when score >= threshold" matches DeepFace's distance <= threshold.
  const scored: ScoredPair[] = pivot.map((p) => ({ same: p.same, score: -(p.distance ?? NaN) }));
  const best = bestThreshold(scored, { min: -2, max: 0 });
  return {
    atDefault: confusionAt(scored, -DEEPFACE_FACENET.threshold),
    best: { ...best, threshold: -best.threshold },
    auc: rocAuc(scored),
  };
}

const pct = (c: Confusion | { accuracy: number }) => `${(c.accuracy * 100).toFixed(1)}%`;
const errs = (c: Confusion) => `${c.falseAccepts} / ${c.falseRejects}`;
const f3 = (v: number) => v.toFixed(3);
const f4 = (v: number) => v.toFixed(4);

function table(evals: Evaluation[], ref: ReturnType<typeof deepfaceReference>): string {
  const rows = [
    '| model | mode | threshold | master acc | master FA / FR | pivot acc | pivot FA / FR | master best (thr) | pivot best (thr) | master AUC | pivot AUC | no face | fast path |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...evals.map(
      (e) =>
        `| ${e.alias} (${e.model}) | ${e.mode} | ${f3(e.threshold)} | ${pct(e.master.atDefault)} | ${errs(e.master.atDefault)} | ${pct(e.pivot.atDefault)} | ${errs(e.pivot.atDefault)} | ` +
        `${pct(e.master.best)} (${f3(e.master.best.threshold)}) | ${pct(e.pivot.best)} (${f3(e.pivot.best.threshold)}) | ${f4(e.master.auc)} | ${f4(e.pivot.auc)} | ` +
        `${e.mode === 'whole image' ? 'n/a' : e.noFace.length}${e.failedImages.length ? `, ${e.failedImages.length} failed` : ''} | ` +
        `${e.mode === 'whole image' ? 'n/a' : e.fastPath.length} |`,
    ),
    `| DeepFace Facenet (reference, CSV distances) | DeepFace pipeline | distance ${DEEPFACE_FACENET.threshold.toFixed(2)} | n/a | n/a | ${pct(ref.atDefault)} | ${errs(ref.atDefault)} | n/a | ` +
      `${pct(ref.best)} (distance ${f3(ref.best.threshold)}) | n/a | ${f4(ref.auc)} | n/a | n/a |`,
  ];
  return rows.join('\n');
}

/** Which photos took the fast path in the first model's rows where only a few did (full-size and low-res photos). */
function fastPathNote(evals: Evaluation[]): string {
  const rows = evals.filter((e) => e.alias === evals[0]?.alias && e.fastPath.length > 0 && e.fastPath.length < 10);
  const byList = new Map<string, string[]>();
  for (const e of rows) byList.set(e.fastPath.join(', '), [...(byList.get(e.fastPath.join(', ')) ?? []), e.mode]);
  return [...byList].map(([names, modes]) => `; ${names} in ${modes.map((m) => `"${m}"`).join(', ')}`).join('');
}

function targets(aligned: Evaluation[]): { lines: string[]; met: boolean } {
  const worst = (e: Evaluation) => Math.min(e.master.atDefault.accuracy, e.pivot.atDefault.accuracy);
  const [best, other] = [...aligned].sort((a, b) => worst(b) - worst(a) || b.pivot.auc - a.pivot.auc);
  const bestOk = worst(best!) >= TARGET.best && Math.min(best!.master.auc, best!.pivot.auc) >= TARGET.bestAuc;
  const otherOk = !other || worst(other) >= TARGET.other;
  const lines = [
    `- best built-in, ${best!.alias}: >= ${TARGET.best * 100}% on both files at its shipped threshold and AUC >= ${TARGET.bestAuc}: ` +
      `${pct({ accuracy: worst(best!) })} worst file, AUC ${f4(Math.min(best!.master.auc, best!.pivot.auc))} — ${bestOk ? 'met' : 'MISSED'}`,
    ...(other
      ? [
          `- the other, ${other.alias}: >= ${TARGET.other * 100}% on both files: ${pct({ accuracy: worst(other) })} worst file — ${otherOk ? 'met' : 'MISSED'}`,
        ]
      : []),
  ];
  return { lines, met: bestOk && otherOk };
}

function failingSection(aligned: Evaluation[]): string[] {
  const out: string[] = [];
  for (const e of aligned) {
    const seen = new Set<string>();
    const rows = [
      ...e.master.failing.map((f) => ({ ...f, file: MASTER })),
      ...e.pivot.failing.map((f) => ({ ...f, file: PIVOT })),
    ];
    out.push(`### ${e.alias} (${e.model}), aligned, threshold ${f3(e.threshold)}`, '');
    if (!rows.length) {
      out.push('No pair fails on either file.', '');
      continue;
    }
    const faceText = (n: FaceNote) =>
      n.score === undefined ? 'none' : `${Math.round(n.width ?? 0)} px, ${f3(n.score)}`;
    out.push(
      '| file | pair | truth | similarity | error | faces (width, detector score) |',
      '|---|---|---|---|---|---|',
    );
    for (const r of rows.sort((a, b) => a.similarity - b.similarity)) {
      out.push(
        `| ${r.file} | ${r.x} – ${r.y} | ${r.same ? 'same' : 'different'} | ${f4(r.similarity)} | ${r.same ? 'false reject' : 'false accept'} | ` +
          `${faceText(r.faces[0])}; ${faceText(r.faces[1])} |`,
      );
      seen.add(r.x).add(r.y);
    }
    const notes = [...seen].filter((f) => PHOTO_NOTES[f]).map((f) => `- ${f}: ${PHOTO_NOTES[f]}`);
    out.push('', ...(notes.length ? ['What the photos show:', '', ...notes] : ['No notes on these photos yet.']), '');
    if (MODEL_NOTES[e.model]) out.push(`Why, and what would fix it: ${MODEL_NOTES[e.model]}`, '');
  }
  return out;
}

interface Flags {
  data?: string | undefined;
  lfw?: string | undefined;
  out: string;
  'id-out': string;
  workers: string;
}

const machine = () => {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${os.platform()} ${os.release()}`;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      lfw: { type: 'string' },
      'lfw-models': { type: 'string', default: LFW_MODELS.join(',') },
      /** Leaves out the flip-averaging lever (a second embedding pass of every photo). */
      'lfw-skip-flip': { type: 'boolean', default: false },
      /** Leaves out the channel-order check (a second embedding pass with RGB and BGR swapped). */
      'lfw-skip-channel-order': { type: 'boolean', default: false },
      out: { type: 'string', default: 'docs/accuracy.md' },
      'id-out': { type: 'string', default: 'docs/identification.md' },
      workers: { type: 'string', default: '2' },
    },
  });
  if (!values.data && !values.lfw)
    throw new Error(
      '--data DIR (the deepface-unit folder) or --lfw DIR (the lfw-dev folder) is required, e.g. --data ../shared/datasets/deepface-unit --lfw ../shared/datasets/lfw-dev',
    );
  const command = `npm run bench:accuracy -- ${process.argv.slice(2).join(' ')}`;
  const old = await readFile(values.out, 'utf8').catch(() => '');
  // LFW first: it decides the shipped thresholds; its sections are written as soon as they are measured.
  let lfwSection: string | undefined;
  if (values.lfw) {
    const run = await runLfw(path.resolve(values.lfw), Number(values.workers), values['lfw-models'].split(','), {
      flip: !values['lfw-skip-flip'],
      channelOrder: !values['lfw-skip-channel-order'],
    });
    lfwSection = section(LFW_SECTION, lfwAccuracySection(run, command, machine()));
    await writeFile(values.out, withSection(old, LFW_SECTION, lfwSection).trimEnd() + '\n');
    await rocImage(run, path.join(path.dirname(values.out), ROC_IMAGE));
    const ids = await readFile(values['id-out'], 'utf8').catch(() => '');
    await writeFile(values['id-out'], withIdentificationSection(ids, lfwIdentificationSection(run, command)));
    printLfw(run);
  }
  if (!values.data) return;
  const doc = await deepface(values as Flags & { data: string }, command);
  const current = await readFile(values.out, 'utf8').catch(() => '');
  await writeFile(
    values.out,
    (lfwSection ? withSection(doc, LFW_SECTION, lfwSection) : carrySections(current, doc, [LFW_SECTION])).trimEnd() +
      '\n',
  );
}

function printLfw(run: LfwRun): void {
  console.log(JSON.stringify(lfwJson(run), null, 2));
}

/** The deepface-unit part of the document (its LFW section left empty for main to fill or carry). */
async function deepface(values: Flags & { data: string }, command: string): Promise<string> {
  const dataDir = path.resolve(values.data);
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
    await cropCopies(dataDir, images, dirs.crops, Number(values.workers));
    for (const alias of MODELS) {
      const run = await evaluateModel(alias, dirs, images, master, pivot, Number(values.workers));
      evals.push(...run.evals);
      bands.set(alias, run.bands);
    }
    upsampled = await upsampleLowRes(evals, dirs.lowRes, images);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const ref = deepfaceReference(pivot);
  const aligned = evals.filter((e) => e.mode === 'aligned');
  const goal = targets(aligned);
  const tableText = table(evals, ref);
  const heldOutPairs = heldOut(master, pivot);
  const heldOutCount = heldOutPairs.length;
  const heldOutSame = heldOutPairs.filter((p) => p.same).length;
  const doc = [
    '# Verification accuracy',
    '',
    '<!-- Generated by bench/accuracy.ts; edits are overwritten on the next run. -->',
    '',
    section(LFW_SECTION, ''),
    '',
    '## deepface-unit',
    '',
    `Made by \`${command}\` on ${new Date().toISOString().slice(0, 10)}: ${machine()}; ${images.length} photos embedded once per model and mode, ${values.workers} workers; embedding took ${seconds.toFixed(0)} s.`,
    '',
    `Data: deepface-unit (photos and pairs from serengil/deepface tests): ${MASTER} ${master.length} pairs (${master.filter((p) => p.same).length} same person), ` +
      `${PIVOT} ${pivot.length} pairs (${pivot.filter((p) => p.same).length} same person).`,
    '',
    '## Results',
    '',
    tableText,
    '',
    '- *threshold*: the model\'s shipped default (src/models/registry.ts); cosine similarity >= threshold means "same person".',
    '- *FA / FR*: false accepts (different people taken as one) / false rejects (one person taken as two) at that threshold.',
    '- *best (thr)*: the best accuracy any threshold reaches on that file alone, and that threshold: an upper bound, tuned on the answers.',
    "- *aligned*: detect 'auto', the largest face aligned to the model's template; *whole image*: detect 'skip', the photo letterboxed to the input.",
    `- *low-res*: every photo first shrunk to ${LOW_RES.width} px wide and saved as JPEG q${LOW_RES.quality} (faces of class-photo size), then aligned as above; ` +
      "*flip-averaged when upsampled*: a chip cut from a face smaller than the model's input is embedded with its mirror image and the two vectors averaged.",
    `- *tight crops*: each photo's largest face (the whole-photo detector) cut with a session's ${CROP_MARGIN * 100}% margin and shrunk to ${CROP.side} px (JPEG q${CROP.quality}); ` +
      '*BlazeFace path*: the same crops with the tight-crop fast path off (FACEEMBED_TIGHT_CROPS=false).',
    '- *no face*: photos where detection found no face (embedded whole instead).',
    `- *fast path*: images taken for tight crops, aligned from FaceMesh alone with BlazeFace skipped (src/detect/tight-crop.ts)${fastPathNote(evals)}.`,
    `- Always answering "different" scores ${pct({ accuracy: master.filter((p) => !p.same).length / master.length })} on ${MASTER}: read the AUC and both error kinds, not accuracy alone.`,
    `- DeepFace Facenet: the ${DEEPFACE_FACENET.column} distances stored in ${PIVOT}, at DeepFace's default (distance <= ${DEEPFACE_FACENET.threshold}).`,
    '',
    ...leverTables(evals, bands, master, pivot, { lowRes: LOW_RES, upsampled: upsampled ?? new Map() }),
    '## Best-accuracy thresholds on the pivot pairs (for comparison)',
    '',
    'The shipped thresholds are chosen at a false-accept rate on LFW dev ("LFW" above), over millions of pairs of real photos. ' +
      `For comparison, the earlier rule on the ${PIVOT} pairs only, with alignment: the thresholds that reach the best accuracy form intervals between two consecutive pair similarities; ` +
      'the widest such interval is taken and its midpoint, rounded to 3 decimals while staying inside the interval. ' +
      `The midpoint leaves equal margin to the closest same-person and different-person pair. ${MASTER} is never used to tune; ` +
      `it shares ${master.length - heldOutCount} pairs and all its photos with the pivot file, so the held-out check proper is its other ${heldOutCount} pairs ` +
      `(${heldOutSame} same person${heldOutSame === 0 ? ': they test false accepts only' : ''}).`,
    '',
    `With ${images.length} photos of about a dozen people such thresholds are a start, not a guarantee: a deployment should re-run the calibration on its own photos.`,
    '',
    '| model | best interval on pivot | calibrated | shipped | master acc at calibrated | held-out master pairs at calibrated (FA / FR) |',
    '|---|---|---|---|---|---|',
    ...aligned.map(
      (e) =>
        `| ${e.alias} | (${f4(e.pivot.best.low)}, ${f4(e.pivot.best.high)}] | ${f3(e.calibrated)} | ${f3(e.threshold)} | ` +
        `${pct(e.masterAtCalibrated)} | ${pct(e.heldOutAtCalibrated)} (${errs(e.heldOutAtCalibrated)}) |`,
    ),
    '',
    '## Targets',
    '',
    ...goal.lines,
    '',
    '## Pairs that fail at the shipped thresholds',
    '',
    ...failingSection(aligned),
  ].join('\n');
  console.log(tableText);
  console.log(
    JSON.stringify(
      {
        command,
        seconds: Math.round(seconds),
        targetsMet: goal.met,
        models: evals.map((e) => ({
          model: e.alias,
          mode: e.mode,
          threshold: e.threshold,
          calibrated: e.calibrated,
          heldOutMasterAtCalibrated: e.heldOutAtCalibrated,
          master: {
            ...e.master.atDefault,
            bestAccuracy: e.master.best.accuracy,
            bestThreshold: e.master.best.threshold,
            auc: e.master.auc,
          },
          pivot: {
            ...e.pivot.atDefault,
            bestAccuracy: e.pivot.best.accuracy,
            bestThreshold: e.pivot.best.threshold,
            bestInterval: [e.pivot.best.low, e.pivot.best.high],
            auc: e.pivot.auc,
          },
          noFace: e.noFace,
          fastPath: e.fastPath,
          failedImages: e.failedImages,
          seconds: Math.round(e.seconds),
        })),
        deepfaceFacenet: {
          ...ref.atDefault,
          bestAccuracy: ref.best.accuracy,
          bestDistance: ref.best.threshold,
          auc: ref.auc,
        },
      },
      null,
      2,
    ),
  );
  return doc;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
