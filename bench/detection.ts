// Face detection over a folder of photos: BlazeFace + FaceMesh on onnxruntime-node, on a copy
// shrunk to --max-side (as the worker would), landmarks carried back to the full photo, then
// the best face aligned from the full photo: ArcFace template x2 at 224 (counted in the total) and,
// timed apart, face-api's landmark box at 150.
// Reports recall (photos with at least one face), the photos missed, and median/p95 ms (wall
// clock, and CPU time of the process including onnxruntime's threads). Decoding is not timed. Run: node dist/bench/detection.js --data ../shared/datasets/deepface-unit [--max-side 640] [--threads 2] [--refine]
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { rescaleFaces } from '../src/detect/rescale.js';
import { decodeImage } from '../src/image/decode.js';
import { FaceDetector, alignFace } from '../src/inference/worker/face-detector.js';

interface Timing {
  detect: number;
  alignTemplate: number;
  alignBox: number;
  total: number;
  cpu: number;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const round = (v: number) => Math.round(v * 100) / 100;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      'max-side': { type: 'string', default: '640' },
      threads: { type: 'string', default: '2' },
      repeat: { type: 'string', default: '3' },
      'models-dir': { type: 'string' },
      refine: { type: 'boolean', default: false },
    },
  });
  if (!values.data) throw new Error('--data <folder of photos> is required');
  // 0 detects on the full photo.
  const maxSide = Number(values['max-side']) || undefined;
  const repeat = Math.max(1, Number(values.repeat));
  const modelsDir = values['models-dir'] ?? (await mkdtemp(path.join(tmpdir(), 'faceembed-bench-')));
  try {
    const detector = await FaceDetector.load(modelsDir, Number(values.threads), { refine: values.refine });
    const files = (await readdir(values.data))
      .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const timings: Timing[] = [];
    const missed: string[] = [];
    const counts = new Map<string, number>();
    let warmed = false;
    for (const file of files) {
      const full = path.join(values.data, file);
      const { image: small } = await decodeImage(full, undefined, maxSide);
      const { image } = await decodeImage(full);
      if (!warmed) {
        for (let i = 0; i < 3; i++) await detector.detect(small);
        warmed = true;
      }
      let faceCount = 0;
      const runs: Timing[] = [];
      for (let r = 0; r < repeat; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const faces = rescaleFaces(await detector.detect(small), small, image);
        const t1 = performance.now();
        const best = faces[0];
        if (best) alignFace(image, best, { kind: 'template', templateScale: 2 }, 224);
        const t2 = performance.now();
        const c = process.cpuUsage(c0);
        if (best) alignFace(image, best, { kind: 'landmark-box' }, 150);
        const t3 = performance.now();
        faceCount = faces.length;
        runs.push({
          detect: t1 - t0,
          alignTemplate: t2 - t1,
          alignBox: t3 - t2,
          total: t2 - t0,
          cpu: (c.user + c.system) / 1000,
        });
      }
      // The photo's time is its median run: one slow run on a shared machine should not count.
      runs.sort((a, b) => a.total - b.total);
      timings.push(runs[Math.floor(runs.length / 2)]!);
      counts.set(file, faceCount);
      if (faceCount === 0) missed.push(file);
    }
    const stat = (key: keyof Timing) => ({
      median: round(
        quantile(
          timings.map((t) => t[key]),
          0.5,
        ),
      ),
      p95: round(
        quantile(
          timings.map((t) => t[key]),
          0.95,
        ),
      ),
    });
    const several = [...counts].filter(([, n]) => n > 1).map(([f, n]) => `${f}: ${n}`);
    console.log(
      JSON.stringify(
        {
          photos: files.length,
          withFace: files.length - missed.length,
          recall: round((files.length - missed.length) / files.length),
          missed,
          severalFaces: several,
          maxSide: maxSide ?? 'full',
          threads: Number(values.threads),
          refine: values.refine,
          ms: {
            detectAndLandmarks: stat('detect'),
            alignTemplate224: stat('alignTemplate'),
            total: stat('total'),
            cpuOfTotal: stat('cpu'),
            alignLandmarkBox150: stat('alignBox'),
          },
          loadAverage: loadavg().map(round),
        },
        null,
        2,
      ),
    );
    await detector.release();
  } finally {
    if (!values['models-dir']) await rm(modelsDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
