// The multipart form of POST sessions/{id}/photos/: one file part `image`, streamed to disk
// (capped). Other text parts are ignored, as Django REST Framework ignores unknown fields.
import type { FastifyRequest } from 'fastify';
import { FaceembedError, ValidationError } from '../../../errors.js';
import type { StagedUpload } from '../../../repositories/media-storage.js';
import type { SessionService } from '../../../services/session.service.js';

/** Malformed bodies come from the parser as bare Errors: the client's fault. */
function asClientError(err: unknown): unknown {
  const e = err as { statusCode?: unknown; syscall?: unknown };
  if (err instanceof FaceembedError || !(err instanceof Error) || e.statusCode !== undefined || e.syscall !== undefined)
    return err;
  return new ValidationError(`Malformed multipart body: ${err.message}`);
}

export async function stagePhoto(
  request: FastifyRequest,
  service: Pick<SessionService, 'stageUpload' | 'discardUpload'>,
): Promise<StagedUpload> {
  if (!request.isMultipart())
    throw new ValidationError('Send the class photo as multipart/form-data, file field "image"');
  let staged: StagedUpload | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') {
        if (part.fieldname === 'image') throw new ValidationError('Field "image" must be a file');
        continue;
      }
      if (part.fieldname !== 'image' || staged) {
        part.file.resume();
        throw new ValidationError(`Unexpected file field "${part.fieldname}": the photo goes in one field "image"`);
      }
      staged = await service.stageUpload(part.file);
    }
  } catch (err) {
    if (staged) await service.discardUpload(staged);
    throw asClientError(err);
  }
  if (!staged) throw new ValidationError('Multipart field "image" (a file) is required');
  return staged;
}
