// A face of a session given to a roster member by hand, inside the session's locked
// transaction: the checks (the face is the session's; the member is at most once in its photo),
// the rows it takes the face from, the member's row, and the audit events. The caller re-solves.
import { ConflictError, ValidationError } from '../errors.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { AttendanceRow, SessionFace } from '../repositories/attendance.repository.js';
import type { NewAuditEvent } from '../repositories/audit.repository.js';
import type { Session } from '../repositories/session.repository.js';
import { gallerySimilarity } from './session-matching.js';
import { rowEvent } from './session-resolve.js';
import { faceAnswers, type FaceAnswer } from './session-view.js';

export interface Assignment {
  faceCropId: number;
  /** The member's row, from the roster. */
  row: AttendanceRow;
  enrol?: boolean;
  note?: string | null;
}

/** Gives the face to the member; returns the audit events of every row it changed. */
export async function assignFace(
  trx: AttendanceStore,
  session: Session,
  { faceCropId, row, enrol, note = null }: Assignment,
  actor: string,
): Promise<NewAuditEvent[]> {
  const personId = row.personId!;
  const faces = await trx.attendance.sessionFaces(session.id, session.modelName);
  const face = faces.find((f) => f.faceCropId === faceCropId);
  if (!face)
    throw new ValidationError(`Face crop ${faceCropId} is not a face of session ${session.id}`, {
      face_crop_id: faceCropId,
      session_id: session.id,
    });
  const rows = await trx.attendance.listForSession(session.id);
  const matches = await trx.matches.list(session.id);
  assertFreeInPhoto(face, faces, faceAnswers(rows, matches), row);

  const events: NewAuditEvent[] = [];
  for (const holder of rows) {
    if (holder.faceCropId !== faceCropId || holder.id === row.id) continue;
    // The face's previous holder loses it: to another face given them by hand, else back to the solve.
    const other = matches.find((m) => m.source === 'manual' && m.personId === holder.personId);
    if (other) await trx.matches.removeFace(other.faceCropId);
    const released = await trx.attendance.update(
      holder.id,
      other
        ? { status: 'present', source: holder.source, similarity: other.similarity, faceCropId: other.faceCropId }
        : { status: 'absent', source: 'auto', similarity: null, faceCropId: null },
    );
    events.push(rowEvent(actor, 'face-released', holder, released, note));
  }
  await trx.matches.removeFace(faceCropId);
  // A face the member's row held by hand stays theirs when the row moves to this one.
  if (row.source !== 'auto' && row.status === 'present' && row.faceCropId !== null && row.faceCropId !== faceCropId)
    await trx.matches.keepManual(session.id, { faceCropId: row.faceCropId, personId, similarity: row.similarity });

  const gallery = (await trx.attendance.galleries([personId], session.modelName))
    .map((g) => g.embedding)
    .filter((e): e is Float32Array => e !== null);
  const similarity = face.embedding ? gallerySimilarity(face.embedding, gallery) : null;
  const updated = await trx.attendance.update(row.id, { status: 'present', source: 'manual', similarity, faceCropId });
  events.push(rowEvent(actor, 'manual-assign', row, updated, note));
  if (enrol) {
    await trx.crops.setPerson(faceCropId, personId);
    events.push({ ...rowEvent(actor, 'enrol', row, updated, note), before: null, after: null });
  }
  return events;
}

/**
 * A member is at most once in a photo: giving them a face there while another face of the same
 * photo answers them is a ConflictError naming that face (a match in another photo is fine).
 */
function assertFreeInPhoto(
  face: SessionFace,
  faces: readonly SessionFace[],
  answers: ReadonlyMap<number, FaceAnswer>,
  row: AttendanceRow,
): void {
  const other = faces.find(
    (f) =>
      f.photoId === face.photoId &&
      f.faceCropId !== face.faceCropId &&
      answers.get(f.faceCropId)?.personId === row.personId,
  );
  if (!other) return;
  throw new ConflictError(
    `Person ${row.personId} (${row.personName}) is already matched in photo ${face.photoId} by face ${other.faceCropId}: ` +
      `a person is at most once in a photo (give face ${other.faceCropId} to its person, or mark them absent, first)`,
    { face_crop_id: other.faceCropId, person_id: row.personId, photo_id: face.photoId },
  );
}
