// The package's library API (docs/cli.md "Library").
import { EmbeddingService } from './services/embedding.service.js';
import type { EmbeddingServiceOptions } from './services/embedding-settings.js';
import type { DetectedFace } from './domain/face.js';
import type { FaceEmbedding, FaceScanOptions } from './services/embedding.types.js';

export { EmbeddingService } from './services/embedding.service.js';
export type { EmbeddingServiceOptions } from './services/embedding-settings.js';
export type {
  FaceEmbedding,
  ModelInfo,
  EmbedOptions,
  FaceScanOptions,
  PhotoFace,
  PhotoFaceOptions,
  PhotoFaces,
} from './services/embedding.types.js';
export type { Box, Point, DetectedFace, FaceInfo, DetectMode } from './domain/face.js';
export { FaceembedError, type ErrorType } from './errors.js';

/** Runs `fn` on a one-off service that is always closed afterwards (no worker outlives the call). */
async function withService<T>(
  opts: EmbeddingServiceOptions,
  workers: number,
  fn: (s: EmbeddingService) => Promise<T>,
): Promise<T> {
  const service = new EmbeddingService({ workers, ...opts });
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}

export function generateEmbedding(imagePath: string, opts: EmbeddingServiceOptions = {}): Promise<FaceEmbedding> {
  return withService(opts, 1, (s) => s.generateEmbedding(imagePath));
}

/** Cosine similarity of the two images' embeddings. */
export function calculateSimilarity(pathA: string, pathB: string, opts: EmbeddingServiceOptions = {}): Promise<number> {
  return withService(opts, 2, async (s) => {
    const [a, b] = await Promise.all([s.generateEmbedding(pathA), s.generateEmbedding(pathB)]);
    return EmbeddingService.calculateSimilarity(a, b);
  });
}

/** Every face of a photo: [{ box, score, landmarks }], largest first. */
export function detectFaces(
  imagePath: string,
  opts: EmbeddingServiceOptions & FaceScanOptions = {},
): Promise<DetectedFace[]> {
  const { minFaceSize, maxFaces, ...service } = opts;
  return withService(service, 1, (s) =>
    s.detectFaces(imagePath, {
      ...(minFaceSize !== undefined ? { minFaceSize } : {}),
      ...(maxFaces !== undefined ? { maxFaces } : {}),
    }),
  );
}
