// Where a worker's time goes, measured inside this process with the worker's own code
// (WorkerRuntime, one ORT thread, as each pool worker runs it by default): per-stage times and
// CPU per image, and each network alone on onnxruntime. JS hot spots: `node --cpu-prof` (README).
import { loadConfig } from '../../src/config/config.js';
import { WorkerRuntime } from '../../src/inference/worker/runtime.js';
import { OnnxSession } from '../../src/inference/worker/session.js';
import { modelFile, prepareSource } from '../../src/models/prepare.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { cycle, load1, mean, median, round } from './common.js';

export interface StageProfile {
  model: string;
  images: string;
  n: number;
  /** Wall and CPU (all threads of this process: sharp's and onnxruntime's included) per image. */
  wallMs: number;
  cpuMs: number;
  /** Median and mean per stage, from the worker's own `timings`. */
  stages: Record<string, { median: number; mean: number }>;
  load: number;
}

export interface NetworkProfile {
  network: string;
  input: string;
  threads: number;
  cpuMs: number;
  wallMs: number;
}

const noop = () => {};

function runtime(modelsDir: string, threads: number): WorkerRuntime {
  return new WorkerRuntime({ modelsDir, preload: [], threads, limits: loadConfig().image });
}

/** The worker's embed task over `images`, after a short warm-up. */
export async function stageProfile(
  modelsDir: string,
  model: string,
  label: string,
  images: readonly string[],
  count: number,
): Promise<StageProfile> {
  const rt = runtime(modelsDir, 1);
  for (const image of images.slice(0, 5))
    await rt.embed({ kind: 'embed', imagePath: image, model, detect: 'auto' }, noop);
  const stages: Record<string, number[]> = {};
  const todo = cycle(images, count);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const image of todo) {
    const out = await rt.embed({ kind: 'embed', imagePath: image, model, detect: 'auto' }, noop);
    for (const [k, v] of Object.entries(out.timings)) (stages[k] ??= []).push(v);
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  return {
    model,
    images: label,
    n: todo.length,
    wallMs: round(wall / todo.length),
    cpuMs: round((cpu.user + cpu.system) / 1000 / todo.length),
    stages: Object.fromEntries(
      Object.entries(stages).map(([k, v]) => [k, { median: round(median(v)), mean: round(mean(v)) }]),
    ),
    load: load1(),
  };
}

/** Each network alone: CPU and wall ms per run at `threads` intra-op threads. */
export async function networkProfile(modelsDir: string, threads: number, runs: number): Promise<NetworkProfile[]> {
  const registry = new ModelRegistry();
  const nets: { network: string; file: string; dims: number[] }[] = [
    {
      network: 'blazeface (detector)',
      file: (await prepareSource('blazeface', modelsDir)).path,
      dims: [1, 256, 256, 3],
    },
    {
      network: 'facemesh (landmarks)',
      file: (await prepareSource('facemesh', modelsDir)).path,
      dims: [1, 192, 192, 3],
    },
  ];
  for (const name of ['facenet', 'arcface']) {
    const spec = registry.get(name);
    const s = spec.input.size;
    nets.push({
      network: `${spec.name} (${name})`,
      file: (await modelFile(spec, modelsDir)).path,
      dims: spec.input.layout === 'nhwc' ? [1, s, s, 3] : [1, 3, s, s],
    });
  }
  const out: NetworkProfile[] = [];
  for (const net of nets) {
    const session = await OnnxSession.load(net.file, { threads }, {});
    const data = new Float32Array(net.dims.reduce((a, b) => a * b)).map((_, i) => ((i * 7919) % 255) / 255);
    for (let i = 0; i < 5; i++) await session.runAll(data, net.dims);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await session.runAll(data, net.dims);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    out.push({
      network: net.network,
      input: net.dims.join('x'),
      threads,
      cpuMs: round((cpu.user + cpu.system) / 1000 / runs),
      wallMs: round(wall / runs),
    });
    await session.release();
  }
  return out;
}
