// Class photos into a session: every face stored as a face crop, embedded, and the session
// re-solved. The synchronous upload and the queued one (job kind session-photo) take one path:
// the slow work (detection, embedding, cutting crops) happens before the session's lock, the
// rows (session-photo-rows.ts) under it; files written for a change that fails are removed again.
import type { Readable } from 'node:stream';
import type { FaceQuality } from '../domain/face-quality.js';
import { msSince } from '../domain/time.js';
import { cutFaces } from '../image/crop.js';
import { probeImage, type ImageLimits } from '../image/decode.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { MediaFile, MediaStorage, StagedUpload } from '../repositories/media-storage.js';
import type { Session } from '../repositories/session.repository.js';
import type { EmbeddingPort } from './embedding.types.js';
import type { FaceCropService } from './face-crop.service.js';
import { measureFaceQuality } from './face-quality.js';
import type { SessionGate } from './session-gate.js';
import { insertPhoto } from './session-photo-rows.js';
import { storedPhotoResult, type PhotoResult } from './session-view.js';

export type PhotoEmbedder = Pick<EmbeddingPort, 'ready' | 'resolveModel' | 'embedFaces'>;

export interface SessionPhotoDeps {
  store: AttendanceStore;
  storage: MediaStorage;
  embedder: PhotoEmbedder;
  /** Computes enrolled faces' embeddings that are missing. */
  faceCrops: Pick<FaceCropService, 'generateBatch'>;
  limits: ImageLimits;
  /** Told after each photo: its unknown faces join the group's clusters. */
  unknownFaces?: { update(groupId: number): Promise<void> };
}

export class SessionPhotoService {
  constructor(
    private readonly deps: SessionPhotoDeps,
    private readonly gate: SessionGate,
  ) {}

  /** First half of a photo upload: bytes to a temporary file (capped). */
  stageUpload(stream: Readable): Promise<StagedUpload> {
    return this.deps.storage.stageUpload(stream, this.deps.limits.maxBytes);
  }

  discardUpload(staged: StagedUpload): Promise<void> {
    return this.deps.storage.discard(staged);
  }

  /** A class photo: every face stored as a face crop, embedded, and the session re-solved. */
  async addPhoto(id: number, staged: StagedUpload, actor: string): Promise<PhotoResult> {
    const started = performance.now();
    const { file: photoFile } = await this.acceptUpload(id, staged);
    try {
      return await this.storePhoto(id, photoFile, actor, started);
    } catch (err) {
      await this.deps.storage.removeUpload(photoFile.relPath);
      throw err;
    }
  }

  /**
   * The cheap half of an upload, before it is queued or processed: the session must be open and
   * the header an image's within the limits; then the file moves into the media root. The staged
   * bytes are gone either way.
   */
  async acceptUpload(id: number, staged: StagedUpload): Promise<{ file: MediaFile; session: Session }> {
    const { storage, limits } = this.deps;
    try {
      const session = await this.gate.assertOpen(id);
      const info = await probeImage(staged.tmpPath, limits);
      return { file: await storage.commitUpload(staged, info.format), session };
    } catch (err) {
      await storage.discard(staged);
      throw err;
    }
  }

  /**
   * A queued photo (job kind session-photo): the same work and answer as addPhoto, from the file
   * acceptUpload stored. Run twice (its node died after the commit), it stores nothing twice and
   * answers from what the first run stored. On failure the photo file stays for a retry: the
   * job runner discards it (discardQueuedPhoto) once the failure is final.
   */
  async addQueuedPhoto(id: number, imagePath: string, actor: string): Promise<PhotoResult> {
    const started = performance.now();
    const stored = await this.storedPhoto(this.deps.store, id, imagePath, started);
    if (stored) return stored;
    return this.storePhoto(id, await this.deps.storage.resolve(imagePath), actor, started);
  }

  /** A queued photo that failed for good: its file goes, unless a run of it was stored after all. */
  async discardQueuedPhoto(id: number, imagePath: string): Promise<void> {
    if (!(await this.deps.store.sessions.findPhotoByPath(id, imagePath)))
      await this.deps.storage.removeUpload(imagePath);
  }

  /** Detection, embedding and crops before the lock; the rows and the re-solve under it. */
  private async storePhoto(id: number, photoFile: MediaFile, actor: string, started: number): Promise<PhotoResult> {
    const { storage, limits, embedder } = this.deps;
    const session = await this.gate.assertOpen(id);
    const written: string[] = [];
    try {
      await embedder.ready();
      const scan = await embedder.embedFaces(photoFile.absPath, { modelName: session.modelName });
      const cut = await cutFaces(
        photoFile.absPath,
        scan.faces.map((f) => f.box),
        limits,
      );
      const files: (MediaFile & { sha256: string; width: number; height: number; quality: FaceQuality })[] = [];
      for (const [i, c] of cut.entries()) {
        const file = await storage.writeUpload(c.data, 'jpeg');
        written.push(file.relPath);
        files.push({ ...file, width: c.width, height: c.height, quality: await measureFaceQuality(c, scan.faces[i]!) });
      }
      await this.ensureGalleries(session);
      const stored = await this.gate.change(id, async (trx, locked) => {
        // Another run of the same queued photo got here first: its rows stand, these files go.
        const earlier = await this.storedPhoto(trx, id, photoFile.relPath, started);
        if (earlier) return { result: earlier, fresh: false };
        const photo = { imagePath: photoFile.relPath, width: scan.width, height: scan.height };
        const input = { photo, faces: scan.faces, files, modelVersion: scan.modelVersion };
        const result = await insertPhoto(trx, locked, input, actor, await this.gate.model(locked));
        return { result: { ...result, durationMs: msSince(started) }, fresh: true };
      });
      if (stored.fresh) written.length = 0; // committed: the files are the rows' now
      // The photo is committed whatever happens here: a face not placed now is placed by the next listing.
      await this.deps.unknownFaces?.update(session.groupId).catch(() => undefined);
      return stored.result;
    } finally {
      // Crops of a failed change, or of a run that found its photo stored already.
      for (const relPath of written) await storage.removeUpload(relPath);
    }
  }

  /** The answer for a photo already stored from this file (detector scores are not kept). */
  private async storedPhoto(store: AttendanceStore, id: number, imagePath: string, started: number) {
    const photo = await store.sessions.findPhotoByPath(id, imagePath);
    if (!photo) return undefined;
    const session = (await store.sessions.findById(id))!;
    const policy = await this.gate.readPolicy(session);
    return { ...(await storedPhotoResult(store, session, photo, policy)), durationMs: msSince(started) };
  }

  /** Enrolled faces of the roster that have no embedding of the session's model get one. */
  private async ensureGalleries(session: Session): Promise<void> {
    const ids = await this.deps.store.groups.memberIds(session.groupId);
    const gallery = await this.deps.store.attendance.galleries(ids, session.modelName);
    const missing = gallery.filter((g) => g.embedding === null).map((g) => g.faceCropId);
    if (missing.length > 0)
      await this.deps.faceCrops.generateBatch(missing, { modelName: session.modelName, force: false });
  }
}
