// The tight-crop fast path (FaceMesh alone) against the BlazeFace path, in one run: batch faces/s
// and warm single-image latency through the library, on the suite's 1.3x crops and on the 160 px
// crops a session stores (25% margin), each with `tightCrops` on and off (FACEEMBED_TIGHT_CROPS),
// and on the fast path with 1, 8 and 32 images per worker task (chips one per network run, and 8
// per task as one batch tensor); then end
// to end through the HTTP batch route, one crop per task against the shipped number
// (tight-crops-http.ts). Every throughput beside its efficiency (network-time.ts).
import { loadConfig } from '../../src/config/config.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import type { Latency, Target } from './common.js';
import { fastPathLog } from './fast-path-log.js';
import { libraryBatch, librarySingle, splitName, type BatchResult, type Split } from './library.js';
import type { HttpCropRow } from './tight-crops-http.js';

/** Images per worker task as shipped (FACEEMBED_IMAGES_PER_TASK's default). */
export const SHIPPED_PER_TASK = loadConfig({}).pool.imagesPerTask;

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
  /** Chips per network run within a task (absent in runs made before it was a setting: up to 8). */
  chipsPerRun?: number;
  batch: BatchResult;
  /** Measured once per model, set and path (a single image is one task whatever the batch size). */
  single?: Latency & { split: string };
}

/**
 * Measured on the fast path, side by side: images per task (1, the shipped 8, 32) with the shipped
 * 1 chip per network run, and 8 per task as one batch tensor (8 chips per run). The BlazeFace
 * path runs as shipped.
 */
export const FAST_VARIANTS = [
  { imagesPerTask: 1, chipsPerRun: 1 },
  { imagesPerTask: 8, chipsPerRun: 1 },
  { imagesPerTask: 8, chipsPerRun: 8 },
  { imagesPerTask: 32, chipsPerRun: 1 },
];

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
  /** End to end through the HTTP batch route (absent in runs made before it was measured). */
  http?: HttpCropRow[];
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
    { fastPath: false, imagesPerTask: SHIPPED_PER_TASK, chipsPerRun: 1 },
    ...FAST_VARIANTS.map((v) => ({ fastPath: true, ...v })),
  ];
  for (const model of opts.models) {
    for (const set of opts.sets) {
      const timed = new Set<boolean>();
      for (const { fastPath, imagesPerTask, chipsPerRun } of variants) {
        const lib = { model, modelsDir: opts.modelsDir, tightCrops: fastPath, imagesPerTask, chipsPerRun };
        opts.say(
          `${model}: ${set.label} crops, ${fastPath ? 'fast path' : 'BlazeFace path'}, ${imagesPerTask} per task, ${chipsPerRun} per run`,
        );
        const batch = await libraryBatch(lib, opts.split, set.files, opts.count, opts.repeats);
        const single = timed.has(fastPath) ? undefined : await librarySingle(lib, opts.split, set.files, opts.single);
        timed.add(fastPath);
        rows.push({
          model,
          set: set.label,
          fastPath,
          imagesPerTask,
          chipsPerRun,
          batch,
          ...(single ? { single } : {}),
        });
      }
    }
  }
  return { split: splitName(opts.split), share, rows };
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');

/** Issue 12's tight-crop targets (2 cores), on the fast path. */
export function tightCropTargets(r: TightCropsResult): Target[] {
  // The shipped configuration: the fast path, the default images per task; latency from its single-image run.
  const shipped = (x: TightCropRow) =>
    x.fastPath && (x.imagesPerTask ?? 1) === SHIPPED_PER_TASK && (x.chipsPerRun ?? 8) === 1;
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
    return [{ id, what, target: `>= ${min} faces/s`, measured: measured(fps, x.batch.efficiency), met: fps >= min }];
  };
  const endToEnd = (id: string, model: string, min: number): Target[] => {
    const x = r.http?.find((h) => h.model === model && h.imagesPerTask === SHIPPED_PER_TASK);
    if (!x) return [];
    const what = `'${model}' ${x.set} crops end to end (HTTP batch route)`;
    return [
      {
        id,
        what,
        target: `>= ${min} faces/s`,
        measured: measured(x.facesPerSecond, x.efficiency),
        met: x.facesPerSecond >= min,
      },
    ];
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
    ...endToEnd('tight-facenet-160-http', 'facenet', 180),
    ...endToEnd('tight-arcface-160-http', 'arcface', 110),
  ];
}

const measured = (fps: number, efficiency: number | undefined) =>
  `${f1(fps)} faces/s${efficiency === undefined ? '' : ` (efficiency ${efficiency.toFixed(2)})`}`;

/** Worker stages per face, ms, in a fixed order (the ones a row has). */
const STAGES = ['decode', 'tightCrop', 'detect', 'square', 'align', 'infer', 'network'];
const stageCells = (stages: Record<string, number> | undefined) =>
  STAGES.map((k) => (stages?.[k] === undefined ? '' : stages[k]!.toFixed(1)));

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
    x.chipsPerRun ?? '',
    f1(x.batch.facesPerSecond),
    x.batch.efficiency === undefined ? '' : x.batch.efficiency.toFixed(2),
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
        'chips per run',
        'batch faces/s',
        'efficiency',
        'runs',
        'single p50 / p95 ms',
        'other (batch / single)',
      ],
      rows,
    ),
    '',
    ...shares,
    ...httpPart(r, table),
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

/** The end-to-end rows and where each face's worker time goes, shipped rows of both paths. */
function httpPart(r: TightCropsResult, table: (head: string[], rows: (string | number)[][]) => string): string[] {
  if (!r.http?.length) return [];
  const lib = r.rows.filter((x) => x.set === SMALL_SET && x.fastPath && x.batch.stagesPerFace);
  return [
    '',
    '## Tight crops end to end: the HTTP batch route',
    '',
    `Two \`faceembed serve\` processes (SQLite, ${r.split} split) on the same ${SMALL_SET} crops, one with`,
    '`FACEEMBED_IMAGES_PER_TASK=1` (one crop per worker task, as the batch route and embedding jobs sent them before),',
    `one with the shipped ${SHIPPED_PER_TASK}; \`POST generate-embeddings-batch/\` with \`force_regenerate\`, the two servers' runs`,
    "interleaved. Efficiency: the networks' own time (every onnxruntime run: FaceMesh, BlazeFace when it runs, the",
    "embedding network) over the workers' wall time (workers x elapsed), from each embedding's `timings.network`.",
    '',
    table(
      ['model', 'images per task', 'faces/s', 'efficiency', 'runs', 'failed', 'load'],
      r.http.map((h) => [
        `\`${h.model}\``,
        h.imagesPerTask,
        f1(h.facesPerSecond),
        h.efficiency.toFixed(2),
        h.runs.join(', '),
        h.failed,
        h.load,
      ]),
    ),
    '',
    "Worker milliseconds per face by stage (means; `network`: the networks' own time inside them; `infer`: the",
    "face's share of its embedding run):",
    '',
    table(
      ['where', 'model', 'images per task', 'chips per run', ...STAGES],
      [
        ...lib.map((x) => [
          'library',
          `\`${x.model}\``,
          x.imagesPerTask ?? 1,
          x.chipsPerRun ?? '',
          ...stageCells(x.batch.stagesPerFace),
        ]),
        ...r.http.map((h) => ['HTTP', `\`${h.model}\``, h.imagesPerTask, 1, ...stageCells(h.stagesPerFace)]),
      ],
    ),
  ];
}
