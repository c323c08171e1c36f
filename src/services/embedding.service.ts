// EmbeddingService: the old service's API (generateEmbedding, generateEmbeddingsBatch,
// calculateSimilarity) on a supervised pool of worker processes. This process never loads
// onnxruntime or model weights: a native crash or leak stays in a worker, which is replaced.
// Its options and how they resolve are in embedding-settings.ts, the whole-photo paths in
// photo-face-scanner.ts.
import path from 'node:path';
import type { DetectedFace, DetectMode } from '../domain/face.js';
import { msSince } from '../domain/time.js';
import { cosineSimilarity } from '../domain/vector.js';
import { ValueError, deserializeError, toFaceembedError, type FaceembedError } from '../errors.js';
import { embedInFreshProcess } from '../inference/per-request.js';
import { WorkerPool } from '../inference/pool/worker-pool.js';
import { RESTART_CAUSES, type PoolStats } from '../inference/pool/pool-options.js';
import {
  checkOutput,
  type AnyTaskOutput,
  type EmbedBatchOutput,
  type EmbedOutput,
  type FlipMode,
  type TaskOutput,
  type TaskRequest,
  type WorkerSettings,
} from '../inference/protocol.js';
import type { Logger } from '../logging/logger.js';
import { modelVersions } from '../models/prepare.js';
import { modelSource, type ModelRegistry } from '../models/registry.js';
import { WORKER_MODULE, embeddingSettings, workerEnv, type EmbeddingServiceOptions } from './embedding-settings.js';
import { eachLimited } from './each-limited.js';
import { PhotoFaceScanner } from './photo-face-scanner.js';
import type {
  EmbedItem,
  EmbedOptions,
  EmbeddingPort,
  FaceEmbedding,
  FaceScanOptions,
  ModelInfo,
  PhotoFaceOptions,
  PhotoFaces,
} from './embedding.types.js';

export class EmbeddingService implements EmbeddingPort {
  readonly modelName: string;
  private readonly log: Logger;
  private readonly registry: ModelRegistry;
  private readonly detect: DetectMode;
  private readonly flip: FlipMode;
  private readonly timeoutMs: number;
  private readonly settings: WorkerSettings;
  /** Encrypted media files: the key the workers open them with (hex). */
  private readonly mediaKey: string | undefined;
  private readonly pool: WorkerPool<TaskRequest, AnyTaskOutput> | undefined;
  private readonly lanes: number;
  private readonly imagesPerTask: number;
  private versions: Map<string, string> | undefined;
  private starting: Promise<void> | undefined;
  private readonly photos: PhotoFaceScanner;

  constructor(opts: EmbeddingServiceOptions = {}) {
    const s = embeddingSettings(opts);
    this.modelName = s.modelName;
    this.log = s.log;
    this.registry = s.registry;
    this.detect = s.detect;
    this.flip = s.flip;
    this.timeoutMs = s.timeoutMs;
    this.settings = s.worker;
    this.mediaKey = s.mediaKey;
    this.lanes = s.lanes;
    this.imagesPerTask = s.imagesPerTask;
    if (s.pool) this.pool = new WorkerPool<TaskRequest, AnyTaskOutput>(s.pool);
    this.photos = new PhotoFaceScanner({
      run: (task) => this.runTask(task),
      stats: () => this.stats(),
      splitPhotos: s.splitPhotos,
      registry: s.registry,
      modelName: s.modelName,
      flip: s.flip,
      log: s.log,
    });
    const spec = this.registry.get(this.modelName);
    this.log.info(
      { isolation: s.isolation, workers: this.pool ? s.workers : 0 },
      `Initialized EmbeddingService with ${spec.name} model (${spec.dimensions}D)`,
    );
  }

  /** Workers booted with their models loaded (pool mode) and model versions known. */
  ready(): Promise<void> {
    this.starting ??= (async () => {
      this.versions = await modelVersions(this.registry);
      await this.pool?.ready();
    })();
    return this.starting;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  models(): ModelInfo[] {
    return this.registry.specs.map((s) => this.info(s.name));
  }

  resolveModel(name: string): ModelInfo {
    return this.info(name);
  }

  private info(name: string): ModelInfo {
    const s = this.registry.get(name);
    return {
      name: s.name,
      aliases: s.aliases,
      dimensions: s.dimensions,
      inputSize: s.input.size,
      threshold: s.threshold,
      ...(s.thresholdFar === undefined ? {} : { thresholdFar: s.thresholdFar }),
      ...(s.sizeBands ? { sizeBands: s.sizeBands } : {}),
      source: modelSource(s),
      licence: s.licence,
      version: this.versions?.get(s.name) ?? 'unknown',
    };
  }

  stats(): PoolStats {
    if (this.pool) return this.pool.stats();
    const restarts = Object.fromEntries(RESTART_CAUSES.map((c) => [c, 0])) as PoolStats['restarts'];
    return { workers: 0, booting: 0, busy: 0, idle: 0, queued: 0, restarts, pids: [] };
  }

  /**
   * How many images a batch keeps in flight (the one rule, for every batch of every service):
   * one running per worker plus at most one waiting per worker, never more than the queue
   * limit lets wait; in per-request isolation the same number of processes at a time.
   */
  batchLanes(): number {
    return this.lanes;
  }

  /** Runs one task on the pool and checks that the answer is of the task's kind. */
  private async runTask<R extends TaskRequest>(task: R, fields: Record<string, unknown> = {}): Promise<TaskOutput<R>> {
    if (!this.pool) throw new ValueError(`${task.kind} tasks need isolation 'pool'`);
    return checkOutput(task, await this.pool.run(task, { fields }));
  }

  async generateEmbedding(imagePath: string, opts: EmbedOptions = {}): Promise<FaceEmbedding> {
    const model = opts.modelName ?? this.modelName;
    this.registry.get(model); // an unknown name is ValueError before any work
    const log = opts.logFields ? this.log.child(opts.logFields) : this.log;
    const absPath = path.resolve(imagePath);
    log.debug({ model, imagePath: absPath }, `Generating ${model} embedding for: ${absPath}`);
    const started = performance.now();
    try {
      if (opts.face && !this.pool) throw new ValueError("Embedding a chosen face needs isolation 'pool'");
      const out = this.pool
        ? await this.runTask({ kind: 'embed', imagePath: absPath, ...this.embedTask(opts) }, opts.logFields)
        : await embedInFreshProcess(absPath, model, {
            workerModule: WORKER_MODULE,
            env: workerEnv(this.settings, this.mediaKey),
            timeoutMs: this.timeoutMs,
            logger: log,
          });
      return this.embedded(out, msSince(started), log);
    } catch (err) {
      throw this.failed(err, model, absPath, log);
    }
  }

  private embedTask(opts: EmbedOptions) {
    return {
      model: opts.modelName ?? this.modelName,
      detect: opts.detect ?? this.detect,
      flip: opts.flip ?? this.flip,
      ...(opts.face && { face: opts.face }),
    };
  }

  /** The one info line per embedding (the steps that led to it are at debug), and the caller's shape. */
  private embedded(out: EmbedOutput, durationMs: number, log: Logger): FaceEmbedding {
    const spec = this.registry.get(out.model);
    log.info(
      { model: spec.name, dimensions: out.dimensions, durationMs, workerMs: out.durationMs, timings: out.timings },
      `Successfully generated ${out.dimensions}D embedding in ${durationMs} ms`,
    );
    return {
      embedding: out.embedding,
      modelName: out.model,
      modelVersion: out.modelVersion,
      dimensions: out.dimensions,
      face: out.face,
      durationMs,
    };
  }

  private failed(err: unknown, model: string, absPath: string, log: Logger): FaceembedError {
    const e = toFaceembedError(err);
    log.warn(
      { model, imagePath: absPath, errorType: e.type, details: e.details, traceback: e.stack },
      `${e.type}: ${e.message}`,
    );
    return e;
  }

  /** In input order; a failed image gives null (its error is logged with its type). See embedEach. */
  async generateEmbeddingsBatch(
    imagePaths: readonly string[],
    opts: EmbedOptions = {},
  ): Promise<(FaceEmbedding | null)[]> {
    const out = await this.embedEach(
      imagePaths.map((imagePath) => ({ imagePath })),
      opts,
    );
    return out.map((r) => (r instanceof Error ? null : r));
  }

  /**
   * Many images, in input order: each its embedding or its typed error; `onEach` hears of every
   * result as it arrives (a caller stores rows while the rest still run). Only about two tasks
   * per worker are in flight (batchLanes): queuing the whole batch at once made every image past
   * the pool's queue limit fail with OverloadedError, and in per-request isolation started one
   * process per image at once. In a pool, each task carries up to imagesPerTask images (fewer, so
   * that every lane gets work), their chips run chipsPerRun at a time; an image the worker cannot use is
   * its own typed error inside the task. A task that fails as a whole (its worker died twice, a
   * timeout) is retried one image per task, so only the image at fault fails, as it would alone.
   * The workers are booted first, so nothing waits in the queue for them (if they cannot boot,
   * each image fails typed like any other failure).
   */
  async embedEach(
    items: readonly EmbedItem[],
    opts: EmbedOptions = {},
    onEach?: (index: number, result: FaceEmbedding | FaceembedError) => Promise<void> | void,
  ): Promise<(FaceEmbedding | FaceembedError)[]> {
    await this.ready().catch(() => undefined);
    const out = new Array<FaceEmbedding | FaceembedError>(items.length);
    const settle = async (i: number, result: FaceEmbedding | FaceembedError) => {
      out[i] = result;
      await onEach?.(i, result);
    };
    const fields = (i: number) => ({ ...opts.logFields, ...items[i]!.logFields });
    const one = async (i: number) =>
      settle(
        i,
        await this.generateEmbedding(items[i]!.imagePath, { ...opts, logFields: fields(i) }).catch((err: unknown) =>
          toFaceembedError(err),
        ),
      );
    const perTask = this.pool && !opts.face ? this.imagesPerTask : 1;
    const size = Math.max(1, Math.min(perTask, Math.ceil(items.length / this.lanes)));
    const groups = Array.from({ length: Math.ceil(items.length / size) }, (_, g) =>
      Array.from({ length: Math.min(size, items.length - g * size) }, (_, j) => g * size + j),
    );
    await eachLimited(groups, this.lanes, async (group) => {
      if (group.length === 1) return one(group[0]!);
      const paths = group.map((i) => path.resolve(items[i]!.imagePath));
      const task = this.embedTask(opts);
      const started = performance.now();
      let batch: EmbedBatchOutput;
      try {
        batch = await this.runTask({ kind: 'embedBatch', imagePaths: paths, ...task }, opts.logFields);
      } catch (err) {
        this.log
          .child(opts.logFields ?? {})
          .warn(
            { model: task.model, images: group.length, errorType: toFaceembedError(err).type },
            'Batch task failed as a whole; retrying its images one per task',
          );
        for (const i of group) await one(i);
        return;
      }
      const durationMs = msSince(started);
      for (const [j, item] of batch.items.entries()) {
        const i = group[j]!;
        const log = this.log.child(fields(i));
        await settle(
          i,
          item.kind === 'embed'
            ? this.embedded(item, durationMs, log)
            : this.failed(deserializeError(item.error), task.model, paths[j]!, log),
        );
      }
    });
    return out;
  }

  /** Every face of a photo (whole-photo detection), largest first. */
  async detectFaces(imagePath: string, opts: FaceScanOptions = {}): Promise<DetectedFace[]> {
    return (await this.detectFacesTimed(imagePath, opts)).faces;
  }

  /** detectFaces with the workers' stage timings (and `network`: onnxruntime's own milliseconds, summed over `workers`). */
  detectFacesTimed(
    imagePath: string,
    opts: FaceScanOptions = {},
  ): Promise<{ faces: DetectedFace[]; timings: Record<string, number> }> {
    return this.photos.detectFacesTimed(imagePath, opts);
  }

  /** Every face of a photo with its embedding, largest first, from one worker task (one decode). */
  embedFaces(imagePath: string, opts: PhotoFaceOptions = {}): Promise<PhotoFaces> {
    return this.photos.embedFaces(imagePath, opts);
  }

  static calculateSimilarity(a: FaceEmbedding, b: FaceEmbedding): number {
    return cosineSimilarity(a.embedding, b.embedding);
  }

  static cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
    return cosineSimilarity(a, b);
  }
}
