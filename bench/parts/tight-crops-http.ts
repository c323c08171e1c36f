// Tight crops end to end through the HTTP batch route (POST generate-embeddings-batch/, the path
// embedding jobs take too): two real `faceembed serve` processes on the same crops, one sending
// one crop per worker task (FACEEMBED_IMAGES_PER_TASK=1), one the shipped number, their runs
// interleaved so that other users' load falls on both alike. Each row has its efficiency (the
// networks' own time over the workers' wall time) from the servers' own embedding log lines.
import path from 'node:path';
import { load1, median, round } from './common.js';
import { httpBatch, httpBatchRun, registerCrops, startServer, type ServerHandle } from './http.js';
import type { Split } from './library.js';
import { efficiencyOf, sumStages, type Efficiency, type StageTotals } from './network-time.js';

export interface HttpCropRow extends Efficiency {
  model: string;
  set: string;
  imagesPerTask: number;
  facesPerSecond: number;
  runs: number[];
  failed: number;
  load: number;
}

export interface HttpCropOptions {
  models: string[];
  modelsDir: string;
  split: Split;
  /** Media root the crops lie under, and a folder for the servers' databases and logs. */
  mediaRoot: string;
  workDir: string;
  set: { label: string; files: string[] };
  /** Crops per batch request, runs per variant, the images per task compared. */
  count: number;
  repeats: number;
  perTask: number[];
  say: (message: string) => void;
}

interface Variant {
  perTask: number;
  server: ServerHandle;
  ids: number[];
}

export async function runHttpCrops(opts: HttpCropOptions): Promise<HttpCropRow[]> {
  const variants: Variant[] = [];
  try {
    for (const perTask of opts.perTask) {
      const server = await startServer({
        mediaRoot: opts.mediaRoot,
        workDir: opts.workDir,
        modelsDir: opts.modelsDir,
        env: {
          FACEEMBED_WORKERS: String(opts.split.workers),
          FACEEMBED_THREADS_PER_WORKER: String(opts.split.threads),
          FACEEMBED_IMAGES_PER_TASK: String(perTask),
        },
      });
      variants.push({ perTask, server, ids: [] });
      const rel = opts.set.files.map((f) => path.relative(opts.mediaRoot, f));
      const ids = await registerCrops(server, rel, Math.ceil(opts.count / rel.length));
      variants.at(-1)!.ids = ids.slice(0, opts.count);
    }
    const rows: HttpCropRow[] = [];
    for (const model of opts.models) {
      opts.say(`${model}: HTTP batch of ${opts.count} ${opts.set.label} crops, ${opts.perTask.join(' / ')} per task`);
      for (const v of variants) await httpBatch(v.server, v.ids, model, 1, opts.split.workers); // warm-up
      const runs = new Map(
        variants.map((v) => [v, { fps: [] as number[], wallMs: 0, failed: 0, stages: [] as StageTotals[] }]),
      );
      for (let r = 0; r < opts.repeats; r++) {
        for (const v of variants) {
          const t = await httpBatchRun(v.server, v.ids, model, 1);
          const run = runs.get(v)!;
          run.fps.push(t.facesPerSecond);
          run.wallMs += t.wallMs;
          run.failed += t.failed;
          run.stages.push(t.stages);
        }
      }
      for (const v of variants) {
        const run = runs.get(v)!;
        rows.push({
          model,
          set: opts.set.label,
          imagesPerTask: v.perTask,
          facesPerSecond: round(median(run.fps), 1),
          runs: run.fps,
          failed: run.failed,
          load: load1(),
          ...efficiencyOf(sumStages(run.stages), opts.split.workers, run.wallMs),
        });
      }
    }
    return rows;
  } finally {
    for (const v of variants) await v.server.stop();
  }
}
