// One translation from anything thrown to the error envelope (docs/api.md "Errors")
// {"error": {"type", "message", "details"?}, "request_id"}. Fastify's own client errors (bad
// JSON, wrong content type, body too large, schema violations) become ValidationError with
// Fastify's status; internal messages never reach the body of a 500.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { redactDeep } from '../redact-paths.js';
import {
  FaceembedError,
  ImageTooLargeError,
  InternalError,
  NotFoundError,
  ValidationError,
  type ErrorDetails,
} from '../../errors.js';

/** A ValidationError answered with another 4xx status (401, 413, 415). */
export class RequestError extends ValidationError {
  constructor(
    private readonly status: number,
    message: string,
    details?: ErrorDetails,
  ) {
    super(message, details);
  }

  override get statusCode(): number {
    return this.status;
  }
}

const MULTIPART_LIMITS: Readonly<Record<string, string>> = Object.freeze({
  FST_FILES_LIMIT: 'Only one file (field "image") may be uploaded',
  FST_PARTS_LIMIT: 'Too many parts in the multipart form',
  FST_FIELDS_LIMIT: 'Too many fields in the multipart form',
});

type Part = 'body' | 'params' | 'querystring' | 'headers';

function fromValidation(err: FastifyError): ValidationError {
  const part = (err.validationContext ?? 'body') as Part;
  const errors = (err.validation ?? []).map((v) => ({
    field: `${part}${v.instancePath || ''}`.replace(/^body\//, ''),
    message: v.message ?? 'is invalid',
  }));
  const summary = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return new ValidationError(`Invalid request ${part === 'querystring' ? 'query' : part}: ${summary}`, { errors });
}

/** The typed error the client sees, and its status. */
export function toPublicError(err: unknown): FaceembedError {
  if (err instanceof FaceembedError) return err;
  const e = err as Partial<FastifyError>;
  if (e.validation) return fromValidation(e as FastifyError);
  switch (e.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new ImageTooLargeError('Uploaded file is larger than the limit');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RequestError(413, 'Request body is larger than the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RequestError(
        415,
        'Unsupported Content-Type: send application/json (multipart/form-data to upload a face crop)',
      );
  }
  if (e.code && MULTIPART_LIMITS[e.code]) return new RequestError(413, MULTIPART_LIMITS[e.code]!);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new RequestError(e.statusCode, e.message || 'Bad request');
  }
  return new InternalError('Internal Server Error');
}

export interface ErrorHandlerOptions {
  /** Put the traceback in response bodies (FACEEMBED_LOG_LEVEL=debug). */
  exposeTraceback: boolean;
  /** Rewrites server paths in messages and details (http/redact-paths.ts); the log keeps them. */
  redact?: (text: string) => string;
}

function send(err: unknown, request: FastifyRequest, reply: FastifyReply, opts: ErrorHandlerOptions) {
  const pub = toPublicError(err);
  const status = pub.statusCode;
  // Only messages we wrote leave the process; an InternalError's text may hold anything.
  const message = pub.type === 'InternalError' ? 'Internal Server Error' : pub.message;
  const log = status >= 500 ? request.log.error.bind(request.log) : request.log.info.bind(request.log);
  log({ err, error_type: pub.type, status }, `${pub.type}: ${pub.message}`);

  const redact = opts.redact ?? ((text: string) => text);
  const body: Record<string, unknown> = { type: pub.type, message: redact(message) };
  if (pub.details && pub.type !== 'InternalError') body.details = redactDeep(pub.details, redact);
  if (opts.exposeTraceback) body.traceback = (err as Error)?.stack ?? String(err);
  if (pub.type === 'OverloadedError' || pub.type === 'ServiceUnavailableError') {
    const after = Number(pub.details?.retryAfterSeconds ?? pub.details?.retry_after ?? 1);
    reply.header('Retry-After', String(Math.max(1, Math.ceil(after))));
  }
  return reply.code(status).send({ error: body, request_id: request.id });
}

export function installErrorHandler(app: FastifyInstance, opts: ErrorHandlerOptions): void {
  app.setErrorHandler((err, request, reply) => send(err, request, reply, opts));
  app.setNotFoundHandler((request, reply) =>
    send(new NotFoundError(`Route ${request.method} ${request.url.split('?', 1)[0]} not found`), request, reply, opts),
  );
}
