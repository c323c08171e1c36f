// What faceembed's workers do: the task kinds the pool carries (as opaque Req/Res, see
// pool/messages.ts), their outputs, the check that an output answers its task, and the settings
// a worker is started with. Imported by the worker and by the services that run tasks.
import { InternalError, type SerializedError } from '../errors.js';
import type { DetectedFace, DetectMode, FaceInfo } from '../domain/face.js';
import type { ScanCandidate } from '../detect/photo-scan.js';

export type TaskRequest =
  EmbedTask | { kind: 'detect'; imagePath: string } | EmbedBatchTask | FacesTask | ScanPartTask | RefitTask;

/** One image's embedding: its principal face (domain/principal-face.ts), or `face` when given. */
export interface EmbedTask {
  kind: 'embed';
  imagePath: string;
  model: string;
  detect: DetectMode;
  flip?: FlipMode;
  /** Align on this face (box and five points in the original image's pixels): no detection. */
  face?: DetectedFace;
}

/**
 * Several images in one task (a batch's crops): each decoded and aligned as an 'embed' task
 * would, then the chips through the network (WorkerSettings.chipsPerRun per run). Per-task
 * costs (IPC, scheduling) are paid once per task; an image that fails fails alone.
 */
export interface EmbedBatchTask {
  kind: 'embedBatch';
  imagePaths: string[];
  model: string;
  detect: DetectMode;
  flip?: FlipMode;
}

/**
 * Flip-averaging (embed the chip and its mirror, average): 'upsampled' only for chips cut from
 * faces smaller than the model's input, where it steadies the vector; default 'never'.
 */
export type FlipMode = 'never' | 'upsampled' | 'always';

/** Faces a 'faces' task keeps unless it says otherwise (the largest). */
export const DEFAULT_MAX_FACES = 1000;

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
  flip?: FlipMode;
}

/**
 * One share of a photo's detection windows (the part-th of `parts` runs of consecutive windows),
 * for a photo split over idle workers: the unmerged faces of those windows, and refitted by
 * FaceMesh on the full-resolution pixels those this share's own merge keeps (the refit of a face
 * is the same wherever it runs).
 */
export interface ScanPartTask {
  kind: 'scanPart';
  imagePath: string;
  part: number;
  parts: number;
  minFaceSize?: number;
}

export interface ScanPartOutput {
  kind: 'scanPart';
  /** Of the oriented photo. */
  width: number;
  height: number;
  candidates: ScanCandidate[];
  /** The index (in the photo's plan) of the window candidates[i] came from. */
  windowOf: number[];
  /** candidates[i] refitted by FaceMesh (FaceDetector.refitEach); null for a face this share's merge dropped. */
  refitted: (DetectedFace | null)[];
  durationMs: number;
  /** Per-stage milliseconds (decode, pyramid, detect, refine), the window count and `network` (onnxruntime's own time). */
  timings: Record<string, number>;
}

/** Faces refitted by FaceMesh on the photo's full-resolution pixels (FaceDetector.refitEach), in order. */
export interface RefitTask {
  kind: 'refit';
  imagePath: string;
  faces: DetectedFace[];
}

export interface RefitOutput {
  kind: 'refit';
  faces: DetectedFace[];
  durationMs: number;
  /** `network`: onnxruntime's own milliseconds. */
  timings: Record<string, number>;
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
  /** Per-stage milliseconds (decode, detect, align, infer), and `network`: the networks' own run time (all of them). */
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
  /**
   * Per-stage milliseconds (decode, pyramid, detect, merge, refine, align, embed), the window count,
   * `network` (onnxruntime's own time, summed over the workers) and `workers` (how many ran the photo).
   */
  timings: Record<string, number>;
}

export interface EmbedBatchOutput {
  kind: 'embedBatch';
  /** In the task's order: each image's output (its durationMs and timings.infer hold its share of the batch run), or its error. */
  items: (EmbedOutput | { kind: 'error'; error: SerializedError })[];
}

export type AnyTaskOutput = EmbedOutput | DetectOutput | FacesOutput | EmbedBatchOutput | ScanPartOutput | RefitOutput;
export type TaskOutput<R extends TaskRequest = TaskRequest> = R extends { kind: 'embed' }
  ? EmbedOutput
  : R extends { kind: 'faces' }
    ? FacesOutput
    : R extends { kind: 'embedBatch' }
      ? EmbedBatchOutput
      : R extends { kind: 'scanPart' }
        ? ScanPartOutput
        : R extends { kind: 'refit' }
          ? RefitOutput
          : DetectOutput;

/** The output a worker sent, as the output of `task`; InternalError when it answers another kind. */
export function checkOutput<R extends TaskRequest>(task: R, output: AnyTaskOutput): TaskOutput<R> {
  if (output?.kind !== task.kind) {
    throw new InternalError(`Worker answered a ${task.kind} task with ${String(output?.kind)}`);
  }
  return output as TaskOutput<R>;
}

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
  /** Align tight crops from FaceMesh alone, BlazeFace skipped (FACEEMBED_TIGHT_CROPS); default true. */
  tightCrops?: boolean;
  /**
   * Most chips of an 'embedBatch' task per network run (one batch tensor); default 1: the task
   * saves its per-task costs, the network runs chip by chip (docs/tight-crops.md measures 1 and 8).
   */
  chipsPerRun?: number;
}
