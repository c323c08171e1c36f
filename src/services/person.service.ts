// Persons and their enrolment faces. Enrolling a photo embeds its largest face with every
// model before anything is stored (no face: NoFaceDetectedError, nothing written); enrolling
// an existing crop links it once its embeddings exist. Every change reaches the galleries, this
// process's at once and the other servers' through the change bus (GalleryRegistry.changed).
import { ConflictError, NotFoundError, toFaceembedError } from '../errors.js';
import type { Box } from '../domain/face.js';
import type { EmbeddingRepository } from '../repositories/embedding.repository.js';
import type { FaceCrop, FaceCropRepository } from '../repositories/face-crop.repository.js';
import type { StagedUpload } from '../repositories/media-storage.js';
import type { NewPerson, Person, PersonPatch, PersonRepository } from '../repositories/person.repository.js';
import type { EnrolmentGate } from './consent.service.js';
import type { EmbeddingPort } from './embedding.types.js';
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
  /** Faces seen in an uploaded image (the largest was enrolled); absent for an existing crop. */
  facesDetected?: number;
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

  create(person: NewPerson): Promise<Person> {
    return this.deps.persons.create(person);
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

  list(opts: Page & { groupId?: number; externalId?: string }): Promise<{ count: number; persons: Person[] }> {
    return this.deps.persons.list({
      offset: (opts.page - 1) * opts.pageSize,
      limit: opts.pageSize,
      groupId: opts.groupId,
      externalId: opts.externalId,
    });
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

  /** An uploaded photo or crop: its largest face is embedded by every model, then stored. */
  async enrolUpload(personId: number, staged: StagedUpload): Promise<Enrolment> {
    const { embedder, faceCrops, embeddings, galleries } = this.deps;
    let vectors: { model: string; version: string; embedding: Float32Array }[];
    let box: Box | null = null;
    let facesDetected: number;
    try {
      await this.get(personId);
      await this.deps.consent?.assertMayEnrol(personId);
      await faceCrops.probeUpload(staged);
      facesDetected = (await embedder.detectFaces(staged.tmpPath)).length;
      vectors = [];
      for (const model of await this.models()) {
        const e = await embedder.generateEmbedding(staged.tmpPath, { modelName: model, detect: 'enforce' });
        vectors.push({ model, version: e.modelVersion, embedding: e.embedding });
        box ??= e.face.box ?? null;
      }
    } catch (err) {
      await faceCrops.discardUpload(staged);
      throw err;
    }
    const crop = await faceCrops.createFromUpload(staged, { personId, box });
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
    return { faceCropId: crop.id, personId, box, facesDetected: Math.max(facesDetected, 1) };
  }

  /**
   * An uploaded photo, unless the person already has a face crop with the same bytes: bulk
   * enrolment run again, or a job item run again after its process died, adds only what is new.
   * A crop found short of some model's embedding (the process died between the two writes) is
   * completed through enrolCrop, not enrolled a second time.
   */
  async enrolUploadOnce(personId: number, staged: StagedUpload): Promise<PhotoEnrolment> {
    return this.enrolling.run(personId, async () => {
      let same: FaceCrop | undefined;
      try {
        same = await this.deps.crops.findByPersonAndSha256(personId, staged.sha256);
        if (same) await this.deps.faceCrops.discardUpload(staged);
      } catch (err) {
        await this.deps.faceCrops.discardUpload(staged);
        throw err;
      }
      if (!same) return { ...(await this.enrolUpload(personId, staged)), existing: false };
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
