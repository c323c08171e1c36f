// Whole-photo detection benchmark (issue 12): synthetic class photos (4000x3000 and 6000x4000,
// 20-60 pasted faces of 24-200 px on plain / noise / blurred-photo backgrounds) plus couple.jpg
// and selfie-many-people.jpg. Three paths side by side in one run, in this process with the same
// threads: the crop path (BlazeFace + FaceMesh on one 256 px letterbox of a 1024 px copy), the
// full-resolution window pyramid with RetinaFace's own points (the scan before), and the shipped
// coarser pyramid with every face refitted by FaceMesh on the full-resolution pixels, and that path
// through the library's pool (the photo's windows split over both workers), whose faces must be
// the same. Then the library on a warm pool times a 12-MP photo of 40 faces, split and in one task,
// two photos at once against one after the other, each time beside its efficiency (the networks'
// onnxruntime time per worker used over the wall time). Writes docs/detection.md and docs/detection.json.
// Run: npm run bench:detection -- --data ../shared/datasets/deepface-unit [--reps 2] [--threads 2]
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import type { Box, DetectedFace } from '../src/domain/face.js';
import { DEFAULT_SCAN, planScan, type ScanOptions } from '../src/detect/photo-scan.js';
import { rescaleFaces } from '../src/detect/rescale.js';
import { decodeImage } from '../src/image/decode.js';
import { FaceDetector } from '../src/inference/worker/face-detector.js';
import { PhotoDetector } from '../src/inference/worker/photo-detector.js';
import { createLogger } from '../src/logging/logger.js';
import { EmbeddingService } from '../src/services/embedding.service.js';
import { buildCanvas, random, type Background, type FaceSource } from './detection/canvas.js';
import { markdown, type LibraryTimes, type PathResult, type PhotoRow } from './detection/report.js';

/** The scan shipped before: the finest level at full resolution (a 24 px face 24 px), 160 px overlap, RetinaFace's points. */
const FULL_RESOLUTION_SCAN: Partial<ScanOptions> = { minFaceInWindow: 24, stride: 480 };

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const OLD_MAX_SIDE = 1024; // the worker's working size for today's detector (WORKING_MAX_SIDE, image-chip.ts)

async function sources(dataDir: string, detector: FaceDetector): Promise<FaceSource[]> {
  const files = (await readdir(dataDir)).filter((f) => /^img\d+\.jpg$/.test(f)).sort();
  const out: FaceSource[] = [];
  for (const f of files) {
    const file = path.join(dataDir, f);
    const { image, info } = await decodeImage(file, undefined, OLD_MAX_SIDE);
    const faces = rescaleFaces(await detector.detect(image), image, info);
    const best = faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
    if (best) out.push({ file, box: best.box, width: info.width, height: info.height });
  }
  return out;
}

async function runOld(file: string, detector: FaceDetector): Promise<PathResult> {
  const t0 = performance.now();
  const { image, info } = await decodeImage(file, undefined, OLD_MAX_SIDE);
  const t1 = performance.now();
  const faces: DetectedFace[] = rescaleFaces(await detector.detect(image), image, info);
  return { faces: faces.map((f) => f.box), decodeMs: t1 - t0, detectMs: performance.now() - t1 };
}

/** The window pyramid; with `refiner`, every face refitted by FaceMesh on the full-resolution pixels (the shipped path). */
async function runNew(
  file: string,
  detector: PhotoDetector,
  scan: Partial<ScanOptions>,
  refiner?: FaceDetector,
): Promise<PathResult> {
  const t0 = performance.now();
  const { image } = await decodeImage(file);
  const t1 = performance.now();
  const { faces, timings } = await detector.detect(image, scan);
  const out = refiner ? await refiner.refineFaces(image, faces) : faces;
  return {
    faces: out.map((f) => f.box),
    decodeMs: t1 - t0,
    detectMs: performance.now() - t1,
    windows: timings.windowCount,
  };
}

/** Windows of the shipped plan that overlap no face: what a cheap coarse pass could skip at best. */
function emptyWindows(width: number, height: number, truth: readonly Box[]): { empty: number; windows: number } {
  let empty = 0,
    windows = 0;
  for (const level of planScan(width, height)) {
    const f = level.width / width;
    for (const w of level.windows) {
      windows++;
      const x1 = w.x + DEFAULT_SCAN.window,
        y1 = w.y + DEFAULT_SCAN.window;
      const hit = truth.some(([x, y, bw, bh]) => x * f < x1 && (x + bw) * f > w.x && y * f < y1 && (y + bh) * f > w.y);
      if (!hit) empty++;
    }
  }
  return { empty, windows };
}

/** A library call's faces, and its workers' onnxruntime time and worker count (for the efficiency). */
interface CaseOut {
  faces: number;
  network: number;
  workers: number;
  timings?: Record<string, number>;
}
const fromTimings = (faces: number, timings: Record<string, number>): CaseOut => ({
  faces,
  network: timings.network ?? NaN,
  workers: timings.workers ?? 1,
  timings,
});
const detected = (r: { faces: unknown[]; timings: Record<string, number> }) => fromTimings(r.faces.length, r.timings);
/** Two calls side by side (both workers busy) or one after the other (the workers either used). */
const both = (a: CaseOut, b: CaseOut, atOnce: boolean): CaseOut => ({
  faces: a.faces + b.faces,
  network: a.network + b.network,
  workers: atOnce ? 2 : Math.max(a.workers, b.workers),
});

async function libraryTimes(files: [string, string], modelsDir: string, runs: number): Promise<LibraryTimes> {
  const [file, other] = files;
  // The shipped pool (a photo's windows split over idle workers) and the same without the split
  // (one worker, its photo detector on workers x threads): two warm pools, timed in turn.
  const services = [true, false].map(
    (splitPhotos) =>
      [
        splitPhotos,
        new EmbeddingService({
          logger: createLogger('silent'),
          modelsDir,
          preload: ['facenet', 'arcface'],
          splitPhotos,
        }),
      ] as const,
  );
  try {
    type Case = [string, () => Promise<CaseOut>];
    const cases: Case[] = [];
    for (const [splitPhotos, service] of services) {
      await service.ready();
      for (let i = 0; i < 4; i++) await Promise.all([service.embedFaces(file), service.embedFaces(other)]);
      const label = splitPhotos ? '' : ', one task (no split)';
      const detect = (f: string) => service.detectFacesTimed(f).then(detected);
      cases.push(
        [`detectFaces (boxes + landmarks)${label}`, () => detect(file)],
        [
          `two photos at once, detectFaces${label}`,
          async () => both(...(await Promise.all([detect(file), detect(other)])), true),
        ],
        [
          `two photos one after the other, detectFaces${label}`,
          async () => both(await detect(file), await detect(other), false),
        ],
      );
      if (splitPhotos)
        cases.push(
          ['embedFaces facenet', async () => service.embedFaces(file, { modelName: 'facenet' }).then(detected)],
          ['embedFaces arcface', async () => service.embedFaces(file, { modelName: 'arcface' }).then(detected)],
        );
    }
    // Round robin over the cases, so that other processes' load falls on every case alike.
    const walls = cases.map((): number[] => []);
    const outs = cases.map((): CaseOut[] => []);
    for (let i = 0; i < runs; i++) {
      for (const [c, [, fn]] of cases.entries()) {
        const t = performance.now();
        outs[c]!.push(await fn());
        walls[c]!.push(performance.now() - t);
      }
    }
    const rows = cases.map(([name], c) => {
      // The median run, its efficiency from its own network time.
      const order = walls[c]!.map((w, i) => [w, i] as const).sort((a, b) => a[0] - b[0]);
      const [wall, i] = order[Math.floor(order.length / 2)]!;
      const out = outs[c]![i]!;
      return {
        case: name,
        faces: out.faces,
        wallMs: round(wall),
        networkMs: round(out.network),
        workersUsed: out.workers,
        efficiency: round(out.network / (out.workers * wall), 2),
        workerTimings: out.timings ?? {},
      };
    });
    return { workers: services[0]![1].stats().workers, rows };
  } finally {
    await Promise.all(services.map(([, s]) => s.close()));
  }
}

/** The shipped path through the library's pool (the photo split over both idle workers), timed by this process. */
async function runLibrary(file: string, service: EmbeddingService): Promise<PathResult> {
  const t0 = performance.now();
  const { faces, timings } = await service.detectFacesTimed(file);
  return {
    faces: faces.map((f) => f.box),
    decodeMs: timings.decode ?? NaN,
    detectMs: performance.now() - t0,
    windows: timings.windows,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      reps: { type: 'string', default: '2' },
      threads: { type: 'string', default: '2' },
      'models-dir': { type: 'string' },
      out: { type: 'string', default: 'docs/detection.md' },
      /** Re-renders the tables of an earlier run's JSON (no measuring). */
      'from-json': { type: 'string' },
    },
  });
  if (values['from-json']) {
    const run = JSON.parse(await readFile(values['from-json'], 'utf8')) as {
      meta: Record<string, unknown>;
      rows: PhotoRow[];
      real: PhotoRow[];
      library: LibraryTimes;
    };
    await writeFile(values.out, markdown(run.rows, run.real, run.library, run.meta));
    return;
  }
  if (!values.data) throw new Error('--data <the shared deepface-unit folder> is required');
  const modelsDir = path.resolve(values['models-dir'] ?? loadConfig().modelsDir);
  const threads = Number(values.threads);
  const tmp = await mkdtemp(path.join(tmpdir(), 'faceembed-detection-'));
  try {
    const old = await FaceDetector.load(modelsDir, threads);
    const neu = await PhotoDetector.load(modelsDir, threads);
    const faceSources = await sources(values.data, old);
    const library = new EmbeddingService({ logger: createLogger('silent'), modelsDir, preload: [] });
    await library.ready();
    console.error(`${faceSources.length} face sources`);
    const rnd = random(12);
    const rows: PhotoRow[] = [];
    const sizes: [number, number][] = [
      [4000, 3000],
      [6000, 4000],
    ];
    const backgrounds: Background[] = ['plain', 'noise', 'blurred-photo'];
    let seed = 1;
    for (const [width, height] of sizes)
      for (const background of backgrounds)
        for (let r = 0; r < Number(values.reps); r++) {
          const faces = 20 + Math.floor(rnd() * 41);
          const c = await buildCanvas(
            { width, height, background, faces, seed: seed++ },
            faceSources,
            path.join(tmp, `c${seed}.jpg`),
          );
          const row: PhotoRow = {
            name: `${background}-${seed}`,
            size: `${width}x${height}`,
            truth: c.truth,
            widths: c.truth.map((b) => b[2]),
            old: await runOld(c.file, old),
            before: await runNew(c.file, neu, FULL_RESOLUTION_SCAN),
            new: await runNew(c.file, neu, {}, old),
            split: await runLibrary(c.file, library),
          };
          rows.push(row);
          console.error(
            `${row.size} ${row.name}: ${c.truth.length} faces, crop path ${row.old.faces.length}, full-resolution scan ${row.before!.faces.length} (${round(row.before!.detectMs)} ms), shipped ${row.new.faces.length} (${round(row.new.detectMs)} ms), split ${row.split!.faces.length} (${round(row.split!.detectMs)} ms)`,
          );
        }
    const real: PhotoRow[] = [];
    for (const name of ['couple.jpg', 'selfie-many-people.jpg']) {
      const file = path.join(values.data, name);
      const { info } = await decodeImage(file, undefined, 64);
      real.push({
        name,
        size: `${info.width}x${info.height}`,
        truth: [],
        widths: [],
        old: await runOld(file, old),
        before: await runNew(file, neu, FULL_RESOLUTION_SCAN),
        new: await runNew(file, neu, {}, old),
        split: await runLibrary(file, library),
      });
    }
    await library.close();
    await old.release();
    await neu.release();
    const libPhoto = await buildCanvas(
      { width: 4000, height: 3000, background: 'blurred-photo', faces: 40, seed: 99 },
      faceSources,
      path.join(tmp, 'class-40.jpg'),
    );
    const otherPhoto = await buildCanvas(
      { width: 4000, height: 3000, background: 'noise', faces: 40, seed: 100 },
      faceSources,
      path.join(tmp, 'class-40b.jpg'),
    );
    const lib = await libraryTimes([libPhoto.file, otherPhoto.file], modelsDir, 5);
    lib.emptyWindows = emptyWindows(4000, 3000, libPhoto.truth);
    const meta = {
      command: `npm run bench:detection -- --data ${values.data} --reps ${values.reps} --threads ${threads}`,
      date: new Date().toISOString(),
      load: loadavg()
        .map((v) => round(v, 2))
        .join(' '),
      threads,
      canvases: `4000x3000 and 6000x4000 x plain / noise / blurred photo x ${values.reps}`,
      libraryPhoto: `4000x3000 JPEG, ${libPhoto.truth.length} pasted faces`,
    };
    const md = markdown(rows, real, lib, meta);
    await mkdir(path.dirname(values.out), { recursive: true });
    await writeFile(values.out, md);
    await writeFile(values.out.replace(/\.md$/, '.json'), JSON.stringify({ meta, rows, real, library: lib }, null, 1));
    console.log(md);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
