// What the HTTP API and the CLI need from the embedding service (the port), and the shapes it
// returns. EmbeddingService implements it.
import type { FaceInfo, DetectMode, DetectedFace } from '../domain/face.js';
import type { PoolStats } from '../inference/pool/pool-options.js';

export interface ModelInfo {
  name: string;
  aliases: string[];
  dimensions: number;
  inputSize: number;
  /** Default cosine threshold: similarity >= threshold means "same person". */
  threshold: number;
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
  /** Extra log fields (e.g. the HTTP request id) put on every log line of this embedding. */
  logFields?: Record<string, unknown>;
}

export type { PoolStats } from '../inference/pool/pool-options.js';

export interface EmbeddingPort {
  ready(): Promise<void>;
  close(): Promise<void>;
  /** Rejects with a FaceembedError (ValueError for an unknown model, FileNotFoundError, …). */
  generateEmbedding(imagePath: string, opts?: EmbedOptions): Promise<FaceEmbedding>;
  detectFaces(imagePath: string): Promise<DetectedFace[]>;
  /** Throws ValueError for an unknown name or alias. */
  resolveModel(name: string): ModelInfo;
  models(): ModelInfo[];
  stats(): PoolStats;
  /** Embeddings a batch should keep in flight: the embedder's own fan-out rule, for every batch. */
  batchLanes(): number;
}
