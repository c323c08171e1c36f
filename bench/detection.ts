// Whole-photo detection benchmark (issue 12): synthetic class photos (4000x3000 and 6000x4000,
// 20-60 pasted faces of 24-200 px on plain / noise / blurred-photo backgrounds) plus couple.jpg
// and selfie-many-people.jpg. Today's path (BlazeFace + FaceMesh on one 256 px letterbox of a
// 1024 px copy) and the new one (RetinaFace over a window pyramid) run side by side in one run,
// in this process with the same threads; then the library's embedFaces on a warm pool times a
// 12-MP photo of 40 faces. Writes docs/detection.md and docs/detection.json.
// Run: npm run bench:detection -- --data ../shared/datasets/deepface-unit [--reps 2] [--threads 2]
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import type { DetectedFace } from '../src/domain/face.js';
import { rescaleFaces } from '../src/detect/rescale.js';
import { decodeImage } from '../src/image/decode.js';
import { FaceDetector } from '../src/inference/worker/face-detector.js';
import { PhotoDetector } from '../src/inference/worker/photo-detector.js';
import { createLogger } from '../src/logging/logger.js';
import { EmbeddingService } from '../src/services/embedding.service.js';
import { buildCanvas, random, type Background, type FaceSource } from './detection/canvas.js';
import { markdown, type LibraryTimes, type PathResult, type PhotoRow } from './detection/report.js';

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;
const OLD_MAX_SIDE = 1024; // the worker's working size for today's detector (runtime.ts)

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

async function runNew(file: string, detector: PhotoDetector): Promise<PathResult> {
  const t0 = performance.now();
  const { image } = await decodeImage(file);
  const t1 = performance.now();
  const { faces, timings } = await detector.detect(image);
  return {
    faces: faces.map((f) => f.box),
    decodeMs: t1 - t0,
    detectMs: performance.now() - t1,
    windows: timings.windowCount,
  };
}

async function libraryTimes(file: string, modelsDir: string, runs: number): Promise<LibraryTimes> {
  const out: LibraryTimes['rows'] = [];
  const service = new EmbeddingService({ logger: createLogger('silent'), modelsDir, preload: ['facenet', 'arcface'] });
  try {
    await service.ready();
    await service.embedFaces(file); // warm: loads the detector in a worker
    await service.embedFaces(file);
    const cases: [string, () => Promise<{ faces: number; timings?: Record<string, number> }>][] = [
      ['detectFaces (boxes + landmarks)', async () => ({ faces: (await service.detectFaces(file)).length })],
      ['embedFaces facenet', async () => service.embedFaces(file, { modelName: 'facenet' }).then(toCase)],
      ['embedFaces arcface', async () => service.embedFaces(file, { modelName: 'arcface' }).then(toCase)],
    ];
    for (const [name, fn] of cases) {
      const walls: number[] = [];
      let last: { faces: number; timings?: Record<string, number> } = { faces: 0 };
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        last = await fn();
        walls.push(performance.now() - t);
      }
      out.push({ case: name, faces: last.faces, wallMs: round(median(walls)), workerTimings: last.timings ?? {} });
    }
    return { workers: service.stats().workers, rows: out };
  } finally {
    await service.close();
  }
}
const toCase = (r: { faces: unknown[]; timings: Record<string, number> }) => ({
  faces: r.faces.length,
  timings: r.timings,
});

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
            new: await runNew(c.file, neu),
          };
          rows.push(row);
          console.error(
            `${row.size} ${row.name}: ${c.truth.length} faces, today ${row.old.faces.length}, new ${row.new.faces.length} (${round(row.new.detectMs)} ms)`,
          );
        }
    const real: PhotoRow[] = [];
    for (const name of ['couple.jpg', 'selfie-many-people.jpg']) {
      const file = path.join(values.data, name);
      const n = await runNew(file, neu);
      const { info } = await decodeImage(file, undefined, 64);
      real.push({
        name,
        size: `${info.width}x${info.height}`,
        truth: [],
        widths: [],
        old: await runOld(file, old),
        new: n,
      });
    }
    await old.release();
    await neu.release();
    const libPhoto = await buildCanvas(
      { width: 4000, height: 3000, background: 'blurred-photo', faces: 40, seed: 99 },
      faceSources,
      path.join(tmp, 'class-40.jpg'),
    );
    const lib = await libraryTimes(libPhoto.file, modelsDir, 3);
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
