// The multipart form of POST sessions/{id}/photos/: one file part `image`, streamed to disk
// (capped), and the text field `async` ("true" or "false"). Other text parts are ignored, as
// Django REST Framework ignores unknown fields.
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

export interface StagedPhoto {
  staged: StagedUpload;
  /** The form field `async`, when sent. */
  async?: boolean;
}

export async function stagePhoto(
  request: FastifyRequest,
  service: Pick<SessionService, 'stageUpload' | 'discardUpload'>,
): Promise<StagedPhoto> {
  if (!request.isMultipart())
    throw new ValidationError('Send the class photo as multipart/form-data, file field "image"');
  let staged: StagedUpload | undefined;
  let async: boolean | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') {
        if (part.fieldname === 'image') throw new ValidationError('Field "image" must be a file');
        if (part.fieldname === 'async') async = asyncField(part.value);
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
  return { staged, async };
}

function asyncField(value: unknown): boolean {
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ValidationError('Field "async" must be "true" or "false"', { async: String(value).slice(0, 20) });
}
