// What a session looks like to a reader: its photos with their faces, one attendance row per
// roster member, the faces no member explains (unknown), and the counts.
import type { Box } from '../domain/face.js';
import { needsReview, UNKNOWN_QUALITY, type FaceQuality } from '../domain/face-quality.js';
import { thresholdForFace, type ThresholdPolicy } from '../domain/face-threshold.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { AttendanceRow } from '../repositories/attendance.repository.js';
import type { FaceMatch } from '../repositories/session-match.repository.js';
import type { Session, SessionPhoto } from '../repositories/session.repository.js';

export interface PhotoFaceResult {
  faceCropId: number;
  box: Box;
  score: number | null;
  personId: number | null;
  similarity: number | null;
  status: 'matched' | 'review' | 'unknown';
  quality: FaceQuality;
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
  summary: { present: number; absent: number; unknown: number; review: number };
}

/** Whom a face answers, and how it was decided. */
export type FaceAnswer = Pick<AttendanceRow, 'personId' | 'similarity' | 'source'>;

/**
 * Every explained face's answer: the face an attendance row holds answers that row (a decision
 * by hand included); any other matched face answers its member, as the solve or a hand gave it.
 */
export function faceAnswers(rows: readonly AttendanceRow[], matches: readonly FaceMatch[]): Map<number, FaceAnswer> {
  const out = new Map<number, FaceAnswer>();
  for (const m of matches) out.set(m.faceCropId, m);
  for (const r of rows) if (r.faceCropId !== null) out.set(r.faceCropId, r);
  return out;
}

/** `policy`: the session model's thresholds, each face's decided by its width (review is judged against it). */
export async function sessionView(
  store: AttendanceStore,
  session: Session,
  policy: ThresholdPolicy,
): Promise<SessionView> {
  const [photos, rows, faces, matches] = await Promise.all([
    store.sessions.listPhotos(session.id),
    store.attendance.listForSession(session.id),
    store.attendance.sessionFaces(session.id, session.modelName),
    store.matches.list(session.id),
  ]);
  const byFace = faceAnswers(rows, matches);
  const unknownFaces = faces
    .filter((f) => !byFace.has(f.faceCropId))
    .map((f) => ({ faceCropId: f.faceCropId, photoId: f.photoId, box: f.box }));
  const present = rows.filter((r) => r.status === 'present').length;
  const withFaces = photos.map((p) => ({
    ...p,
    faces: faces
      .filter((f) => f.photoId === p.id)
      .map((f) =>
        faceResult(
          f.faceCropId,
          f.box ?? [0, 0, 0, 0],
          null,
          byFace.get(f.faceCropId),
          f.quality,
          thresholdForFace(policy, f.box?.[2]),
        ),
      ),
  }));
  const review = withFaces.flatMap((p) => p.faces).filter((f) => f.status === 'review').length;
  return {
    session,
    photos: withFaces,
    attendance: rows,
    unknownFaces,
    summary: { present, absent: rows.length - present, unknown: unknownFaces.length, review },
  };
}

/** A stored photo's answer as an upload gives it, from the rows as they stand (no detector scores). */
export async function storedPhotoResult(
  store: AttendanceStore,
  session: Session,
  photo: SessionPhoto,
  policy: ThresholdPolicy,
): Promise<Omit<PhotoResult, 'durationMs'>> {
  const view = await sessionView(store, session, policy);
  const faces = view.photos.find((p) => p.id === photo.id)?.faces ?? [];
  return { photoId: photo.id, width: photo.width, height: photo.height, faces };
}

/**
 * A face as answers show it: matched to the member it answers, else unknown. An automatic
 * match is flagged for review by the quality policy (a step after the one-to-one solve).
 */
export function faceResult(
  faceCropId: number,
  box: Box,
  score: number | null,
  row: FaceAnswer | undefined,
  quality: FaceQuality = UNKNOWN_QUALITY,
  threshold = -1,
): PhotoFaceResult {
  const doubtful = row?.source === 'auto' && row.similarity !== null && needsReview(quality, row.similarity, threshold);
  return {
    faceCropId,
    box,
    score,
    personId: row?.personId ?? null,
    similarity: row?.similarity ?? null,
    status: row ? (doubtful ? 'review' : 'matched') : 'unknown',
    quality,
  };
}
