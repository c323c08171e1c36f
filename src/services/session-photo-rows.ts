// The rows of one class photo, written inside the session's locked transaction: the photo, a
// face crop and an embedding per face, the audit event, and the re-solve over all of the
// session's faces (each photo one-to-one, a member matched in any photo present). Shared by
// the synchronous upload and the queued one (job kind session-photo).
import type { Box } from '../domain/face.js';
import type { FaceQuality } from '../domain/face-quality.js';
import { thresholdForFace } from '../domain/face-threshold.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { MediaFile } from '../repositories/media-storage.js';
import type { NewSessionPhoto, Session } from '../repositories/session.repository.js';
import type { ModelInfo } from './embedding.types.js';
import { faceAnswers, faceResult, type PhotoResult } from './session-view.js';
import { auditEvent, resolveSession } from './session-resolve.js';

export interface PhotoRowsInput {
  photo: Omit<NewSessionPhoto, 'sessionId'>;
  /** The detector's faces with their embeddings, in the order of `files`. */
  faces: readonly { box: Box; score: number; embedding: Float32Array }[];
  /** Each face's crop, already written under the media root. */
  files: readonly (MediaFile & { sha256: string; width: number; height: number; quality: FaceQuality })[];
  modelVersion: string;
}

/** Writes the photo's rows and re-solves the session; the answer without its duration. */
export async function insertPhoto(
  trx: AttendanceStore,
  session: Session,
  input: PhotoRowsInput,
  actor: string,
  model: ModelInfo,
): Promise<Omit<PhotoResult, 'durationMs'>> {
  const photo = await trx.sessions.addPhoto({ sessionId: session.id, ...input.photo });
  const crops = [];
  for (const [i, face] of input.faces.entries()) {
    const file = input.files[i]!;
    const crop = await trx.crops.create({
      imagePath: file.relPath,
      width: file.width,
      height: file.height,
      sha256: file.sha256,
      box: face.box,
      sourcePhotoId: photo.id,
      quality: file.quality,
    });
    await trx.embeddings.upsert({
      faceCropId: crop.id,
      modelName: session.modelName,
      modelVersion: input.modelVersion,
      embedding: face.embedding,
    });
    crops.push(crop);
  }
  await trx.audit.append([
    auditEvent(actor, 'photo-added', session.id, { after: { photo_id: photo.id, faces: crops.length } }),
  ]);
  const { rows, matches } = await resolveSession(trx, session, model);
  const byFace = faceAnswers(rows, matches);
  return {
    photoId: photo.id,
    width: photo.width,
    height: photo.height,
    faces: crops.map((c, i) =>
      faceResult(c.id, c.box!, input.faces[i]!.score, byFace.get(c.id), c.quality, thresholdForFace(model, c.box![2])),
    ),
  };
}
