// Attendance sessions: create and close, class photos in (every face stored as a face crop and
// matched one-to-one inside its photo, a member present when matched in any photo), manual
// review (override, assign), deletion, CSV and the audit trail.
// Every change to a session runs under its lock (SessionGate, session-gate.ts) and re-solves the
// session there, so concurrent uploads give the result of sequential ones. Class photos are
// taken in by SessionPhotoService (session-photo.service.ts); this service hands those calls on,
// so that callers hold one service for sessions.
import type { Readable } from 'node:stream';
import { NotFoundError, ValidationError } from '../errors.js';
import { ATTENDANCE_MODEL_NAME } from '../models/registry.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { AttendanceRow } from '../repositories/attendance.repository.js';
import type { MediaFile, StagedUpload } from '../repositories/media-storage.js';
import type { Session } from '../repositories/session.repository.js';
import type { EnrolmentGate } from './consent.service.js';
import type { GalleryRegistry } from './gallery.registry.js';
import { storedModelNames, type ModelNames } from './model-names.js';
import { SessionGate } from './session-gate.js';
import { SessionPhotoService, type SessionPhotoDeps } from './session-photo.service.js';
import { sessionView, type PhotoResult, type SessionView } from './session-view.js';
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

export interface SessionServiceDeps extends SessionPhotoDeps {
  /** Told when a face is enrolled by an assignment. */
  galleries: Pick<GalleryRegistry, 'changed'>;
  /** Asked before an assignment also enrols the face (FACEEMBED_REQUIRE_CONSENT). */
  consent?: EnrolmentGate;
}

export class SessionService {
  private readonly gate: SessionGate;
  private readonly photos: SessionPhotoService;

  constructor(private readonly deps: SessionServiceDeps) {
    this.gate = new SessionGate(deps);
    this.photos = new SessionPhotoService(deps, this.gate);
  }

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
    const session = await this.gate.find(id);
    return sessionView(this.deps.store, session, await this.gate.readPolicy(session));
  }

  async close(id: number, actor: string): Promise<Session> {
    return this.gate.change(id, async (trx) => {
      const closed = (await trx.sessions.close(id))!;
      await trx.audit.append([auditEvent(actor, 'session-closed', id, { after: { status: 'closed' } })]);
      return closed;
    });
  }

  /** Refuses a missing (404) or closed (409) session before the upload is read. */
  assertOpen(id: number): Promise<Session> {
    return this.gate.assertOpen(id);
  }

  // ---- class photos (SessionPhotoService) ----------------------------------------------------

  /** First half of a photo upload: bytes to a temporary file (capped). */
  stageUpload(stream: Readable): Promise<StagedUpload> {
    return this.photos.stageUpload(stream);
  }

  discardUpload(staged: StagedUpload): Promise<void> {
    return this.photos.discardUpload(staged);
  }

  /** A class photo: every face stored as a face crop, embedded, and the session re-solved. */
  addPhoto(id: number, staged: StagedUpload, actor: string): Promise<PhotoResult> {
    return this.photos.addPhoto(id, staged, actor);
  }

  /** The cheap half of an upload, before it is queued or processed (open session, image header). */
  acceptUpload(id: number, staged: StagedUpload): Promise<{ file: MediaFile; session: Session }> {
    return this.photos.acceptUpload(id, staged);
  }

  /** A queued photo (job kind session-photo): the same work and answer as addPhoto; run twice, stored once. */
  addQueuedPhoto(id: number, imagePath: string, actor: string): Promise<PhotoResult> {
    return this.photos.addQueuedPhoto(id, imagePath, actor);
  }

  /** A queued photo that failed for good: its file goes, unless a run of it was stored after all. */
  discardQueuedPhoto(id: number, imagePath: string): Promise<void> {
    return this.photos.discardQueuedPhoto(id, imagePath);
  }

  // ---- manual review -------------------------------------------------------------------------

  /** A member's status set by hand: fixed from now on. */
  async override(
    id: number,
    personId: number,
    input: { status: 'present' | 'absent'; note?: string | null },
    actor: string,
  ): Promise<AttendanceRow> {
    return this.gate.change(id, async (trx, session) => {
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
      await resolveSession(trx, session, await this.gate.model(session));
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
    const assigned = await this.gate.change(id, async (trx, session) => {
      const row = await this.rosterRow(trx, session, input.personId);
      const events = await assignFace(trx, session, { ...input, faceCropId, row }, actor);
      await trx.audit.append(events);
      await resolveSession(trx, session, await this.gate.model(session));
      return (await trx.attendance.find(id, input.personId))!;
    });
    // Committed: the face joins the search galleries like any other enrolment.
    if (input.enrol) await this.deps.galleries.changed({ faceCropIds: [faceCropId] });
    return assigned;
  }

  // ---- reads and deletion --------------------------------------------------------------------

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
    const removed = await this.gate.locked(id, (trx, session) => removeSessionRows(trx, session, actor));
    await this.afterRemoval(removed);
  }

  /**
   * Deletes one class photo with the faces cut from it, then its files. An open session is
   * re-solved without them; a closed one keeps its attendance as it was.
   */
  async deletePhoto(id: number, photoId: number, actor: string): Promise<void> {
    const removed = await this.gate.locked(id, (trx, session) =>
      removePhotoOfSession(trx, session, photoId, actor, () => this.gate.model(session)),
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
    await this.gate.find(id);
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
}
