// Face crops: register a file of the client's or upload one, list, read and delete them. Their
// embeddings are made by CropEmbeddingService (crop-embedding.service.ts); this service hands
// those calls on, so that callers hold one service for crops and their embeddings.
import type { Readable } from 'node:stream';
import type { Box, Point } from '../domain/face.js';
import { NotFoundError, UnprocessableError, ValidationError } from '../errors.js';
import { cutFaces } from '../image/crop.js';
import { probeImage, verifyImage, type ImageInfo, type ImageLimits } from '../image/decode.js';
import type { FaceQuality } from '../domain/face-quality.js';
import { measureFaceQuality } from './face-quality.js';
import type { EmbeddingSummary } from '../repositories/embedding.repository.js';
import type { FaceCrop } from '../repositories/face-crop.repository.js';
import type { MediaOwnerRepository } from '../repositories/media-owner.repository.js';
import { UPLOADS_DIR, type MediaFile, type StagedUpload } from '../repositories/media-storage.js';
import type { PersonRepository } from '../repositories/person.repository.js';
import type { EnrolmentGate } from './consent.service.js';
import {
  CropEmbeddingService,
  findCrop,
  type BatchResult,
  type CropEmbeddingDeps,
  type GenerateOptions,
  type GeneratedEmbedding,
  type SimilarityResult,
} from './crop-embedding.service.js';
import { storedModelNames, type ModelNames } from './model-names.js';

export interface FaceCropServiceDeps extends CropEmbeddingDeps {
  persons: PersonRepository;
  /** Who owns a file: a crop is never registered on, nor deletes, another row's file. */
  owners: MediaOwnerRepository;
  limits: ImageLimits;
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

/** A stored embedding as listed: named by the naming rule. */
export type ListedEmbedding = Omit<EmbeddingSummary, 'modelName'> & ModelNames;

const ownerName = (o: { faceCropIds: number[]; photoIds: number[]; jobItems: number }): string =>
  o.photoIds.length
    ? `session photo ${o.photoIds[0]}`
    : o.faceCropIds.length
      ? `face crop ${o.faceCropIds[0]}`
      : o.jobItems
        ? 'a queued job'
        : 'another use';

export class FaceCropService {
  private readonly cropEmbeddings: CropEmbeddingService;

  constructor(private readonly deps: FaceCropServiceDeps) {
    this.cropEmbeddings = new CropEmbeddingService(deps);
  }

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
    const crop = await findCrop(this.deps.crops, id);
    const stored = await this.deps.embeddings.listForCrop(id);
    return {
      crop,
      embeddings: stored.map(({ modelName, ...e }) => ({ ...e, ...storedModelNames(this.deps.embedder, modelName) })),
    };
  }

  /** The crop's image file, checked to be inside the media root (FileNotFoundError when gone). */
  async cropImage(id: number): Promise<MediaFile> {
    const crop = await findCrop(this.deps.crops, id);
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

  // ---- embeddings (CropEmbeddingService) ---------------------------------------------------

  generateEmbedding(id: number, opts: GenerateOptions): Promise<GeneratedEmbedding> {
    return this.cropEmbeddings.generateEmbedding(id, opts);
  }

  generateBatch(ids: readonly number[], opts: GenerateOptions): Promise<BatchResult> {
    return this.cropEmbeddings.generateBatch(ids, opts);
  }

  similarity(a: number, b: number, opts: Omit<GenerateOptions, 'force'>): Promise<SimilarityResult> {
    return this.cropEmbeddings.similarity(a, b, opts);
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
}
