// The tight-crop fast path (FaceMesh alone) against the BlazeFace path, in one run: batch faces/s
// and warm single-image latency through the library, on the suite's 1.3x crops and on the 160 px
// crops a session stores (25% margin), each with `tightCrops` on and off (FACEEMBED_TIGHT_CROPS),
// and on the fast path with 1, 8 and 32 images per worker task (one batch tensor each).
import { DEFAULT_IMAGES_PER_TASK, EmbeddingService } from '../../src/services/embedding.service.js';
import type { Latency, Target } from './common.js';
import { fastPathLog } from './fast-path-log.js';
import { libraryBatch, librarySingle, splitName, type BatchResult, type Split } from './library.js';

export interface CropSet {
  label: string;
  files: string[];
  /** Median longest side, px. */
  side: number;
}

export interface TightCropRow {
  model: string;
  set: string;
  fastPath: boolean;
  /** Images per worker task (absent in runs made before batched tasks: 1). */
  imagesPerTask?: number;
  batch: BatchResult;
  /** Measured once per model, set and path (a single image is one task whatever the batch size). */
  single?: Latency & { split: string };
}

/** Batch sizes measured on the fast path, side by side; the BlazeFace path runs with the shipped one. */
export const TASK_SIZES = [1, 8, 32];

export interface FastPathShare {
  set: string;
  /** Median longest side, px. */
  side: number;
  crops: number;
  /** Took the fast path; of them, confirmed by a second FaceMesh pass. */
  fast: number;
  twoPasses: number;
  /** Embedded whole: no face on either path. */
  noFace: number;
}

export interface TightCropsResult {
  split: string;
  share: FastPathShare[];
  rows: TightCropRow[];
}

export interface TightCropsOptions {
  models: string[];
  modelsDir: string;
  split: Split;
  sets: CropSet[];
  /** Embeddings per batch run, runs, single-image requests. */
  count: number;
  repeats: number;
  single: number;
  say: (message: string) => void;
}

/** Which crops of each set take the fast path: one untimed pass, read from the worker's debug step lines. */
async function shares(opts: TightCropsOptions): Promise<FastPathShare[]> {
  const out: FastPathShare[] = [];
  for (const set of opts.sets) {
    const track = fastPathLog();
    const s = new EmbeddingService({ modelName: opts.models[0], logger: track.logger, modelsDir: opts.modelsDir });
    try {
      const results = await s.generateEmbeddingsBatch(set.files);
      const verdicts = track.verdicts();
      const fast = set.files.filter((f) => verdicts.get(f)?.tight);
      out.push({
        set: set.label,
        side: set.side,
        crops: set.files.length,
        fast: fast.length,
        twoPasses: fast.filter((f) => verdicts.get(f)!.meshPasses > 1).length,
        noFace: results.filter((r) => r && !r.face.detected).length,
      });
    } finally {
      await s.close();
    }
  }
  return out;
}

export async function runTightCrops(opts: TightCropsOptions): Promise<TightCropsResult> {
  const share = await shares(opts);
  const rows: TightCropRow[] = [];
  const variants = [
    { fastPath: false, imagesPerTask: DEFAULT_IMAGES_PER_TASK },
    ...TASK_SIZES.map((imagesPerTask) => ({ fastPath: true, imagesPerTask })),
  ];
  for (const model of opts.models) {
    for (const set of opts.sets) {
      const timed = new Set<boolean>();
      for (const { fastPath, imagesPerTask } of variants) {
        const lib = { model, modelsDir: opts.modelsDir, tightCrops: fastPath, imagesPerTask };
        opts.say(
          `${model}: ${set.label} crops, ${fastPath ? 'fast path' : 'BlazeFace path'}, ${imagesPerTask} per task`,
        );
        const batch = await libraryBatch(lib, opts.split, set.files, opts.count, opts.repeats);
        const single = timed.has(fastPath) ? undefined : await librarySingle(lib, opts.split, set.files, opts.single);
        timed.add(fastPath);
        rows.push({ model, set: set.label, fastPath, imagesPerTask, batch, ...(single ? { single } : {}) });
      }
    }
  }
  return { split: splitName(opts.split), share, rows };
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');

/** Issue 12's tight-crop targets (2 cores), on the fast path. */
export function tightCropTargets(r: TightCropsResult): Target[] {
  // The shipped configuration: the fast path, the default images per task; latency from its single-image run.
  const shipped = (x: TightCropRow) => x.fastPath && (x.imagesPerTask ?? 1) === DEFAULT_IMAGES_PER_TASK;
  const row = (model: string, set: string) =>
    r.rows.find((x) => x.model === model && x.set === set && shipped(x)) ??
    r.rows.find((x) => x.model === model && x.set === set && x.fastPath);
  const single = (model: string, set: string) =>
    r.rows.find((x) => x.model === model && x.set === set && x.fastPath && x.single)?.single;
  const throughput = (id: string, model: string, set: string, min: number): Target[] => {
    const x = row(model, set);
    if (!x) return [];
    const fps = x.batch.facesPerSecond;
    const what = `'${model}' ${set} crops through the library`;
    return [{ id, what, target: `>= ${min} faces/s`, measured: `${f1(fps)} faces/s`, met: fps >= min }];
  };
  const small = single('facenet', SMALL_SET);
  return [
    ...throughput('tight-facenet-160', 'facenet', SMALL_SET, 180),
    ...(small
      ? [
          {
            id: 'tight-latency-160',
            what: `'facenet' ${SMALL_SET} crops, warm single image p50`,
            target: '<= 10 ms',
            measured: `${f1(small.p50)} ms`,
            met: small.p50 <= 10,
          },
        ]
      : []),
    ...throughput('tight-arcface-160', 'arcface', SMALL_SET, 110),
    ...throughput('tight-facenet-large', 'facenet', LARGE_SET, 100),
  ];
}

/** Labels of the two crop sets (the targets name them). */
export const SMALL_SET = '160 px, 25% margin';
export const LARGE_SET = '1.3x box';

/** The section; `withTargets` false when the report's own targets table lists them. */
export function tightCropsSection(r: TightCropsResult, withTargets = true): string {
  const table = (head: string[], rows: (string | number)[][]) =>
    [
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...rows.map((x) => `| ${x.join(' | ')} |`),
    ].join('\n');
  const rows = r.rows.map((x) => [
    `\`${x.model}\``,
    x.set,
    x.fastPath ? 'FaceMesh alone (fast path)' : 'BlazeFace + FaceMesh',
    x.imagesPerTask ?? 1,
    f1(x.batch.facesPerSecond),
    x.batch.runs.join(', '),
    x.single ? `${f1(x.single.p50)} / ${f1(x.single.p95)}` : '',
    `${x.batch.otherCores.toFixed(2)} / ${x.single ? (x.single.otherCores ?? NaN).toFixed(2) : ''}`,
  ]);
  const shares = r.share.map(
    (s) =>
      `- ${s.set} (median ${s.side} px): ${s.fast} of ${s.crops} crops took the fast path (${s.twoPasses} of them confirmed by a second FaceMesh pass); ` +
      `${s.noFace} had no face on either path and were embedded whole.`,
  );
  const targets = withTargets ? tightCropTargets(r) : [];
  return [
    '## Tight crops: FaceMesh alone against BlazeFace + FaceMesh',
    '',
    `Library, warm pool of the ${r.split} split, the same crops both ways: \`tightCrops: false\` (FACEEMBED_TIGHT_CROPS=false) sends every`,
    'image through BlazeFace; the fast path runs FaceMesh on the whole image and skips BlazeFace when it is a tight crop',
    "(src/detect/tight-crop.ts). Crops: the suite's 1.3x boxes, and the 160 px ones a session stores (the box grown 25% on every side).",
    '',
    table(
      [
        'model',
        'crops',
        'path',
        'images per task',
        'batch faces/s',
        'runs',
        'single p50 / p95 ms',
        'other (batch / single)',
      ],
      rows,
    ),
    '',
    ...shares,
    ...(targets.length
      ? [
          '',
          table(
            ['target', 'wanted', 'measured', 'met'],
            targets.map((t) => [t.what, t.target, t.measured, t.met ? 'yes' : '**no**']),
          ),
        ]
      : []),
  ].join('\n');
}
