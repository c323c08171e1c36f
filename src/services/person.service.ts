// Persons and their enrolment faces. Enrolling a photo embeds its principal face with every
// model before anything is stored (no face: NoFaceDetectedError; two plausible faces and none
// named, or a face below the enrolment gate: UnprocessableError; nothing written); enrolling
// an existing crop links it once its embeddings exist. Every change reaches the galleries, this
// process's at once and the other servers' through the change bus (GalleryRegistry.changed).
import { ConflictError, UnprocessableError, NotFoundError, ValidationError, toFaceembedError } from '../errors.js';
import type { Box, DetectedFace } from '../domain/face.js';
import { enrolmentRefusal, enrolmentStrength, type EnrolmentStrength } from '../domain/enrolment-quality.js';
import type { FaceQuality } from '../domain/face-quality.js';
import { boxIou, NAMED_BOX_MIN_IOU } from '../domain/principal-face.js';
import type { EmbeddingRepository } from '../repositories/embedding.repository.js';
import type { FaceCrop, FaceCropRepository } from '../repositories/face-crop.repository.js';
import type { StagedUpload } from '../repositories/media-storage.js';
import type { NewPerson, Person, PersonPatch, PersonRepository } from '../repositories/person.repository.js';
import type { EnrolmentGate } from './consent.service.js';
import type { EmbeddingPort } from './embedding.types.js';
import { chooseEnrolmentFace, type ChosenFace, type FaceChoice } from './enrolment-face.js';
import type { ErasureService } from './erasure.service.js';
import type { FaceCropService } from './face-crop.service.js';
import type { GalleryRegistry } from './gallery.registry.js';
import { KeyedLock } from './keyed-lock.js';

export interface PersonServiceDeps {
  persons: PersonRepository;
  crops: FaceCropRepository;
  embeddings: EmbeddingRepository;
  faceCrops: FaceCropService;
  embedder: EmbeddingPort;
  galleries: Pick<GalleryRegistry, 'changed'>;
  /** Asked before anything is enrolled (FACEEMBED_REQUIRE_CONSENT). */
  consent?: EnrolmentGate;
  /** A deleted person's biometric data goes first (their faces must not outlive them). */
  erasure?: Pick<ErasureService, 'erase'>;
}

export interface Enrolment {
  faceCropId: number;
  personId: number;
  box: Box | null;
  /** Faces seen in an uploaded image (the principal or the named one was enrolled); absent for an existing crop. */
  facesDetected?: number;
  /** The enrolled face's index among the photo's plausible faces (null: a box named another face). */
  faceIndex?: number | null;
  /** The enrolled face's quality (an uploaded image). */
  quality?: FaceQuality;
}

/** An enrolment that may have found the photo already enrolled (a re-run, a resumed job). */
export interface PhotoEnrolment extends Enrolment {
  existing: boolean;
}

export interface Page {
  page: number;
  pageSize: number;
}

export class PersonService {
  /** One photo at a time per person in this process: two copies of one photo enrol once. */
  private readonly enrolling = new KeyedLock<number>();

  constructor(private readonly deps: PersonServiceDeps) {}

  /** `groupId`: the new person joins that roster at once. */
  create(person: NewPerson, opts: { groupId?: number } = {}): Promise<Person> {
    return this.deps.persons.create(person, opts);
  }

  /** The person with this external_id, created (with this name) when there is none. */
  ensure(externalId: string, name = externalId): Promise<Person> {
    return this.deps.persons.findOrCreateByExternalId(externalId, name);
  }

  async get(id: number): Promise<Person> {
    const person = await this.deps.persons.findById(id);
    if (!person) throw new NotFoundError(`Person ${id} not found`, { person_id: id });
    return person;
  }

  /** `groupIds`: only members of these groups (a scoped key's groups). */
  list(
    opts: Page & { groupId?: number; groupIds?: readonly number[]; externalId?: string },
  ): Promise<{ count: number; persons: Person[] }> {
    return this.deps.persons.list({
      offset: (opts.page - 1) * opts.pageSize,
      limit: opts.pageSize,
      groupId: opts.groupId,
      groupIds: opts.groupIds,
      externalId: opts.externalId,
    });
  }

  /** How well each person is enrolled (domain/enrolment-quality.ts): photos, weak or ok, and why. */
  async enrolments(personIds: readonly number[]): Promise<Map<number, EnrolmentStrength>> {
    const qualities = await this.deps.crops.qualitiesByPerson(personIds);
    return new Map(personIds.map((id) => [id, enrolmentStrength(qualities.get(id) ?? [])]));
  }

  async update(id: number, patch: PersonPatch): Promise<Person> {
    const person = await this.deps.persons.update(id, patch);
    if (!person) throw new NotFoundError(`Person ${id} not found`, { person_id: id });
    return person;
  }

  /** Their biometric data is erased (audited), then the person row goes; attendance rows keep the name. */
  async delete(id: number, actor = 'system'): Promise<void> {
    await this.get(id);
    await this.deps.erasure?.erase(id, 'biometric', actor);
    const person = await this.deps.persons.delete(id);
    if (!person) throw new NotFoundError(`Person ${id} not found`, { person_id: id });
    await this.deps.galleries.changed({ personId: id });
  }

  async listFaces(personId: number, page: Page): Promise<{ count: number; crops: FaceCrop[] }> {
    await this.get(personId);
    return this.deps.crops.list({ offset: (page.page - 1) * page.pageSize, limit: page.pageSize, personId });
  }

  /** An existing face crop becomes one of the person's enrolment faces. */
  async enrolCrop(personId: number, faceCropId: number): Promise<Enrolment> {
    await this.get(personId);
    await this.deps.consent?.assertMayEnrol(personId);
    const crop = await this.deps.crops.findById(faceCropId);
    if (!crop) throw new NotFoundError(`Face crop ${faceCropId} not found`, { face_crop_id: faceCropId });
    if (crop.personId !== null && crop.personId !== personId)
      throw new ConflictError(`Face crop ${faceCropId} is enrolled for person ${crop.personId}`, {
        face_crop_id: faceCropId,
        person_id: crop.personId,
      });
    for (const model of await this.models())
      await this.deps.faceCrops.generateEmbedding(faceCropId, { modelName: model, force: false });
    const linked = await this.deps.crops.setPerson(faceCropId, personId);
    if (!linked) throw new NotFoundError(`Face crop ${faceCropId} was deleted`, { face_crop_id: faceCropId });
    await this.deps.galleries.changed({ faceCropIds: [faceCropId] });
    return { faceCropId, personId, box: crop.box };
  }

  /**
   * An uploaded photo or crop: its principal face (or the one `choice` names) passes the
   * enrolment gate, is embedded by every model, then stored with its quality.
   */
  async enrolUpload(personId: number, staged: StagedUpload, choice: FaceChoice = {}): Promise<Enrolment> {
    const { faceCrops, embeddings, galleries } = this.deps;
    let vectors: { model: string; version: string; embedding: Float32Array }[];
    let chosen: ChosenFace;
    let quality: FaceQuality;
    try {
      await this.get(personId);
      await this.deps.consent?.assertMayEnrol(personId);
      const info = await faceCrops.probeUpload(staged);
      const models = await this.models();
      const found = await this.deps.embedder.detectFaces(staged.tmpPath);
      chosen = found.length
        ? chooseEnrolmentFace(found, info, choice)
        : await this.cropFace(staged.tmpPath, models[0]!, choice);
      quality = await faceCrops.uploadFaceQuality(staged, chosen.face);
      const refused = enrolmentRefusal(quality);
      if (refused)
        throw new UnprocessableError(refused.message, {
          reason: refused.reason,
          quality: { width_px: quality.widthPx, sharpness: quality.sharpness, yaw: quality.yaw, roll: quality.roll },
        });
      vectors = [];
      for (const model of models) {
        const e = await this.deps.embedder.generateEmbedding(staged.tmpPath, { modelName: model, face: chosen.face });
        vectors.push({ model, version: e.modelVersion, embedding: e.embedding });
      }
    } catch (err) {
      await faceCrops.discardUpload(staged);
      throw err;
    }
    const box = chosen.face.box;
    const crop = await faceCrops.createFromUpload(staged, { personId, box, quality });
    try {
      await embeddings.upsertMany(
        vectors.map((v) => ({
          faceCropId: crop.id,
          modelName: v.model,
          modelVersion: v.version,
          embedding: v.embedding,
        })),
      );
    } catch (err) {
      await faceCrops.deleteCrop(crop.id).catch(() => undefined);
      throw toFaceembedError(err);
    }
    await galleries.changed({ faceCropIds: [crop.id] });
    return {
      faceCropId: crop.id,
      personId,
      box,
      facesDetected: chosen.facesSeen,
      faceIndex: chosen.faceIndex,
      quality,
    };
  }

  /**
   * A tight crop, too small for the whole-photo scan: the crop path finds its one face
   * (NoFaceDetectedError when it finds none); a named face must be that one.
   */
  private async cropFace(imagePath: string, model: string, choice: FaceChoice): Promise<ChosenFace> {
    const e = await this.deps.embedder.generateEmbedding(imagePath, { modelName: model, detect: 'enforce' });
    const face: DetectedFace = { box: e.face.box!, score: e.face.score ?? 0, landmarks: e.face.landmarks ?? [] };
    const named =
      (choice.faceIndex === undefined || choice.faceIndex === 0) &&
      (choice.box === undefined || boxIou(choice.box, face.box) >= NAMED_BOX_MIN_IOU);
    if (!named)
      throw new ValidationError('The named face is not in the photo: it holds one face', { faces: [face.box] });
    return { face, facesSeen: e.face.facesSeen ?? 1, faceIndex: 0 };
  }

  /**
   * An uploaded photo, unless the person already has a face crop with the same bytes: bulk
   * enrolment run again, or a job item run again after its process died, adds only what is new.
   * A crop found short of some model's embedding (the process died between the two writes) is
   * completed through enrolCrop, not enrolled a second time.
   */
  async enrolUploadOnce(personId: number, staged: StagedUpload, choice: FaceChoice = {}): Promise<PhotoEnrolment> {
    return this.enrolling.run(personId, async () => {
      let same: FaceCrop | undefined;
      try {
        same = await this.deps.crops.findByPersonAndSha256(personId, staged.sha256);
        if (same) await this.deps.faceCrops.discardUpload(staged);
      } catch (err) {
        await this.deps.faceCrops.discardUpload(staged);
        throw err;
      }
      if (!same) return { ...(await this.enrolUpload(personId, staged, choice)), existing: false };
      const stored = new Set((await this.deps.embeddings.listForCrop(same.id)).map((e) => e.modelName));
      if ((await this.models()).some((m) => !stored.has(m))) await this.enrolCrop(personId, same.id);
      return { faceCropId: same.id, personId, box: same.box, existing: true };
    });
  }

  /** A photo already under the media root (an enrol job's item), enrolled once. */
  async enrolStoredPhotoOnce(personId: number, imagePath: string): Promise<PhotoEnrolment> {
    return this.enrolUploadOnce(personId, await this.deps.faceCrops.stageStoredFile(imagePath));
  }

  /** Un-enrols: the crop stays, unlinked, and leaves the galleries. */
  async unenrol(personId: number, faceCropId: number): Promise<void> {
    await this.get(personId);
    const crop = await this.deps.crops.findById(faceCropId);
    if (!crop || crop.personId !== personId)
      throw new NotFoundError(`Face crop ${faceCropId} is not enrolled for person ${personId}`, {
        face_crop_id: faceCropId,
        person_id: personId,
      });
    await this.deps.crops.setPerson(faceCropId, null);
    await this.deps.galleries.changed({ faceCropIds: [faceCropId] });
  }

  /** Enrolment faces are embedded by every registered model, so any model can identify. */
  private async models(): Promise<string[]> {
    await this.deps.embedder.ready();
    return this.deps.embedder.models().map((m) => m.name);
  }
}
