// 1:N identification: each face of an image (or one stored crop) against everyone enrolled
// or one group's members. The rule (docs/identification.md): a person's score is their best
// enrolment face; the answer is the top person when that score reaches the model's threshold,
// else unknown.
import type { Box } from '../domain/face.js';
import { thresholdForFace, type ThresholdPolicy } from '../domain/face-threshold.js';
import { rankFaces } from '../domain/principal-face.js';
import { NoFaceDetectedError } from '../errors.js';
import type { EmbeddingRepository } from '../repositories/embedding.repository.js';
import type { PersonRepository } from '../repositories/person.repository.js';
import type { StagedUpload } from '../repositories/media-storage.js';
import type { Gallery } from '../search/gallery.js';
import type { EmbeddingPort } from './embedding.types.js';
import type { FaceCropService } from './face-crop.service.js';
import type { GalleryRegistry } from './gallery.registry.js';
import type { GroupService } from './group.service.js';
import { requireModelVersion } from './model-version.js';

export const DEFAULT_TOP_K = 3;

export interface IdentifyOptions {
  modelName: string;
  groupId?: number;
  topK?: number;
  /** Default: the model's threshold. */
  threshold?: number;
  logFields?: Record<string, unknown>;
}

export interface IdentifiedMatch {
  personId: number;
  name: string;
  similarity: number;
}

export interface IdentifiedFace {
  box: Box | null;
  /** The threshold this face was decided at (domain/face-threshold.ts: the model's for its width). */
  threshold: number;
  score: number | null;
  personId: number | null;
  similarity: number | null;
  matches: IdentifiedMatch[];
}

export interface Identification {
  modelName: string;
  modelTrueName: string;
  threshold: number;
  faces: IdentifiedFace[];
}

interface Scope {
  threshold: number;
  policy: ThresholdPolicy;
  members: number[] | undefined;
  gallery: Gallery;
  modelTrueName: string;
}

interface QueryFace {
  box: Box | null;
  score: number | null;
  embedding: Float32Array;
}

export class IdentificationService {
  constructor(
    private readonly deps: {
      embedder: EmbeddingPort;
      faceCrops: FaceCropService;
      galleries: GalleryRegistry;
      groups: GroupService;
      persons: PersonRepository;
      embeddings: Pick<EmbeddingRepository, 'enrolledVersions'>;
    },
  ) {}

  /** One stored crop (its embedding computed first where missing). */
  async identifyCrop(faceCropId: number, opts: IdentifyOptions): Promise<Identification> {
    const scope = await this.scope(opts);
    const { crop } = await this.deps.faceCrops.getCrop(faceCropId);
    const e = await this.deps.faceCrops.generateEmbedding(faceCropId, {
      modelName: opts.modelName,
      force: false,
      logFields: opts.logFields,
    });
    return this.identify([{ box: crop.box, score: null, embedding: e.embedding }], opts, scope);
  }

  /** Every face of an uploaded image; the upload is never kept. */
  async identifyUpload(staged: StagedUpload, opts: IdentifyOptions): Promise<Identification> {
    try {
      const scope = await this.scope(opts);
      await this.deps.faceCrops.probeUpload(staged);
      return await this.identify(await this.facesOf(staged.tmpPath, opts), opts, scope);
    } finally {
      await this.deps.faceCrops.discardUpload(staged);
    }
  }

  /** Every face of an image file. */
  async identifyFile(imagePath: string, opts: IdentifyOptions): Promise<Identification> {
    const scope = await this.scope(opts);
    return this.identify(await this.facesOf(imagePath, opts), opts, scope);
  }

  /**
   * Model, group and the enrolled embeddings' versions checked before any image work (ValueError,
   * NotFoundError; ConflictError when enrolment faces hold embeddings of another model version).
   */
  private async scope(opts: IdentifyOptions): Promise<Scope> {
    const { embedder, groups, galleries } = this.deps;
    await embedder.ready();
    const model = embedder.resolveModel(opts.modelName);
    requireModelVersion(model, await this.deps.embeddings.enrolledVersions(model.name));
    const members = opts.groupId === undefined ? undefined : await groups.memberIds(opts.groupId);
    return {
      threshold: opts.threshold ?? model.threshold,
      policy: model,
      members,
      gallery: await galleries.gallery(opts.modelName),
      modelTrueName: model.name,
    };
  }

  /**
   * Every face the whole-photo detector finds (as a session's class photo is read), the principal
   * face first (domain/principal-face.ts: the face a photo of one person stands for).
   * A small crop (under about 80 px, its face 30-50 px) is below what that detector finds, while
   * the single-face crop path still finds the face (measured on sample crops at 1.1x-1.8x the
   * face box): an image with no face found is read once more as a crop; only then is it faceless.
   */
  private async facesOf(imagePath: string, opts: IdentifyOptions): Promise<QueryFace[]> {
    const { embedder } = this.deps;
    const scan = await embedder.embedFaces(imagePath, { modelName: opts.modelName });
    if (scan.faces.length > 0)
      return rankFaces(scan.faces, scan).map((i) => {
        const f = scan.faces[i]!;
        return { box: f.box, score: f.score, embedding: f.embedding };
      });
    try {
      const e = await embedder.generateEmbedding(imagePath, {
        modelName: opts.modelName,
        detect: 'enforce',
        logFields: opts.logFields,
      });
      return [{ box: e.face.box ?? null, score: e.face.score ?? null, embedding: e.embedding }];
    } catch (err) {
      if (err instanceof NoFaceDetectedError) return [];
      throw err;
    }
  }

  private async identify(faces: QueryFace[], opts: IdentifyOptions, scope: Scope): Promise<Identification> {
    const { threshold, members, gallery, policy } = scope;
    const topK = opts.topK ?? DEFAULT_TOP_K;
    const found = faces.map((f) => gallery.search(f.embedding, { topK, personIds: members }));
    const names = new Map(
      (await this.deps.persons.findByIds([...new Set(found.flat().map((m) => m.personId))])).map((p) => [p.id, p.name]),
    );
    return {
      modelName: opts.modelName,
      modelTrueName: scope.modelTrueName,
      threshold,
      faces: faces.map((f, i) => {
        // A person deleted meanwhile has no name: drop them rather than answer with a ghost.
        const matches = found[i]!.filter((m) => names.has(m.personId)).map((m) => ({
          personId: m.personId,
          name: names.get(m.personId)!,
          similarity: m.similarity,
        }));
        const best = matches[0];
        const faceThreshold = thresholdForFace(policy, f.box?.[2], opts.threshold);
        return {
          box: f.box,
          threshold: faceThreshold,
          score: f.score,
          personId: best && best.similarity >= faceThreshold ? best.personId : null,
          similarity: best?.similarity ?? null,
          matches,
        };
      }),
    };
  }
}
