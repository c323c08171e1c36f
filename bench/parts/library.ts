// Through the library (EmbeddingService, the package's main export): batch throughput for a
// workers x threads split, warm single-image latency, and the per-request isolation mode (the
// old design: a fresh process per embedding).
import os from 'node:os';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import type { EmbeddingServiceOptions } from '../../src/services/embedding-settings.js';
import { createLogger } from '../../src/logging/logger.js';
import {
  cpuWindow,
  cycle,
  latency,
  mapLimited,
  round,
  settle,
  throughput,
  waitQuiet,
  type Latency,
  type Throughput,
} from './common.js';
import { efficiencyOf, stageLogger, type Efficiency } from './network-time.js';

export interface Split {
  workers: number;
  threads: number;
}

export const splitName = (s: Split) => `${s.workers}x${s.threads}`;

export interface LibraryOptions {
  model: string;
  modelsDir?: string;
  /** The tight-crop fast path (EmbeddingServiceOptions.tightCrops); default: the service's default. */
  tightCrops?: boolean;
  /** Images per worker task in a batch (EmbeddingServiceOptions.imagesPerTask); default: the service's. */
  imagesPerTask?: number;
  /** Chips per network run within a task (EmbeddingServiceOptions.chipsPerRun); default: the service's. */
  chipsPerRun?: number;
}

function service(opts: LibraryOptions, extra: Partial<EmbeddingServiceOptions>): EmbeddingService {
  return new EmbeddingService({
    modelName: opts.model,
    logger: createLogger('silent'),
    ...(opts.modelsDir ? { modelsDir: opts.modelsDir } : {}),
    ...(opts.tightCrops === undefined ? {} : { tightCrops: opts.tightCrops }),
    ...(opts.imagesPerTask === undefined ? {} : { imagesPerTask: opts.imagesPerTask }),
    ...(opts.chipsPerRun === undefined ? {} : { chipsPerRun: opts.chipsPerRun }),
    ...extra,
  });
}

export interface BatchResult extends Throughput, Partial<Efficiency> {
  split: string;
  /** Share of the embeddings whose face was detected (the rest used the whole image). */
  detectedShare: number;
}

/** generateEmbeddingsBatch over `images` repeated to `count`, on a warm pool of the given split. */
export async function libraryBatch(
  opts: LibraryOptions,
  split: Split,
  images: readonly string[],
  count: number,
  repeats: number,
): Promise<BatchResult> {
  const stages = stageLogger();
  const s = service(opts, { workers: split.workers, threadsPerWorker: split.threads, logger: stages.logger });
  try {
    await s.ready();
    // Warm-up: first runs allocate ORT's buffers and JIT the JS paths, in every worker.
    await s.generateEmbeddingsBatch(cycle(images, split.workers * 4));
    const batch = cycle(images, count);
    let detected = 0;
    let wallMs = 0;
    stages.take();
    const t = await throughput(count, repeats, async () => {
      const t0 = performance.now();
      const out = await s.generateEmbeddingsBatch(batch);
      wallMs += performance.now() - t0;
      detected = out.filter((e) => e?.face.detected).length;
      return out.filter((e) => e === null).length;
    });
    return {
      ...t,
      ...efficiencyOf(stages.take(), split.workers, wallMs),
      split: splitName(split),
      detectedShare: round(detected / count, 3),
    };
  } finally {
    await s.close();
  }
}

/** One request at a time on a warm pool: the caller waits for each embedding before the next. */
export async function librarySingle(
  opts: LibraryOptions,
  split: Split,
  images: readonly string[],
  count: number,
): Promise<Latency & { split: string }> {
  const s = service(opts, { workers: split.workers, threadsPerWorker: split.threads });
  try {
    await s.ready();
    for (const image of cycle(images, split.workers * 4)) await s.generateEmbedding(image);
    if (settle.limitMs > 0) await waitQuiet(settle.limitMs);
    const stop = cpuWindow();
    const ms: number[] = [];
    for (const image of cycle(images, count)) {
      const t0 = performance.now();
      await s.generateEmbedding(image);
      ms.push(performance.now() - t0);
    }
    return { ...latency(ms, stop()), split: splitName(split) };
  } finally {
    await s.close();
  }
}

export interface PerRequestResult {
  images: number;
  /** Fresh processes running at once (one per core, as a pool would use them). */
  concurrency: number;
  throughput: Throughput;
  single: Latency;
}

/** isolation 'per-request': every embedding forks, loads the models, embeds, writes a result file and exits. */
export async function perRequest(opts: LibraryOptions, images: readonly string[]): Promise<PerRequestResult> {
  const concurrency = os.availableParallelism();
  const s = service(opts, { isolation: 'per-request' });
  try {
    const t = await throughput(images.length, 1, async () => {
      const out = await mapLimited(images, concurrency, (img) =>
        s.generateEmbedding(img).then(
          () => 0,
          () => 1,
        ),
      );
      return out.reduce<number>((a, b) => a + b, 0);
    });
    const ms: number[] = [];
    for (const image of images.slice(0, Math.max(3, Math.ceil(images.length / 4)))) {
      const t0 = performance.now();
      await s.generateEmbedding(image);
      ms.push(performance.now() - t0);
    }
    return { images: images.length, concurrency, throughput: t, single: latency(ms) };
  } finally {
    await s.close();
  }
}
