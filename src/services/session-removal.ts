// Removing class photos, sessions and groups with everything derived from them: rows first, in
// one transaction (photos, the faces cut from them, their embeddings and cluster places), then
// the files those rows owned. A crash between the two leaves files no row owns, which the media
// sweep removes; never rows whose files are gone.
import { NotFoundError } from '../errors.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { MediaStorage } from '../repositories/media-storage.js';
import type { RemovedPhotos, Session } from '../repositories/session.repository.js';
import type { ModelInfo } from './embedding.types.js';
import { auditEvent, resolveSession } from './session-resolve.js';

/** What a removal inside a session's lock leaves for after the commit. */
export interface SessionRemoval {
  files: string[];
  groupId: number;
}

/** Photo ids per statement batch (each photo may carry dozens of faces). */
const PHOTO_CHUNK = 200;

/** The photos' rows and the faces cut from them, inside the caller's transaction. */
export async function removePhotoRows(trx: AttendanceStore, photoIds: readonly number[]): Promise<RemovedPhotos> {
  const total: RemovedPhotos = { photos: 0, faceCrops: 0, enrolledKept: 0, files: [] };
  for (let i = 0; i < photoIds.length; i += PHOTO_CHUNK) {
    const part = await trx.sessions.removePhotos(photoIds.slice(i, i + PHOTO_CHUNK));
    total.photos += part.photos;
    total.faceCrops += part.faceCrops;
    total.enrolledKept += part.enrolledKept;
    total.files.push(...part.files);
  }
  return total;
}

/** A session's rows (inside its lock): photos and faces, then the session with its attendance; audited. */
export async function removeSessionRows(
  trx: AttendanceStore,
  session: Session,
  actor: string,
): Promise<SessionRemoval> {
  const removed = await removePhotoRows(trx, await trx.sessions.photoIds([session.id]));
  await trx.sessions.delete(session.id);
  const after = { group_id: session.groupId, photos: removed.photos, face_crops: removed.faceCrops };
  await trx.audit.append([auditEvent(actor, 'session-deleted', session.id, { after })]);
  return { files: removed.files, groupId: session.groupId };
}

/**
 * One photo's rows (inside the session's lock). An open session is re-solved without its faces;
 * a closed one keeps its attendance (rows only lose the reference to a deleted face). Audited.
 */
export async function removePhotoOfSession(
  trx: AttendanceStore,
  session: Session,
  photoId: number,
  actor: string,
  model: () => Promise<ModelInfo>,
): Promise<SessionRemoval> {
  if (!(await trx.sessions.findPhoto(session.id, photoId)))
    throw new NotFoundError(`Photo ${photoId} of session ${session.id} not found`, {
      photo_id: photoId,
      session_id: session.id,
    });
  const removed = await removePhotoRows(trx, [photoId]);
  if (session.status === 'open') await resolveSession(trx, session, await model());
  await trx.audit.append([
    auditEvent(actor, 'photo-deleted', session.id, { after: { photo_id: photoId, face_crops: removed.faceCrops } }),
  ]);
  return { files: removed.files, groupId: session.groupId };
}

/**
 * After the rows' transaction committed: each file in the service's folders that no row owns
 * any more is deleted (a path still named by another row stays). Returns how many went.
 */
export async function removeUnownedFiles(
  store: AttendanceStore,
  storage: MediaStorage,
  paths: readonly string[],
): Promise<number> {
  const unique = [...new Set(paths)];
  const owned = await store.media.owned(unique);
  let removed = 0;
  for (const relPath of unique) {
    if (owned.has(relPath)) continue;
    if (await storage.removeUpload(relPath)) removed++;
  }
  return removed;
}

/** A group with its sessions, their photos, faces and files (its persons stay). False: no such group. */
export async function removeGroup(store: AttendanceStore, storage: MediaStorage, groupId: number): Promise<boolean> {
  const removed = await store.transaction(async (trx) => {
    if (!(await trx.groups.findById(groupId))) return undefined;
    const sessionIds = await trx.sessions.idsOfGroup(groupId);
    // Each session's lock, as a photo upload takes it: an upload in flight lands before or not at all.
    for (const id of sessionIds) await trx.sessions.lock(id);
    const rows = await removePhotoRows(trx, await trx.sessions.photoIds(sessionIds));
    await trx.groups.delete(groupId); // sessions, attendance and clusters go by cascade
    return rows;
  });
  if (!removed) return false;
  await removeUnownedFiles(store, storage, removed.files);
  return true;
}
