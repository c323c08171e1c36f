// Attendance sessions: create and close, class photos in (every face stored as a face crop and
// matched one-to-one inside its photo, a member present when matched in any photo), manual
// review (override, assign), CSV and the audit trail.
// Every change to a session runs under its lock (in-process queue + the database row lock in
// one transaction) and re-solves the session there, so concurrent uploads give the result of
// sequential ones. Slow work (detection, embedding, cutting crops) happens before the lock;
// files written for a change that fails are removed again.
import type { Readable } from 'node:stream';
import type { FaceQuality } from '../domain/face-quality.js';
import type { ThresholdPolicy } from '../domain/face-threshold.js';
import { msSince } from '../domain/time.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { cutFaces } from '../image/crop.js';
import { probeImage, type ImageLimits } from '../image/decode.js';
import { ATTENDANCE_MODEL_NAME } from '../models/registry.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { AttendanceRow } from '../repositories/attendance.repository.js';
import type { MediaFile, MediaStorage, StagedUpload } from '../repositories/media-storage.js';
import type { Session } from '../repositories/session.repository.js';
import type { EmbeddingPort, ModelInfo } from './embedding.types.js';
import type { FaceCropService } from './face-crop.service.js';
import type { EnrolmentGate } from './consent.service.js';
import type { GalleryRegistry } from './gallery.registry.js';
import { storedModelNames, type ModelNames } from './model-names.js';
import { measureFaceQuality } from './face-quality.js';
import { KeyedLock } from './keyed-lock.js';
import { sessionView, storedPhotoResult, type PhotoResult, type SessionView } from './session-view.js';
import { insertPhoto } from './session-photo-rows.js';
import { assignFace } from './session-assign.js';
import { auditEvent, resolveSession, rowEvent, syncRoster } from './session-resolve.js';
import { removePhotoOfSession, removeSessionRows, removeUnownedFiles } from './session-removal.js';

/**
 * The model a new session of a group takes attendance with, unless the client names one: the
 * one owner of that default (the unknown-face clusters of a group use it too).
 */
export function attendanceModelName(asked?: string): string {
  return asked ?? ATTENDANCE_MODEL_NAME;
}

export type PhotoEmbedder = Pick<EmbeddingPort, 'ready' | 'resolveModel' | 'embedFaces'>;

export interface SessionServiceDeps {
  store: AttendanceStore;
  storage: MediaStorage;
  embedder: PhotoEmbedder;
  /** Computes enrolled faces' embeddings that are missing. */
  faceCrops: Pick<FaceCropService, 'generateBatch'>;
  /** Told when a face is enrolled by an assignment. */
  galleries: Pick<GalleryRegistry, 'changed'>;
  limits: ImageLimits;
  /** Told after each photo: its unknown faces join the group's clusters. */
  unknownFaces?: { update(groupId: number): Promise<void> };
  /** Asked before an assignment also enrols the face (FACEEMBED_REQUIRE_CONSENT). */
  consent?: EnrolmentGate;
}

export class SessionService {
  private readonly lock = new KeyedLock<number>();

  constructor(private readonly deps: SessionServiceDeps) {}

  /** A session's model under the naming rule of every answer; a model since removed keeps its stored name. */
  modelNames(session: Pick<Session, 'modelName'>, asked?: string): ModelNames {
    return storedModelNames(this.deps.embedder, session.modelName, asked);
  }

  async create(
    input: { groupId: number; name?: string | null; startsAt?: string | null; modelName: string },
    actor: string,
  ): Promise<Session> {
    const { store, embedder } = this.deps;
    const model = embedder.resolveModel(input.modelName);
    const group = await store.groups.findById(input.groupId);
    if (!group) throw new ValidationError(`Group ${input.groupId} does not exist`, { group_id: input.groupId });
    return store.transaction(async (trx) => {
      const startsAt = input.startsAt ? new Date(input.startsAt) : null;
      if (startsAt && Number.isNaN(startsAt.getTime()))
        throw new ValidationError(`starts_at "${input.startsAt}" is not a date`, { starts_at: input.startsAt });
      const session = await trx.sessions.create({
        ...input,
        startsAt: startsAt?.toISOString() ?? null,
        modelName: model.name,
      });
      await syncRoster(trx, session);
      await trx.audit.append([auditEvent(actor, 'session-created', session.id, { after: { group_id: group.id } })]);
      return session;
    });
  }

  /** `groupIds`: only sessions of these groups (a scoped key's groups). */
  async list(opts: { page: number; pageSize: number; groupId?: number; groupIds?: readonly number[] }) {
    return this.deps.store.sessions.list({
      offset: (opts.page - 1) * opts.pageSize,
      limit: opts.pageSize,
      groupId: opts.groupId,
      groupIds: opts.groupIds,
    });
  }

  async get(id: number): Promise<SessionView> {
    const session = await this.find(id);
    return sessionView(this.deps.store, session, await this.readPolicy(session));
  }

  async close(id: number, actor: string): Promise<Session> {
    return this.change(id, async (trx) => {
      const closed = (await trx.sessions.close(id))!;
      await trx.audit.append([auditEvent(actor, 'session-closed', id, { after: { status: 'closed' } })]);
      return closed;
    });
  }

  /** First half of a photo upload: bytes to a temporary file (capped). */
  stageUpload(stream: Readable): Promise<StagedUpload> {
    return this.deps.storage.stageUpload(stream, this.deps.limits.maxBytes);
  }

  discardUpload(staged: StagedUpload): Promise<void> {
    return this.deps.storage.discard(staged);
  }

  /** Refuses a missing (404) or closed (409) session before the upload is read. */
  async assertOpen(id: number): Promise<Session> {
    const session = await this.find(id);
    if (session.status !== 'open') throw closedError(id);
    return session;
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
      const session = await this.assertOpen(id);
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
    const session = await this.assertOpen(id);
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
      const stored = await this.change(id, async (trx, locked) => {
        // Another run of the same queued photo got here first: its rows stand, these files go.
        const earlier = await this.storedPhoto(trx, id, photoFile.relPath, started);
        if (earlier) return { result: earlier, fresh: false };
        const photo = { imagePath: photoFile.relPath, width: scan.width, height: scan.height };
        const input = { photo, faces: scan.faces, files, modelVersion: scan.modelVersion };
        const result = await insertPhoto(trx, locked, input, actor, await this.model(locked));
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
    const policy = await this.readPolicy(session);
    return { ...(await storedPhotoResult(store, session, photo, policy)), durationMs: msSince(started) };
  }

  /** A member's status set by hand: fixed from now on. */
  async override(
    id: number,
    personId: number,
    input: { status: 'present' | 'absent'; note?: string | null },
    actor: string,
  ): Promise<AttendanceRow> {
    return this.change(id, async (trx, session) => {
      const row = await this.rosterRow(trx, session, personId);
      const keepFace = input.status === 'present';
      const updated = await trx.attendance.update(row.id, {
        status: input.status,
        source: 'manual',
        similarity: keepFace ? row.similarity : null,
        faceCropId: keepFace ? row.faceCropId : null,
      });
      // Absent by hand: faces given them by hand earlier are theirs no more.
      if (input.status === 'absent') await trx.matches.removeManual(id, personId);
      await trx.audit.append([rowEvent(actor, 'manual-status', row, updated, input.note ?? null)]);
      await resolveSession(trx, session, await this.model(session));
      return (await trx.attendance.find(id, personId))!;
    });
  }

  /** A face of this session given to a roster member by hand (optionally enrolled as theirs). */
  async assignFace(
    id: number,
    faceCropId: number,
    input: { personId: number; enrol?: boolean; note?: string | null },
    actor: string,
  ): Promise<AttendanceRow> {
    if (input.enrol) await this.deps.consent?.assertMayEnrol(input.personId);
    const assigned = await this.change(id, async (trx, session) => {
      const row = await this.rosterRow(trx, session, input.personId);
      const events = await assignFace(trx, session, { ...input, faceCropId, row }, actor);
      await trx.audit.append(events);
      await resolveSession(trx, session, await this.model(session));
      return (await trx.attendance.find(id, input.personId))!;
    });
    // Committed: the face joins the search galleries like any other enrolment.
    if (input.enrol) await this.deps.galleries.changed({ faceCropIds: [faceCropId] });
    return assigned;
  }

  /** The photo's stored file (for the web app). */
  async photoFile(id: number, photoId: number): Promise<MediaFile> {
    const photo = await this.deps.store.sessions.findPhoto(id, photoId);
    if (!photo) throw new NotFoundError(`Photo ${photoId} of session ${id} not found`, { photo_id: photoId });
    return this.deps.storage.resolve(photo.imagePath);
  }

  /** The photo's image bytes (decrypted when the media are encrypted at rest). */
  async photoImage(id: number, photoId: number): Promise<{ file: MediaFile; data: Buffer }> {
    const file = await this.photoFile(id, photoId);
    return { file, data: await this.deps.storage.read(file.relPath) };
  }

  /**
   * Deletes a session, open or closed: its photos, the faces cut from them (a face enrolled as a
   * person's stays theirs), embeddings, cluster places, attendance rows, then the files.
   */
  async deleteSession(id: number, actor: string): Promise<void> {
    const removed = await this.locked(id, (trx, session) => removeSessionRows(trx, session, actor));
    await this.afterRemoval(removed);
  }

  /**
   * Deletes one class photo with the faces cut from it, then its files. An open session is
   * re-solved without them; a closed one keeps its attendance as it was.
   */
  async deletePhoto(id: number, photoId: number, actor: string): Promise<void> {
    const removed = await this.locked(id, (trx, session) =>
      removePhotoOfSession(trx, session, photoId, actor, () => this.model(session)),
    );
    await this.afterRemoval(removed);
  }

  /** Committed: the files no row owns any more go, and the group's clusters are brought up to date. */
  private async afterRemoval(removed: { files: string[]; groupId: number }): Promise<void> {
    await removeUnownedFiles(this.deps.store, this.deps.storage, removed.files);
    await this.deps.unknownFaces?.update(removed.groupId).catch(() => undefined);
  }

  /** Rows with each person's external_id, for the CSV. */
  async exportRows(id: number): Promise<(AttendanceRow & { externalId: string | null })[]> {
    await this.find(id);
    const rows = await this.deps.store.attendance.listForSession(id);
    const out = [];
    for (const r of rows) {
      const person = r.personId === null ? undefined : await this.deps.store.persons.findById(r.personId);
      out.push({ ...r, externalId: person?.externalId ?? null });
    }
    return out;
  }

  /** `groupIds`: only events of these groups' sessions (a scoped key's groups). */
  audit(opts: { page: number; pageSize: number; sessionId?: number; personId?: number; groupIds?: readonly number[] }) {
    return this.deps.store.audit.list({
      offset: (opts.page - 1) * opts.pageSize,
      limit: opts.pageSize,
      sessionId: opts.sessionId,
      personId: opts.personId,
      groupIds: opts.groupIds,
    });
  }

  // ---- internals ---------------------------------------------------------------------------

  private async find(id: number): Promise<Session> {
    const session = await this.deps.store.sessions.findById(id);
    if (!session) throw new NotFoundError(`Session ${id} not found`, { session_id: id });
    return session;
  }

  /** The change under the session's lock, in one transaction; a missing or closed session refuses it. */
  private change<T>(id: number, fn: (trx: AttendanceStore, session: Session) => Promise<T>): Promise<T> {
    return this.locked(id, (trx, session) => {
      if (session.status !== 'open') throw closedError(id);
      return fn(trx, session);
    });
  }

  /** Under the session's lock, in one transaction, open or closed; a missing session is NotFoundError. */
  private locked<T>(id: number, fn: (trx: AttendanceStore, session: Session) => Promise<T>): Promise<T> {
    return this.lock.run(id, () =>
      this.deps.store.withSession(id, async (trx, session) => {
        if (!session) throw new NotFoundError(`Session ${id} not found`, { session_id: id });
        return fn(trx, session);
      }),
    );
  }

  private async rosterRow(trx: AttendanceStore, session: Session, personId: number): Promise<AttendanceRow> {
    await syncRoster(trx, session);
    const row = await trx.attendance.find(session.id, personId);
    if (row) return row;
    const person = await trx.persons.findById(personId);
    const who = person ? `Person ${personId} (${person.name})` : `Person ${personId}`;
    throw new ValidationError(
      `${who} is not on the roster of session ${session.id} (group ${session.groupId})${person ? '' : ': no such person'}`,
      { person_id: personId, session_id: session.id },
    );
  }

  /** The thresholds a reading of the session flags review by; a model since removed still reads (only the quality floor flags). */
  private async readPolicy(session: Session): Promise<ThresholdPolicy> {
    try {
      return await this.model(session);
    } catch {
      return { threshold: Number.NEGATIVE_INFINITY };
    }
  }

  /** The session's model: its version and its thresholds (its own and, per face width, its small-face bands). */
  private async model(session: Session): Promise<ModelInfo> {
    await this.deps.embedder.ready();
    return this.deps.embedder.resolveModel(session.modelName);
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

const closedError = (id: number) =>
  new ConflictError(`Session ${id} is closed: it accepts no more changes`, { session_id: id });
