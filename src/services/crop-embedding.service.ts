// Embeddings of stored face crops: generate, reuse or replace one per model, a batch of them, or
// the similarity of two. Rules: an embedding of the current model version is reused unless the
// caller forces a new one; a stale version is regenerated; writes are upserts on (crop, model),
// so concurrent requests never leave two rows.
import { performance } from 'node:perf_hooks';
import { msSince } from '../domain/time.js';
import { cosineSimilarity } from '../domain/vector.js';
import { FileNotFoundError, NotFoundError, toFaceembedError, type ErrorType, type FaceembedError } from '../errors.js';
import type { EmbeddingRepository, NewEmbedding } from '../repositories/embedding.repository.js';
import type { FaceCrop, FaceCropRepository } from '../repositories/face-crop.repository.js';
import type { MediaFile, MediaStorage } from '../repositories/media-storage.js';
import type { EmbeddingPort, FaceEmbedding, ModelInfo } from './embedding.types.js';
import { ChunkedWriter } from './chunked-writer.js';
import { modelNames, type ModelNames } from './model-names.js';

export type EmbeddingOutcome = 'generated' | 'existing' | 'failed';
/** Told about every embedding asked for (metrics). */
export type EmbeddingObserver = (event: { model: string; outcome: EmbeddingOutcome; errorType?: ErrorType }) => void;

/**
 * Told when face crops linked to a person got a new embedding or were deleted (the search
 * galleries listen); awaited, so that the answer to the change comes after the galleries took it.
 */
export type CropChangeListener = (faceCropIds: readonly number[]) => Promise<void>;

export interface CropEmbeddingDeps {
  crops: FaceCropRepository;
  embeddings: EmbeddingRepository;
  storage: MediaStorage;
  embedder: EmbeddingPort;
  observer?: EmbeddingObserver;
  changes?: CropChangeListener;
}

export interface GenerateOptions {
  /** As the client sent it (an alias is fine); answers echo it. */
  modelName: string;
  force: boolean;
  /** Put on the embedder's log lines (request id). */
  logFields?: Record<string, unknown>;
}

export interface GeneratedEmbedding extends ModelNames {
  faceCropId: number;
  modelVersion: string;
  dimensions: number;
  embedding: Float32Array;
  regenerated: boolean;
  durationMs: number;
}

export interface BatchItem {
  faceCropId: number;
  status: EmbeddingOutcome;
  error?: { type: ErrorType; message: string };
  /** The full error, for the log; not part of any response. */
  cause?: FaceembedError;
}

export interface BatchResult extends ModelNames {
  results: BatchItem[];
  summary: Record<EmbeddingOutcome, number>;
}

export interface SimilarityResult extends ModelNames {
  similarity: number;
  threshold: number;
  verified: boolean;
}

/** A batch writes its rows in one statement per WRITE_CHUNK rows, or per FLUSH_MS of computed work. */
const WRITE_CHUNK = 100;
const FLUSH_MS = 1000;

/** What a client may see of a failure: internal messages stay in the log. */
function publicError(e: FaceembedError): { type: ErrorType; message: string } {
  return { type: e.type, message: e.type === 'InternalError' ? 'Internal error' : e.message };
}

/** The crop, or NotFoundError: both the crop service and the embedding path look crops up so. */
export async function findCrop(crops: FaceCropRepository, id: number): Promise<FaceCrop> {
  const crop = await crops.findById(id);
  if (!crop) throw new NotFoundError(`Face crop ${id} not found`, { face_crop_id: id });
  return crop;
}

export class CropEmbeddingService {
  constructor(private readonly deps: CropEmbeddingDeps) {}

  async generateEmbedding(id: number, opts: GenerateOptions): Promise<GeneratedEmbedding> {
    const started = performance.now();
    const model = await this.model(opts.modelName);
    try {
      const crop = await findCrop(this.deps.crops, id);
      if (!opts.force) {
        const stored = await this.deps.embeddings.find(id, model.name);
        if (stored && stored.modelVersion === model.version) {
          this.observe(model, 'existing');
          return {
            ...stored,
            ...modelNames(model, opts.modelName),
            regenerated: false,
            durationMs: msSince(started),
          };
        }
      }
      const e = await this.compute(crop, opts);
      await this.write(this.row(crop.id, model, e));
      this.observe(model, 'generated');
      if (crop.personId !== null) await this.deps.changes?.([id]);
      return {
        faceCropId: id,
        ...modelNames(model, opts.modelName),
        modelVersion: e.modelVersion,
        dimensions: e.embedding.length,
        embedding: e.embedding,
        regenerated: true,
        durationMs: msSince(started),
      };
    } catch (err) {
      this.observe(model, 'failed', toFaceembedError(err).type);
      throw err;
    }
  }

  /** Each id answered once, in request order; one failure never fails the others. */
  async generateBatch(ids: readonly number[], opts: GenerateOptions): Promise<BatchResult> {
    const { embedder, crops, embeddings } = this.deps;
    const model = await this.model(opts.modelName);
    const unique = [...new Set(ids)];
    const found = new Map((await crops.findByIds(unique)).map((c) => [c.id, c]));
    const versions = opts.force ? new Map<number, string>() : await embeddings.findVersions(unique, model.name);

    const items = new Map<number, BatchItem>();
    const todo: FaceCrop[] = [];
    for (const id of unique) {
      const crop = found.get(id);
      if (!crop)
        items.set(id, this.failed(model, id, new NotFoundError(`Face crop ${id} not found`, { face_crop_id: id })));
      else if (versions.get(id) === model.version) items.set(id, { faceCropId: id, status: 'existing' });
      else todo.push(crop);
    }

    // Rows are written as they are computed, a chunk at a time: a crash loses at most ~FLUSH_MS of work.
    const writer = new ChunkedWriter<NewEmbedding>((rows) => this.writeBatch(model, rows, items, found), {
      maxRows: WRITE_CHUNK,
      maxDelayMs: FLUSH_MS,
    });
    // Several crops per worker task (EmbeddingService.embedEach): each crop its row or its typed error, rows queued as they arrive.
    const ready: FaceCrop[] = [];
    const files: string[] = [];
    for (const crop of todo) {
      try {
        files.push((await this.cropFile(crop)).absPath);
        ready.push(crop);
      } catch (err) {
        items.set(crop.id, this.failed(model, crop.id, err));
      }
    }
    await embedder.embedEach(
      ready.map((crop, i) => ({ imagePath: files[i]!, logFields: { face_crop_id: crop.id } })),
      { modelName: opts.modelName, ...(opts.logFields ? { logFields: opts.logFields } : {}) },
      async (i, result) => {
        const crop = ready[i]!;
        if (result instanceof Error) items.set(crop.id, this.failed(model, crop.id, result));
        else await writer.add(this.row(crop.id, model, result));
      },
    );
    await writer.close();

    const results = unique.map((id) => items.get(id)!);
    for (const r of results) if (r.status === 'existing') this.observe(model, 'existing');
    const summary = { generated: 0, existing: 0, failed: 0 };
    for (const r of results) summary[r.status]++;
    return { ...modelNames(model, opts.modelName), results, summary };
  }

  /** Cosine similarity of two crops' embeddings (computed first where missing or stale). */
  async similarity(a: number, b: number, opts: Omit<GenerateOptions, 'force'>): Promise<SimilarityResult> {
    const model = await this.model(opts.modelName);
    const get = (id: number) => this.generateEmbedding(id, { ...opts, force: false });
    const ea = await get(a);
    const eb = a === b ? ea : await get(b);
    const similarity = cosineSimilarity(ea.embedding, eb.embedding);
    return {
      similarity,
      threshold: model.threshold,
      verified: similarity >= model.threshold,
      ...modelNames(model, opts.modelName),
    };
  }

  // ---- internals ---------------------------------------------------------------------------

  /** The model's current version is known only once the embedder is ready. */
  private async model(name: string): Promise<ModelInfo> {
    this.deps.embedder.resolveModel(name); // an unknown name fails fast, before any waiting
    await this.deps.embedder.ready();
    return this.deps.embedder.resolveModel(name);
  }

  /** Resolved again on every use: the file may have been removed or swapped for a symlink. */
  private async cropFile(crop: FaceCrop): Promise<MediaFile> {
    return this.deps.storage.resolve(crop.imagePath).catch((err: unknown) => {
      if (err instanceof FileNotFoundError)
        throw new FileNotFoundError(`Image file not found for face crop ${crop.id}: ${crop.imagePath}`, err.details);
      throw err;
    });
  }

  private async compute(crop: FaceCrop, opts: GenerateOptions): Promise<FaceEmbedding> {
    return this.deps.embedder.generateEmbedding((await this.cropFile(crop)).absPath, {
      modelName: opts.modelName,
      logFields: { ...opts.logFields, face_crop_id: crop.id },
    });
  }

  private row(faceCropId: number, model: ModelInfo, e: FaceEmbedding): NewEmbedding {
    return { faceCropId, modelName: model.name, modelVersion: e.modelVersion, embedding: e.embedding };
  }

  /** One upsert; a crop deleted meanwhile (foreign key) is reported as not found. */
  private async write(row: NewEmbedding): Promise<void> {
    try {
      await this.deps.embeddings.upsert(row);
    } catch (err) {
      if (!(await this.deps.crops.findById(row.faceCropId))) {
        throw new NotFoundError(`Face crop ${row.faceCropId} was deleted`, { face_crop_id: row.faceCropId });
      }
      throw err;
    }
  }

  /** One multi-row upsert; a chunk that fails is retried row by row so one bad row fails alone. */
  private async writeBatch(
    model: ModelInfo,
    chunk: NewEmbedding[],
    items: Map<number, BatchItem>,
    crops: ReadonlyMap<number, FaceCrop>,
  ): Promise<void> {
    const linked: number[] = [];
    const done = (row: NewEmbedding) => {
      items.set(row.faceCropId, { faceCropId: row.faceCropId, status: 'generated' });
      this.observe(model, 'generated');
      const personId = crops.get(row.faceCropId)?.personId;
      if (personId !== undefined && personId !== null) linked.push(row.faceCropId);
    };
    try {
      await this.deps.embeddings.upsertMany(chunk);
      chunk.forEach(done);
    } catch {
      for (const row of chunk) {
        try {
          await this.write(row);
          done(row);
        } catch (err) {
          items.set(row.faceCropId, this.failed(model, row.faceCropId, err));
        }
      }
    }
    if (linked.length > 0) await this.deps.changes?.(linked);
  }

  private failed(model: ModelInfo, faceCropId: number, err: unknown): BatchItem {
    const cause = toFaceembedError(err);
    this.observe(model, 'failed', cause.type);
    return { faceCropId, status: 'failed', error: publicError(cause), cause };
  }

  private observe(model: ModelInfo, outcome: EmbeddingOutcome, errorType?: ErrorType): void {
    this.deps.observer?.({ model: model.name, outcome, errorType });
  }
}
