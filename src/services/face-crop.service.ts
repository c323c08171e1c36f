// Face crops and their embeddings: register or upload a crop, then generate, reuse or replace
// its embedding per model. Rules: an embedding of the current model version is reused unless
// the caller forces a new one; a stale version is regenerated; writes are upserts on
// (crop, model), so concurrent requests never leave two rows.
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Box, Point } from '../domain/face.js';
import { msSince } from '../domain/time.js';
import { cosineSimilarity } from '../domain/vector.js';
import {
  FileNotFoundError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
  toFaceembedError,
  type ErrorType,
  type FaceembedError,
} from '../errors.js';
import { cutFaces } from '../image/crop.js';
import { probeImage, verifyImage, type ImageInfo, type ImageLimits } from '../image/decode.js';
import type { FaceQuality } from '../domain/face-quality.js';
import { measureFaceQuality } from './face-quality.js';
import type { EmbeddingRepository, EmbeddingSummary, NewEmbedding } from '../repositories/embedding.repository.js';
import type { FaceCrop, FaceCropRepository } from '../repositories/face-crop.repository.js';
import type { MediaOwnerRepository } from '../repositories/media-owner.repository.js';
import { UPLOADS_DIR, type MediaFile, type MediaStorage, type StagedUpload } from '../repositories/media-storage.js';
import type { PersonRepository } from '../repositories/person.repository.js';
import type { EnrolmentGate } from './consent.service.js';
import type { EmbeddingPort, FaceEmbedding, ModelInfo } from './embedding.types.js';
import { ChunkedWriter } from './chunked-writer.js';
import { modelNames, storedModelNames, type ModelNames } from './model-names.js';

export type EmbeddingOutcome = 'generated' | 'existing' | 'failed';
/** Told about every embedding asked for (metrics). */
export type EmbeddingObserver = (event: { model: string; outcome: EmbeddingOutcome; errorType?: ErrorType }) => void;

/**
 * Told when face crops linked to a person got a new embedding or were deleted (the search
 * galleries listen); awaited, so that the answer to the change comes after the galleries took it.
 */
export type CropChangeListener = (faceCropIds: readonly number[]) => Promise<void>;

export interface FaceCropServiceDeps {
  crops: FaceCropRepository;
  embeddings: EmbeddingRepository;
  persons: PersonRepository;
  storage: MediaStorage;
  /** Who owns a file: a crop is never registered on, nor deletes, another row's file. */
  owners: MediaOwnerRepository;
  embedder: EmbeddingPort;
  limits: ImageLimits;
  observer?: EmbeddingObserver;
  changes?: CropChangeListener;
  /** Asked before a crop is stored as a person's (FACEEMBED_REQUIRE_CONSENT). */
  consent?: EnrolmentGate;
}

export interface CropMeta {
  /**
   * A person id (number), or text: an external_id, the person found or created by it (what
   * the free-text person_id of earlier versions meant; the 0002 migration did the same).
   */
  personId?: number | string | null;
  label?: string | null;
  /** Where the face is in the image (enrolment from a photo). */
  box?: Box | null;
  /** The face's measured quality (enrolment from a photo). */
  quality?: FaceQuality;
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

/** A stored embedding as listed: named by the naming rule. */
export type ListedEmbedding = Omit<EmbeddingSummary, 'modelName'> & ModelNames;

/** A batch writes its rows in one statement per WRITE_CHUNK rows, or per FLUSH_MS of computed work. */
const WRITE_CHUNK = 100;
const FLUSH_MS = 1000;

const ownerName = (o: { faceCropIds: number[]; photoIds: number[]; jobItems: number }): string =>
  o.photoIds.length
    ? `session photo ${o.photoIds[0]}`
    : o.faceCropIds.length
      ? `face crop ${o.faceCropIds[0]}`
      : o.jobItems
        ? 'a queued job'
        : 'another use';

/** What a client may see of a failure: internal messages stay in the log. */
function publicError(e: FaceembedError): { type: ErrorType; message: string } {
  return { type: e.type, message: e.type === 'InternalError' ? 'Internal error' : e.message };
}

export class FaceCropService {
  constructor(private readonly deps: FaceCropServiceDeps) {}

  // ---- crops -------------------------------------------------------------------------------

  /**
   * A file already under the media root, placed there by the client. The service's own files
   * (uploads/: class photos, their faces, uploaded crops) are refused: each stored file has one
   * owner and goes with it.
   */
  async registerCrop(imagePath: string, meta: CropMeta = {}): Promise<FaceCrop> {
    const { storage, limits, crops } = this.deps;
    const file = await storage.resolve(imagePath);
    await this.assertRegistrable(file.relPath);
    const info = await probeImage(file.absPath, limits);
    const sha256 = await storage.sha256(file.absPath);
    const personId = await this.resolvePerson(meta.personId);
    return crops.create({
      imagePath: file.relPath,
      width: info.width,
      height: info.height,
      sha256,
      label: meta.label,
      personId,
    });
  }

  /** First half of an upload: bytes to a temporary file (capped). */
  stageUpload(stream: Readable): Promise<StagedUpload> {
    return this.deps.storage.stageUpload(stream, this.deps.limits.maxBytes);
  }

  /** A file under the media root, staged like an upload (FileNotFoundError, ValidationError, ImageTooLargeError). */
  stageStoredFile(imagePath: string): Promise<StagedUpload> {
    return this.deps.storage.stageFile(imagePath, this.deps.limits.maxBytes);
  }

  /** Checks that a staged upload is an image within the limits (ImageDecodeError, ImageTooLargeError); its size. */
  probeUpload(staged: StagedUpload): Promise<ImageInfo> {
    return verifyImage(staged.tmpPath, this.deps.limits);
  }

  /** The quality of one face of a staged upload (width, sharpness, pose), measured as session faces are. */
  async uploadFaceQuality(staged: StagedUpload, face: { box: Box; landmarks: readonly Point[] }): Promise<FaceQuality> {
    const [cut] = await cutFaces(staged.tmpPath, [face.box], this.deps.limits);
    return measureFaceQuality(cut!, face);
  }

  discardUpload(staged: StagedUpload): Promise<void> {
    return this.deps.storage.discard(staged);
  }

  /** Second half: decode the content in full (a truncated file is refused), keep it under a generated name, record it. */
  async createFromUpload(staged: StagedUpload, meta: CropMeta = {}): Promise<FaceCrop> {
    const { storage, limits, crops } = this.deps;
    let info;
    let personId;
    try {
      info = await verifyImage(staged.tmpPath, limits);
      personId = await this.resolvePerson(meta.personId);
    } catch (err) {
      await storage.discard(staged);
      throw err;
    }
    const file = await storage.commitUpload(staged, info.format);
    try {
      return await crops.create({
        imagePath: file.relPath,
        width: info.width,
        height: info.height,
        sha256: staged.sha256,
        label: meta.label,
        box: meta.box,
        personId,
        ...(meta.quality && { quality: meta.quality }),
      });
    } catch (err) {
      await storage.removeUpload(file.relPath);
      throw err;
    }
  }

  /** `groupIds`: only crops of these groups' members and session photos (a scoped key's groups). */
  listCrops(opts: {
    page: number;
    pageSize: number;
    personId?: number;
    groupIds?: readonly number[];
  }): Promise<{ count: number; crops: FaceCrop[] }> {
    return this.deps.crops.list({
      offset: (opts.page - 1) * opts.pageSize,
      limit: opts.pageSize,
      personId: opts.personId,
      groupIds: opts.groupIds,
    });
  }

  async getCrop(id: number): Promise<{ crop: FaceCrop; embeddings: ListedEmbedding[] }> {
    const crop = await this.findCrop(id);
    const stored = await this.deps.embeddings.listForCrop(id);
    return {
      crop,
      embeddings: stored.map(({ modelName, ...e }) => ({ ...e, ...storedModelNames(this.deps.embedder, modelName) })),
    };
  }

  /** The crop's image file, checked to be inside the media root (FileNotFoundError when gone). */
  async cropImage(id: number): Promise<MediaFile> {
    const crop = await this.findCrop(id);
    return this.deps.storage.resolve(crop.imagePath);
  }

  /**
   * Deletes the crop and its embeddings; its file goes too when the service stored it and no
   * other row (a crop, a class photo, a queued job) owns that file.
   */
  async deleteCrop(id: number): Promise<void> {
    const crop = await this.deps.crops.delete(id);
    if (!crop) throw new NotFoundError(`Face crop ${id} not found`, { face_crop_id: id });
    if (crop.personId !== null) await this.deps.changes?.([id]);
    const owners = await this.deps.owners.ownersOf(crop.imagePath);
    if (owners.faceCropIds.length === 0 && owners.photoIds.length === 0 && owners.jobItems === 0)
      await this.deps.storage.removeUpload(crop.imagePath);
  }

  /** The crop's image bytes (decrypted when the media are encrypted at rest). */
  async cropImageData(id: number): Promise<{ file: MediaFile; data: Buffer }> {
    const file = await this.cropImage(id);
    return { file, data: await this.deps.storage.read(file.relPath) };
  }

  // ---- embeddings --------------------------------------------------------------------------

  async generateEmbedding(id: number, opts: GenerateOptions): Promise<GeneratedEmbedding> {
    const started = performance.now();
    const model = await this.model(opts.modelName);
    try {
      const crop = await this.findCrop(id);
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

  /**
   * Files the service stored itself (uploads/) and files a class photo or a queued job owns are
   * not the client's to register. Crops may share a file of the client's (it is never deleted
   * while one of them names it).
   */
  private async assertRegistrable(relPath: string): Promise<void> {
    const owners = await this.deps.owners.ownersOf(relPath);
    if (!relPath.startsWith(`${UPLOADS_DIR}/`) && owners.photoIds.length === 0 && owners.jobItems === 0) return;
    throw new UnprocessableError(
      `Invalid image_path: ${relPath} is a file the service stored for ${ownerName(owners)}; register a file of your own`,
      {
        image_path: relPath,
        ...(owners.faceCropIds.length ? { face_crop_id: owners.faceCropIds[0] } : {}),
        ...(owners.photoIds.length ? { photo_id: owners.photoIds[0] } : {}),
      },
    );
  }

  private async resolvePerson(ref: number | string | null | undefined): Promise<number | null> {
    if (ref === undefined || ref === null) return null;
    let id: number;
    if (typeof ref === 'string') {
      const found = await this.deps.persons.findByExternalId(ref);
      // Nothing half-written: a person who would be created now has no consent on record.
      if (!found) this.deps.consent?.assertMayEnrolNew();
      id = (found ?? (await this.deps.persons.findOrCreateByExternalId(ref))).id;
    } else id = ref;
    if (typeof ref === 'number' && (await this.deps.persons.missingIds([ref])).length > 0)
      throw new ValidationError(`Unknown person id: ${ref}`, { person_id: ref });
    await this.deps.consent?.assertMayEnrol(id);
    return id;
  }

  /** The model's current version is known only once the embedder is ready. */
  private async model(name: string): Promise<ModelInfo> {
    this.deps.embedder.resolveModel(name); // an unknown name fails fast, before any waiting
    await this.deps.embedder.ready();
    return this.deps.embedder.resolveModel(name);
  }

  private async findCrop(id: number): Promise<FaceCrop> {
    const crop = await this.deps.crops.findById(id);
    if (!crop) throw new NotFoundError(`Face crop ${id} not found`, { face_crop_id: id });
    return crop;
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
