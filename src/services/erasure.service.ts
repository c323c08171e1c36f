// Erasure of a person's biometric data (docs/privacy.md). `biometric`: every face crop
// that shows them (enrolment faces, and session faces matched to them in any photo), with the
// embeddings, cluster memberships, image files and search-gallery entries; the photos bulk
// enrolment stored for them. Attendance facts stay (present/absent, when), their face link
// gone. `all`: also the name, external_id and metadata, replaced by a pseudonym everywhere the
// name was written (person row, attendance rows, audit trail). The receipt counts rows and files
// actually deleted, and is audited (action `erased`: the counts only, no biometric data).
import { NotFoundError } from '../errors.js';
import type { MediaStorage } from '../repositories/media-storage.js';
import type { PrivacyRepository } from '../repositories/privacy.repository.js';
import type { GalleryRegistry } from './gallery.registry.js';

export type ErasureScope = 'biometric' | 'all';

export interface RemovedCounts {
  faceCrops: number;
  embeddings: number;
  files: number;
  clusterFaces: number;
}

export interface ErasureReceipt {
  personId: number;
  scope: ErasureScope;
  removed: RemovedCounts;
  /** ISO 8601, UTC. */
  at: string;
}

export interface ErasureServiceDeps {
  privacy: PrivacyRepository;
  storage: Pick<MediaStorage, 'removeFile'>;
  galleries: Pick<GalleryRegistry, 'changed'>;
}

/** What a person's name becomes under `all`: stable per person, so their rows still read as one. */
export const pseudonym = (personId: number): string => `Erased person ${personId}`;

export class ErasureService {
  constructor(private readonly deps: ErasureServiceDeps) {}

  async erase(personId: number, scope: ErasureScope, actor: string): Promise<ErasureReceipt> {
    const { privacy, galleries } = this.deps;
    const person = await privacy.persons.findById(personId);
    if (!person) throw new NotFoundError(`Person ${personId} not found`, { person_id: personId });
    // Rows first, in one transaction; the files once no row names them (a crash in between
    // leaves files no row owns, which the orphan sweep removes; never a row without its file).
    const { faceIds, removed, paths } = await privacy.transaction(async (trx) => {
      const ids = await trx.personFaceIds(personId);
      const gone = await trx.removeFaces(ids);
      const enrolPhotos = await trx.takeEnrolPhotoPaths(personId);
      await trx.freezePresence(personId);
      if (scope === 'all') await trx.pseudonymise(personId, pseudonym(personId));
      return { faceIds: ids, removed: gone, paths: [...new Set([...gone.paths, ...enrolPhotos])] };
    });
    const files = await this.removeUnowned(paths);
    // The galleries drop the faces now (and the other processes' through the change bus).
    await galleries.changed({ personId, faceCropIds: faceIds });
    const receipt: ErasureReceipt = {
      personId,
      scope,
      removed: {
        faceCrops: removed.faceCrops,
        embeddings: removed.embeddings,
        files,
        clusterFaces: removed.clusterFaces,
      },
      at: new Date().toISOString(),
    };
    await privacy.audit.append([
      {
        actor,
        action: 'erased',
        sessionId: null,
        personId,
        personName: scope === 'all' ? pseudonym(personId) : person.name,
        faceCropId: null,
        before: null,
        after: { scope, removed: receiptCounts(receipt.removed) },
        note: null,
      },
    ]);
    return receipt;
  }

  /** Deletes the files no row names any more; how many were there and are gone. */
  async removeUnowned(paths: readonly string[]): Promise<number> {
    if (paths.length === 0) return 0;
    const kept = await this.deps.privacy.referencedPaths(paths);
    let files = 0;
    for (const p of paths) if (!kept.has(p) && (await this.deps.storage.removeFile(p))) files++;
    return files;
  }
}

/** The receipt as answers and the CLI spell it. */
export const receiptJson = (r: ErasureReceipt) => ({
  person_id: r.personId,
  scope: r.scope,
  removed: receiptCounts(r.removed),
  at: r.at,
});

/** The counts as every answer and the audit trail spell them. */
export const receiptCounts = (r: RemovedCounts) => ({
  face_crops: r.faceCrops,
  embeddings: r.embeddings,
  files: r.files,
  cluster_faces: r.clusterFaces,
});
