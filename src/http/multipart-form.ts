// A multipart form with one file part `image` (streamed to a staged file, capped) and known
// text fields; unknown text fields are ignored, as Django REST Framework ignores unknown fields.
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { FaceembedError, ValidationError } from '../errors.js';
import type { StagedUpload } from '../repositories/media-storage.js';

export interface StagingPort {
  stageUpload(stream: Readable): Promise<StagedUpload>;
  discardUpload(staged: StagedUpload): Promise<void>;
}

/** The parser reports a malformed body with bare Errors: those are the client's fault. */
function asClientError(err: unknown): unknown {
  const e = err as { statusCode?: unknown; syscall?: unknown };
  if (err instanceof FaceembedError || !(err instanceof Error) || e.statusCode !== undefined || e.syscall !== undefined)
    return err;
  return new ValidationError(`Malformed multipart body: ${err.message}`);
}

export async function readImageForm(
  request: FastifyRequest,
  staging: StagingPort,
  fields: readonly string[],
): Promise<{ staged: StagedUpload; fields: Record<string, string> }> {
  let staged: StagedUpload | undefined;
  const values: Record<string, string> = {};
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'image' || staged) {
          part.file.resume();
          throw new ValidationError(`Unexpected file field "${part.fieldname}": send one image in field "image"`);
        }
        staged = await staging.stageUpload(part.file);
        continue;
      }
      if (part.fieldname === 'image') throw new ValidationError('Field "image" must be a file');
      if (!fields.includes(part.fieldname)) continue;
      if (part.valueTruncated) throw new ValidationError(`Field "${part.fieldname}" is too long`);
      values[part.fieldname] = String(part.value ?? '');
    }
  } catch (err) {
    if (staged) await staging.discardUpload(staged);
    throw asClientError(err);
  }
  if (!staged) throw new ValidationError('Multipart field "image" (a file) is required');
  return { staged, fields: values };
}

/** A decimal form field as a number within bounds, or undefined when absent or empty. */
export function numberField(
  fields: Record<string, string>,
  name: string,
  opts: { integer?: boolean; min: number; max: number },
): number | undefined {
  const text = fields[name];
  if (text === undefined || text === '') return undefined;
  const pattern = opts.integer ? /^-?\d{1,10}$/ : /^-?\d+(\.\d+)?$/;
  const value = Number(text);
  if (!pattern.test(text) || value < opts.min || value > opts.max)
    throw new ValidationError(
      `Field "${name}" must be ${opts.integer ? 'an integer' : 'a number'} from ${opts.min} to ${opts.max}`,
      { field: name },
    );
  return value;
}
