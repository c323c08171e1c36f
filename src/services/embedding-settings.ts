// How an EmbeddingService is set up: its options resolved against the configuration into the
// workers' settings and the pool's options, and the environment its child processes get. Apart
// from the service, whose file is then about running tasks and shaping their answers.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, threadsPerWorker, type Config, type Isolation } from '../config/config.js';
import type { DetectMode } from '../domain/face.js';
import { ValueError } from '../errors.js';
import type { PoolEvent, WorkerPoolOptions } from '../inference/pool/pool-options.js';
import { IPC_FLAG, type FlipMode, type WorkerSettings } from '../inference/protocol.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { DEFAULT_MODEL_NAME, ModelRegistry } from '../models/registry.js';

/** Flip-averaging policy unless a caller asks otherwise (docs/accuracy.md measures the choices). */
export const DEFAULT_FLIP: FlipMode = 'never';

export const WORKER_MODULE = fileURLToPath(new URL('../inference/worker/worker.js', import.meta.url));

export interface EmbeddingServiceOptions {
  modelName?: string;
  isolation?: Isolation;
  workers?: number;
  threadsPerWorker?: number;
  timeoutMs?: number;
  queueLimit?: number;
  maxJobsPerWorker?: number;
  workerMaxRssMb?: number;
  detect?: DetectMode;
  /** Flip-averaging of chips (see FlipMode); default DEFAULT_FLIP. */
  flip?: FlipMode;
  /** Intra-op threads of each worker's whole-photo detector; default workers x threadsPerWorker (a lone photo may use every core). */
  photoThreadsPerWorker?: number;
  /**
   * detectFaces splits the photo's windows over every worker (each share a task on its own
   * threadsPerWorker; services/split-photo.ts) while no task waits in the pool's queue; with a
   * backlog it runs in one task. Default true.
   */
  splitPhotos?: boolean;
  /** Most images of a batch per worker task; default FACEEMBED_IMAGES_PER_TASK (8), 1 one task per image. */
  imagesPerTask?: number;
  /** Most chips of a batch's task per network run (WorkerSettings.chipsPerRun); default 1. */
  chipsPerRun?: number;
  /** Tight crops aligned from FaceMesh alone, BlazeFace skipped; default FACEEMBED_TIGHT_CROPS (true). */
  tightCrops?: boolean;
  modelsDir?: string;
  modelsConfig?: string;
  /** Models each worker loads before it reports ready ('all': every registered one); default: the service's model. */
  preload?: string[] | 'all';
  logger?: Logger;
  onEvent?: (e: PoolEvent) => void;
  /** Base configuration (defaults to the environment's). */
  config?: Config;
}

/** The options resolved: what the service keeps, and its pool's options (isolation 'pool' only). */
export interface EmbeddingSettings {
  modelName: string;
  /** The service's own logger (the pool logs under its own component). */
  log: Logger;
  registry: ModelRegistry;
  isolation: Isolation;
  detect: DetectMode;
  flip: FlipMode;
  timeoutMs: number;
  workers: number;
  /** Images a batch keeps in flight (EmbeddingService.batchLanes). */
  lanes: number;
  imagesPerTask: number;
  splitPhotos: boolean;
  worker: WorkerSettings;
  /** Encrypted media files: the key the workers open them with (hex). */
  mediaKey: string | undefined;
  pool: WorkerPoolOptions | undefined;
}

export function embeddingSettings(opts: EmbeddingServiceOptions): EmbeddingSettings {
  const config = opts.config ?? loadConfig();
  const root = opts.logger ?? createLogger(config.logLevel);
  const modelsConfig = opts.modelsConfig ?? config.modelsConfig;
  const registry = ModelRegistry.load(modelsConfig);
  const modelName = opts.modelName ?? DEFAULT_MODEL_NAME;
  registry.get(modelName); // an unknown model name is refused before the other options are checked
  const isolation = opts.isolation ?? config.pool.isolation;
  const timeoutMs = opts.timeoutMs ?? config.pool.timeoutMs;
  const workers = opts.workers ?? config.pool.workers;
  const queueLimit = opts.queueLimit ?? config.pool.queueLimit;
  const imagesPerTask = opts.imagesPerTask ?? config.pool.imagesPerTask;
  if (!(Number.isInteger(imagesPerTask) && imagesPerTask >= 1))
    throw new ValueError(`imagesPerTask must be a positive integer, got ${imagesPerTask}`);
  const preload = opts.preload ?? [modelName];
  const mediaKey = config.media.key;
  const worker: WorkerSettings = {
    modelsDir: path.resolve(opts.modelsDir ?? config.modelsDir),
    ...(modelsConfig ? { modelsConfig } : {}),
    preload: preload === 'all' ? registry.specs.map((s) => s.name) : preload,
    threads: opts.threadsPerWorker ?? threadsPerWorker(config.pool.workers * config.pool.threadsPerWorker, workers),
    limits: config.image,
    tightCrops: opts.tightCrops ?? config.tightCrops,
    ...(opts.chipsPerRun === undefined ? {} : { chipsPerRun: opts.chipsPerRun }),
  };
  worker.photoThreads = opts.photoThreadsPerWorker ?? Math.max(worker.threads, workers * worker.threads);
  return {
    modelName,
    log: root.child({ component: 'embedding' }),
    registry,
    isolation,
    detect: opts.detect ?? 'auto',
    flip: opts.flip ?? DEFAULT_FLIP,
    timeoutMs,
    workers,
    lanes: workers + Math.min(workers, queueLimit),
    imagesPerTask,
    splitPhotos: opts.splitPhotos ?? true,
    worker,
    mediaKey,
    pool:
      isolation === 'pool'
        ? {
            modulePath: WORKER_MODULE,
            args: [IPC_FLAG, JSON.stringify(worker)],
            // Only the media key is added to what the worker inherits (sealed-file.ts): not on its command line.
            ...(mediaKey ? { env: workerEnv(worker, mediaKey) } : {}),
            workers,
            queueLimit,
            timeoutMs,
            maxJobsPerWorker: opts.maxJobsPerWorker ?? config.pool.maxJobsPerWorker,
            maxRssMb: opts.workerMaxRssMb ?? config.pool.workerMaxRssMb,
            logger: root.child({ component: 'pool' }),
            ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
          }
        : undefined,
  };
}

/** Workers' environment: per-request children get the same models directory and config as pool workers. */
export function workerEnv(settings: WorkerSettings, mediaKey: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    // eslint-disable-next-line no-restricted-syntax -- the child inherits the environment, with our settings on top
    ...process.env,
    FACEEMBED_MODELS_DIR: settings.modelsDir,
    FACEEMBED_THREADS_PER_WORKER: String(settings.threads),
    FACEEMBED_TIGHT_CROPS: String(settings.tightCrops !== false),
  };
  if (settings.modelsConfig) env.FACEEMBED_MODELS_CONFIG = settings.modelsConfig;
  delete env.FACEEMBED_MEDIA_KEY_FILE;
  delete env.FACEEMBED_MEDIA_KEY;
  if (mediaKey) env.FACEEMBED_MEDIA_KEY = mediaKey;
  return env;
}
