// Run in a fresh process by memory.ts (`node --expose-gc memory-child.js '<json>'`): a library
// parent embeds `count` images through a pool that recycles its workers every
// `maxJobsPerWorker` jobs, sampling its own RSS and its workers' RSS over time. Prints one JSON
// object on stdout. Results are dropped as they come: only the service's own memory is measured.
import { EmbeddingService } from '../../src/services/embedding.service.js';
import { createLogger } from '../../src/logging/logger.js';
import { cycle, mapLimited, round, rssMiB } from './common.js';

export interface MemoryChildArgs {
  model: string;
  images: string[];
  count: number;
  warmup: number;
  /** Unset: the configured FACEEMBED_MAX_JOBS_PER_WORKER (1000 by default). */
  maxJobsPerWorker?: number;
  sampleMs: number;
  modelsDir?: string;
}

export interface MemorySample {
  seconds: number;
  done: number;
  parentMiB: number;
  /** V8's heap as reserved (heapTotal) and as used, and memory outside it (external: buffers, ArrayBuffers). */
  heapTotalMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  workersMiB: number[];
  recycled: number;
}

export interface MemoryChildResult {
  count: number;
  failed: number;
  seconds: number;
  facesPerSecond: number;
  parent: {
    afterWarmupMiB: number;
    afterMiB: number;
    afterGcMiB: number;
    /** RSS when half the embeddings were done. */
    halfwayMiB: number;
    heapUsedWarmMiB: number;
    heapUsedAfterGcMiB: number;
    heapTotalWarmMiB: number;
    heapTotalAfterGcMiB: number;
  };
  workers: { maxMiB: number; recycled: number; samples: MemorySample[] };
}

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

function heap(): { heapTotalMiB: number; heapUsedMiB: number; externalMiB: number } {
  const m = process.memoryUsage();
  return { heapTotalMiB: mib(m.heapTotal), heapUsedMiB: mib(m.heapUsed), externalMiB: mib(m.external) };
}

async function main(args: MemoryChildArgs): Promise<MemoryChildResult> {
  const service = new EmbeddingService({
    modelName: args.model,
    logger: createLogger('silent'),
    ...(args.maxJobsPerWorker ? { maxJobsPerWorker: args.maxJobsPerWorker } : {}),
    ...(args.modelsDir ? { modelsDir: args.modelsDir } : {}),
  });
  try {
    await service.ready();
    const inFlight = service.stats().workers * 2;
    await mapLimited(cycle(args.images, args.warmup), inFlight, (p) =>
      service.generateEmbedding(p).then(() => undefined),
    );
    gc?.();
    const afterWarmupMiB = rssMiB(process.pid)!;
    const warm = heap();
    const restarts0 = service.stats().restarts['recycle-jobs'] ?? 0;
    const samples: MemorySample[] = [];
    let done = 0;
    let failed = 0;
    let halfwayMiB = NaN;
    const t0 = performance.now();
    const sample = () =>
      samples.push({
        seconds: round((performance.now() - t0) / 1000, 1),
        done,
        parentMiB: rssMiB(process.pid) ?? NaN,
        ...heap(),
        workersMiB: service
          .stats()
          .pids.map((pid) => rssMiB(pid))
          .filter((v): v is number => v !== undefined),
        recycled: (service.stats().restarts['recycle-jobs'] ?? 0) - restarts0,
      });
    sample();
    const timer = setInterval(sample, args.sampleMs);
    try {
      await mapLimited(cycle(args.images, args.count), inFlight, async (p) => {
        await service.generateEmbedding(p).catch(() => failed++);
        if (++done === Math.floor(args.count / 2)) halfwayMiB = rssMiB(process.pid)!;
      });
    } finally {
      clearInterval(timer);
    }
    const seconds = (performance.now() - t0) / 1000;
    sample();
    const afterMiB = rssMiB(process.pid)!;
    gc?.();
    const afterGcMiB = rssMiB(process.pid)!;
    return {
      count: args.count,
      failed,
      seconds: round(seconds, 1),
      facesPerSecond: round((args.count - failed) / seconds, 1),
      parent: {
        afterWarmupMiB,
        halfwayMiB,
        afterMiB,
        afterGcMiB,
        heapUsedWarmMiB: warm.heapUsedMiB,
        heapUsedAfterGcMiB: heap().heapUsedMiB,
        heapTotalWarmMiB: warm.heapTotalMiB,
        heapTotalAfterGcMiB: heap().heapTotalMiB,
      },
      workers: {
        maxMiB: Math.max(...samples.flatMap((s) => s.workersMiB)),
        recycled: (service.stats().restarts['recycle-jobs'] ?? 0) - restarts0,
        samples,
      },
    };
  } finally {
    await service.close();
  }
}

const result = await main(JSON.parse(process.argv[2] ?? '{}') as MemoryChildArgs);
process.stdout.write(`${JSON.stringify(result)}\n`);
