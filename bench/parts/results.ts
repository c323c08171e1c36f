// The shape of one benchmark run (written as JSON) and the targets it is judged against.
import type { BatchResult, PerRequestResult } from './library.js';
import type { ColdStart } from './process-runs.js';
import type { FaceapiResult } from './faceapi.js';
import type { Latency, Target, Throughput } from './common.js';
import type { Efficiency } from './network-time.js';
import type { MemoryChildResult } from './memory-child.js';
import type { ProfileResult } from './profile-child.js';
import { tightCropTargets, type TightCropsResult } from './tight-crops.js';

export interface Meta {
  date: string;
  command: string;
  node: string;
  cores: number;
  cpu: string;
  platform: string;
  quick: boolean;
  data: string;
  photos: number;
  crops: number;
  cropSide: number;
  photosWithoutFace: number;
  defaultSplit: string;
  loadStart: number;
  loadEnd: number;
  seconds: number;
}

export interface ModelResult {
  model: string;
  /** Crops: one batch result and one single-image latency per workers x threads split. */
  library: { photos: BatchResult; crops: BatchResult[]; single: (Latency & { split: string })[] };
  /** Efficiency is absent from runs made before the server's log was read. */
  http: { photos: Throughput & Partial<Efficiency>; crops: Throughput & Partial<Efficiency>; errors: string[] };
  latency: { library: Latency; http: Latency };
  perRequest: PerRequestResult & { pool: Throughput; ratio: number };
}

export interface BenchResult {
  meta: Meta;
  models: ModelResult[];
  faceapi?: FaceapiResult;
  /** Library parent over many embeddings, workers recycled as configured. */
  memory?: MemoryChildResult & { model: string; maxJobsPerWorker: number };
  /** The same parent with V8's young generation capped (--max-semi-space-size), half the embeddings. */
  memoryCapped?: MemoryChildResult & { model: string; flags: string[] };
  /** Worker RSS over time with frequent recycling. */
  recycling?: MemoryChildResult & { model: string; maxJobsPerWorker: number };
  coldStart?: ColdStart;
  profile: ProfileResult;
  /** The tight-crop fast path on and off (absent from runs made before it). */
  tightCrops?: TightCropsResult;
  targets: Target[];
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');

/** The current targets (2 cores; tight crops unless stated), evaluated on the default split. */
export function evaluateTargets(r: Omit<BenchResult, 'targets'>): Target[] {
  const out: Target[] = [];
  const model = (name: string) => r.models.find((m) => m.model === name);
  const defaultCrops = (m: ModelResult) =>
    m.library.crops.find((c) => c.split === r.meta.defaultSplit) ?? m.library.crops[0]!;
  const facenet = model('facenet');
  if (r.tightCrops) out.push(...tightCropTargets(r.tightCrops));
  // The networks' own time over the workers' wall time, on the crop path and the photo path.
  for (const m of r.models) {
    for (const [kind, x] of [
      ['crops', defaultCrops(m)],
      ['photos', m.library.photos],
    ] as const) {
      if (x.efficiency === undefined) continue;
      out.push({
        id: `efficiency-${m.model}-${kind}`,
        what: `'${m.model}' efficiency through the library (${kind})`,
        target: '>= 0.75',
        measured: `${x.efficiency.toFixed(2)} (${f1(x.facesPerSecond)} faces/s)`,
        met: x.efficiency >= 0.75,
      });
    }
  }
  for (const m of r.models) {
    for (const kind of ['crops', 'photos'] as const) {
      const lib = kind === 'crops' ? defaultCrops(m).facesPerSecond : m.library.photos.facesPerSecond;
      const http = m.http[kind].facesPerSecond;
      const ratio = http / lib;
      out.push({
        id: `http-${m.model}-${kind}`,
        what: `'${m.model}' HTTP batch vs library (${kind})`,
        target: 'within 15%',
        measured: `${f1(100 * (ratio - 1))}% (${f1(http)} vs ${f1(lib)})`,
        met: ratio >= 0.85,
      });
    }
  }
  if (facenet) {
    const lib = facenet.latency.library.p50;
    const http = facenet.latency.http.p50;
    out.push({
      id: 'latency-library',
      what: "'facenet' single image p50, library",
      target: '<= 15 ms',
      measured: `${f1(lib)} ms`,
      met: lib <= 15,
    });
    out.push({
      id: 'latency-http',
      what: "'facenet' single image p50, HTTP",
      target: '<= 25 ms',
      measured: `${f1(http)} ms`,
      met: http <= 25,
    });
  }
  for (const m of r.models) {
    out.push({
      id: `per-request-${m.model}`,
      what: `'${m.model}' pool vs per-request mode`,
      target: '>= 50x',
      measured: `${f1(m.perRequest.ratio)}x`,
      met: m.perRequest.ratio >= 50,
    });
  }
  const fastest = Math.max(...(r.faceapi?.rows.map((x) => x.facesPerSecond) ?? [NaN]));
  if (facenet && Number.isFinite(fastest)) {
    const ratio = facenet.library.photos.facesPerSecond / fastest;
    out.push({
      id: 'faceapi',
      what: "'facenet' vs face-api's fastest full pipeline (photos)",
      target: '>= 10x',
      measured: `${f1(ratio)}x`,
      met: ratio >= 10,
    });
  }
  if (r.memory) {
    const growth = r.memory.parent.afterMiB - r.memory.parent.afterWarmupMiB;
    out.push({
      id: 'memory',
      what: `library parent RSS growth over ${r.memory.count} embeddings`,
      target: '<= 20 MB',
      measured: `${f1(growth)} MiB`,
      met: growth <= 20,
    });
  }
  if (r.coldStart) {
    const ms = r.coldStart.firstEmbeddingMs.p50;
    out.push({
      id: 'cold-start',
      what: 'process start to first embedding (CLI)',
      target: '<= 1.5 s',
      measured: `${(ms / 1000).toFixed(2)} s`,
      met: ms <= 1500,
    });
  }
  return out;
}
