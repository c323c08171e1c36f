// The multipart form of POST /face-crops/: one file part `image` (streamed to disk, capped)
// and optional text parts `person_id` and `label`, in any order. Unknown text parts are
// ignored, as Django REST Framework ignores unknown fields.
import type { FastifyRequest } from 'fastify';
import { FaceembedError, ValidationError } from '../../../errors.js';
import type { StagedUpload } from '../../../repositories/media-storage.js';
import type { CropMeta, FaceCropService } from '../../../services/face-crop.service.js';
import type { FaceCrop } from '../../../repositories/face-crop.repository.js';

const TEXT_FIELDS: Readonly<Record<string, { key: 'personId' | 'label'; maxLength: number }>> = Object.freeze({
  person_id: { key: 'personId', maxLength: 128 },
  label: { key: 'label', maxLength: 256 },
});

/**
 * The multipart parser reports a malformed body (no boundary, cut short) with bare Errors:
 * those are the client's fault. Typed errors, Fastify's own and file-system errors pass as they are.
 */
function asClientError(err: unknown): unknown {
  const e = err as { statusCode?: unknown; syscall?: unknown; message?: unknown };
  if (err instanceof FaceembedError || !(err instanceof Error) || e.statusCode !== undefined || e.syscall !== undefined)
    return err;
  return new ValidationError(`Malformed multipart body: ${err.message}`);
}

export async function createFromMultipart(request: FastifyRequest, service: FaceCropService): Promise<FaceCrop> {
  let staged: StagedUpload | undefined;
  const meta: CropMeta = {};
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'image') {
          part.file.resume();
          throw new ValidationError(`Unexpected file field "${part.fieldname}": the image goes in field "image"`);
        }
        staged = await service.stageUpload(part.file);
        continue;
      }
      if (part.fieldname === 'image') throw new ValidationError('Field "image" must be a file');
      const field = TEXT_FIELDS[part.fieldname];
      if (!field) continue;
      const value = String(part.value ?? '');
      if (part.valueTruncated || value.length > field.maxLength) {
        throw new ValidationError(`Field "${part.fieldname}" is longer than ${field.maxLength} characters`);
      }
      if (field.key === 'personId')
        meta.personId = value === '' ? null : /^\d{1,10}$/.test(value) ? Number(value) : value;
      else meta[field.key] = value === '' ? null : value;
    }
  } catch (err) {
    if (staged) await service.discardUpload(staged);
    throw asClientError(err);
  }
  if (!staged) throw new ValidationError('Multipart field "image" (a file) is required');
  return service.createFromUpload(staged, meta);
}
