// What a session looks like to a reader: its photos with their faces, one attendance row per
// roster member, the faces nobody holds (unknown), and the counts.
import type { Box } from '../domain/face.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { AttendanceRow } from '../repositories/attendance.repository.js';
import type { Session, SessionPhoto } from '../repositories/session.repository.js';

export interface PhotoFaceResult {
  faceCropId: number;
  box: Box;
  score: number | null;
  personId: number | null;
  similarity: number | null;
  status: 'matched' | 'unknown';
}

export interface PhotoResult {
  photoId: number;
  width: number;
  height: number;
  durationMs: number;
  faces: PhotoFaceResult[];
}

export interface SessionView {
  session: Session;
  photos: (SessionPhoto & { faces: PhotoFaceResult[] })[];
  attendance: AttendanceRow[];
  unknownFaces: { faceCropId: number; photoId: number; box: Box | null }[];
  summary: { present: number; absent: number; unknown: number };
}

export async function sessionView(store: AttendanceStore, session: Session): Promise<SessionView> {
  const [photos, rows, faces] = await Promise.all([
    store.sessions.listPhotos(session.id),
    store.attendance.listForSession(session.id),
    store.attendance.sessionFaces(session.id, session.modelName),
  ]);
  const byFace = new Map(rows.filter((r) => r.faceCropId !== null).map((r) => [r.faceCropId!, r]));
  const unknownFaces = faces
    .filter((f) => !byFace.has(f.faceCropId))
    .map((f) => ({ faceCropId: f.faceCropId, photoId: f.photoId, box: f.box }));
  const present = rows.filter((r) => r.status === 'present').length;
  return {
    session,
    photos: photos.map((p) => ({
      ...p,
      faces: faces
        .filter((f) => f.photoId === p.id)
        .map((f) => faceResult(f.faceCropId, f.box ?? [0, 0, 0, 0], null, byFace.get(f.faceCropId))),
    })),
    attendance: rows,
    unknownFaces,
    summary: { present, absent: rows.length - present, unknown: unknownFaces.length },
  };
}

/** A stored photo's answer as an upload gives it, from the rows as they stand (no detector scores). */
export async function storedPhotoResult(
  store: AttendanceStore,
  session: Session,
  photo: SessionPhoto,
): Promise<Omit<PhotoResult, 'durationMs'>> {
  const view = await sessionView(store, session);
  const faces = view.photos.find((p) => p.id === photo.id)?.faces ?? [];
  return { photoId: photo.id, width: photo.width, height: photo.height, faces };
}

/** A face as answers show it: matched to the row that holds it, else unknown. */
export function faceResult(
  faceCropId: number,
  box: Box,
  score: number | null,
  row: AttendanceRow | undefined,
): PhotoFaceResult {
  return {
    faceCropId,
    box,
    score,
    personId: row?.personId ?? null,
    similarity: row?.similarity ?? null,
    status: row ? 'matched' : 'unknown',
  };
}
