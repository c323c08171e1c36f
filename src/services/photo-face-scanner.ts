// The whole-photo paths of EmbeddingService: every face of a photo detected, or detected and
// embedded, from one worker task (one decode); a detection is split over idle workers
// (split-photo.ts) while no task waits.
import path from 'node:path';
import type { DetectedFace } from '../domain/face.js';
import { toFaceembedError } from '../errors.js';
import type { PoolStats } from '../inference/pool/pool-options.js';
import type { FacesOutput, FacesTask, FlipMode, TaskOutput, TaskRequest } from '../inference/protocol.js';
import type { Logger } from '../logging/logger.js';
import type { ModelRegistry } from '../models/registry.js';
import { scanOptions } from './scan-options.js';
import { splitPhotoFaces } from './split-photo.js';
import type { FaceScanOptions, PhotoFaceOptions, PhotoFaces } from './embedding.types.js';

/** What the photo paths take of the service: its pool and its defaults. */
export interface PhotoFaceScannerDeps {
  /** One task on the pool, its answer checked to be of the task's kind. */
  run<R extends TaskRequest>(task: R): Promise<TaskOutput<R>>;
  stats(): PoolStats;
  splitPhotos: boolean;
  registry: ModelRegistry;
  modelName: string;
  flip: FlipMode;
  log: Logger;
}

export class PhotoFaceScanner {
  constructor(private readonly deps: PhotoFaceScannerDeps) {}

  /** EmbeddingService.detectFacesTimed. */
  async detectFacesTimed(
    imagePath: string,
    opts: FaceScanOptions = {},
  ): Promise<{ faces: DetectedFace[]; timings: Record<string, number> }> {
    const out = await this.runFaces({ kind: 'faces', imagePath: path.resolve(imagePath), ...scanOptions(opts) });
    return { faces: out.faces.map(({ box, score, landmarks }) => ({ box, score, landmarks })), timings: out.timings };
  }

  /** EmbeddingService.embedFaces. */
  async embedFaces(imagePath: string, opts: PhotoFaceOptions = {}): Promise<PhotoFaces> {
    const model = opts.modelName ?? this.deps.modelName;
    const spec = this.deps.registry.get(model);
    const started = performance.now();
    const out = await this.runFaces({
      kind: 'faces',
      imagePath: path.resolve(imagePath),
      model,
      flip: opts.flip ?? this.deps.flip,
      ...scanOptions(opts),
    });
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    this.deps.log.info(
      { model: spec.name, faces: out.faces.length, durationMs, timings: out.timings },
      `Embedded ${out.faces.length} face(s) of ${imagePath}`,
    );
    return {
      width: out.width,
      height: out.height,
      modelName: model,
      modelVersion: out.modelVersion ?? 'unknown',
      dimensions: out.dimensions ?? spec.dimensions,
      faces: out.faces.map(({ box, score, landmarks, embedding }) => ({
        box,
        score,
        landmarks,
        embedding: embedding ?? new Float32Array(0),
      })),
      durationMs,
      timings: out.timings,
    };
  }

  private async runFaces(task: FacesTask): Promise<FacesOutput> {
    try {
      // Split only while no task waits, so that the shares overtake no one: with a backlog the
      // pool runs whole tasks, first come, first served.
      const { workers, queued } = this.deps.stats();
      if (this.deps.splitPhotos && !task.model && workers >= 2 && queued === 0)
        return await splitPhotoFaces(task, workers, (share) => this.deps.run(share));
      return await this.deps.run(task);
    } catch (err) {
      throw toFaceembedError(err);
    }
  }
}
