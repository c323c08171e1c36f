// The typed message protocol between the pool (parent) and a worker process (child), imported
// by both sides. Messages travel over the fork() IPC channel with `serialization: 'advanced'`
// (structured clone), so Float32Array vectors cross as binary, not as JSON number arrays.
import type { SerializedError } from '../errors.js';
import type { DetectedFace, DetectMode, FaceInfo } from '../domain/face.js';

export type TaskRequest =
  | { kind: 'embed'; imagePath: string; model: string; detect: DetectMode }
  | { kind: 'detect'; imagePath: string }
  | FacesTask;

/** One photo, decoded once: every face detected, and with `model` every face aligned and embedded. */
export interface FacesTask {
  kind: 'faces';
  imagePath: string;
  /** Omitted: detection only (no embeddings). */
  model?: string;
  /** Face width (photo pixels) the scan is sized for. */
  minFaceSize?: number;
  /** Keep at most this many faces, the largest. */
  maxFaces?: number;
}

export interface EmbedOutput {
  kind: 'embed';
  /** L2-normalised. */
  embedding: Float32Array;
  model: string;
  modelVersion: string;
  dimensions: number;
  face: FaceInfo;
  durationMs: number;
  /** Per-stage milliseconds (decode, detect, align, infer). */
  timings: Record<string, number>;
}

export interface DetectOutput {
  kind: 'detect';
  faces: DetectedFace[];
  width: number;
  height: number;
  durationMs: number;
}

export interface PhotoFaceOutput extends DetectedFace {
  /** L2-normalised; present when the task named a model. */
  embedding?: Float32Array;
}

export interface FacesOutput {
  kind: 'faces';
  /** Of the oriented photo. */
  width: number;
  height: number;
  model?: string;
  modelVersion?: string;
  dimensions?: number;
  /** Largest first. */
  faces: PhotoFaceOutput[];
  durationMs: number;
  /** Per-stage milliseconds (decode, pyramid, detect, merge, align, embed) and the window count. */
  timings: Record<string, number>;
}

/** Anything a worker answers a task with. */
export type WorkerOutput = EmbedOutput | DetectOutput | FacesOutput;

export type TaskOutput<R extends TaskRequest = TaskRequest> = R extends { kind: 'embed' }
  ? EmbedOutput
  : R extends { kind: 'faces' }
    ? FacesOutput
    : DetectOutput;

/** Parent -> worker. */
export type ToWorker = { type: 'run'; jobId: number; task: TaskRequest } | { type: 'shutdown' };

/** Worker -> parent. `rssBytes` rides on every reply so the pool can recycle fat workers. */
export type FromWorker =
  | { type: 'ready'; pid: number; models: string[] }
  | { type: 'log'; jobId?: number; message: string; fields?: Record<string, unknown> }
  | { type: 'result'; jobId: number; output: WorkerOutput; rssBytes: number }
  | { type: 'error'; jobId: number; error: SerializedError; rssBytes: number }
  /** init() failed: sent once, just before the worker exits, so the pool can say why. */
  | { type: 'init-error'; error: SerializedError };

/** Argument that makes the worker module run as a long-lived IPC worker. */
export const IPC_FLAG = '--ipc';

/** What the parent tells a worker at spawn (JSON after IPC_FLAG): the worker reads no config of its own. */
export interface WorkerSettings {
  modelsDir: string;
  modelsConfig?: string;
  /** Models to load before reporting ready. */
  preload: string[];
  /** onnxruntime intra-op threads per session. */
  threads: number;
  /**
   * Intra-op threads of the whole-photo detector (default: threads). One class photo is tens of
   * detector windows in one task: on an otherwise idle pool it may use every core.
   */
  photoThreads?: number;
  limits: { maxBytes: number; maxPixels: number };
}

/** The worker's result file (CONTRACT "Result file / JSON line"); also the CLI's JSON line. */
export type ResultFile =
  | {
      success: true;
      model: string;
      model_version: string;
      dimensions: number;
      embedding: number[];
      duration_ms: number;
      face: EmbedOutput['face'];
    }
  | { success: false; error: SerializedError };

export function toResultFile(output: EmbedOutput): ResultFile {
  return {
    success: true,
    model: output.model,
    model_version: output.modelVersion,
    dimensions: output.dimensions,
    embedding: Array.from(output.embedding),
    duration_ms: output.durationMs,
    face: output.face,
  };
}
