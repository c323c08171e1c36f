// What the HTTP API and the CLI need from the embedding service (the port), and the shapes it
// returns. EmbeddingService implements it.
import type { Box, FaceInfo, DetectMode, DetectedFace, Point } from '../domain/face.js';
import type { SizeBand } from '../domain/face-threshold.js';
import type { FaceembedError } from '../errors.js';
import type { PoolStats } from '../inference/pool/pool-options.js';
import type { FlipMode } from '../inference/protocol.js';

export interface ModelInfo {
  name: string;
  aliases: string[];
  dimensions: number;
  inputSize: number;
  /** Default cosine threshold: similarity >= threshold means "same person". */
  threshold: number;
  /** The false-accept rate (LFW dev impostor pairs) at which `threshold` was chosen, when known. */
  thresholdFar?: number;
  /** Thresholds for small faces (domain/face-threshold.ts); unset: `threshold` for every size. */
  sizeBands?: readonly SizeBand[];
  /** The npm package the weights come from, or the user's ONNX file. */
  source: string;
  /** Terms of use of the weights and where they come from. */
  licence: string;
  /** Hash of the weights; recorded with every stored embedding. */
  version: string;
}

export interface FaceEmbedding {
  embedding: Float32Array;
  modelName: string;
  modelVersion: string;
  dimensions: number;
  face: FaceInfo;
  durationMs: number;
}

export interface EmbedOptions {
  /** Overrides the service's default model. */
  modelName?: string;
  detect?: DetectMode;
  /** Flip-averaging of the chip: 'never', 'upsampled' (faces smaller than the model input) or 'always'. */
  flip?: FlipMode;
  /** Extra log fields (e.g. the HTTP request id) put on every log line of this embedding. */
  logFields?: Record<string, unknown>;
  /** Embed this face of the image (one detectFaces found): no detection of its own. */
  face?: DetectedFace;
}

/** One image of embedEach, with log fields of its own (e.g. its face crop's id). */
export interface EmbedItem {
  imagePath: string;
  logFields?: Record<string, unknown>;
}

export interface FaceScanOptions {
  /** Face width (photo pixels) the scan is sized for (default 24); smaller faces may still be found. */
  minFaceSize?: number;
  /** Keep at most this many faces, the largest (default 1000). */
  maxFaces?: number;
}

export interface PhotoFaceOptions extends FaceScanOptions {
  /** Overrides the service's default model. */
  modelName?: string;
  flip?: FlipMode;
}

export interface PhotoFace {
  box: Box;
  score: number;
  landmarks: Point[];
  /** L2-normalised. */
  embedding: Float32Array;
}

export interface PhotoFaces {
  /** Of the oriented image. */
  width: number;
  height: number;
  modelName: string;
  modelVersion: string;
  dimensions: number;
  /** Largest face first. */
  faces: PhotoFace[];
  durationMs: number;
  /** Worker stages (decode, pyramid, detect, merge, align, embed) in ms, and the window count. */
  timings: Record<string, number>;
}

export type { PoolStats } from '../inference/pool/pool-options.js';

export interface EmbeddingPort {
  ready(): Promise<void>;
  close(): Promise<void>;
  /** Rejects with a FaceembedError (ValueError for an unknown model, FileNotFoundError, …). */
  generateEmbedding(imagePath: string, opts?: EmbedOptions): Promise<FaceEmbedding>;
  /**
   * Many images, several per worker task, in input order: each an embedding or its typed error.
   * `onEach` hears of every result as it arrives.
   */
  embedEach(
    items: readonly EmbedItem[],
    opts?: EmbedOptions,
    onEach?: (index: number, result: FaceEmbedding | FaceembedError) => Promise<void> | void,
  ): Promise<(FaceEmbedding | FaceembedError)[]>;
  detectFaces(imagePath: string, opts?: FaceScanOptions): Promise<DetectedFace[]>;
  /** Every face of a photo with its embedding, from one worker task (one decode). No face: an empty list. */
  embedFaces(imagePath: string, opts?: PhotoFaceOptions): Promise<PhotoFaces>;
  /** Throws ValueError for an unknown name or alias. */
  resolveModel(name: string): ModelInfo;
  models(): ModelInfo[];
  stats(): PoolStats;
  /** Embeddings a batch should keep in flight: the embedder's own fan-out rule, for every batch. */
  batchLanes(): number;
}
