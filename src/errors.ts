// The closed set of failure types (docs/api.md "Errors"): the same names appear in worker
// result files, logs and HTTP bodies. Decisions are made on `type`, never on message text.

export type ErrorType =
  | 'ValidationError'
  | 'AuthenticationError'
  | 'ForbiddenError'
  | 'ConflictError'
  | 'ServiceUnavailableError'
  | 'ValueError'
  | 'NotFoundError'
  | 'FileNotFoundError'
  | 'ImageDecodeError'
  | 'ImageTooLargeError'
  | 'NoFaceDetectedError'
  | 'OverloadedError'
  | 'TimeoutError'
  | 'WorkerCrashedError'
  | 'InternalError';

export const STATUS_BY_TYPE: Readonly<Record<ErrorType, number>> = Object.freeze({
  ValidationError: 400,
  AuthenticationError: 401,
  ForbiddenError: 403,
  ConflictError: 409,
  ServiceUnavailableError: 503,
  ValueError: 400,
  NotFoundError: 404,
  FileNotFoundError: 422,
  ImageDecodeError: 422,
  ImageTooLargeError: 413,
  NoFaceDetectedError: 422,
  OverloadedError: 429,
  TimeoutError: 504,
  WorkerCrashedError: 500,
  InternalError: 500,
});

export type ErrorDetails = Record<string, unknown>;

/** Plain-object form: what crosses IPC and lands in result files. */
export interface SerializedError {
  type: ErrorType;
  message: string;
  traceback?: string;
  details?: ErrorDetails;
}

export class FaceembedError extends Error {
  readonly type: ErrorType;
  readonly details: ErrorDetails | undefined;

  constructor(type: ErrorType, message: string, details?: ErrorDetails) {
    super(message);
    this.type = type;
    this.name = type;
    this.details = details;
  }

  get statusCode(): number {
    return STATUS_BY_TYPE[this.type];
  }
}

const define = (type: ErrorType) =>
  class extends FaceembedError {
    constructor(message: string, details?: ErrorDetails) {
      super(type, message, details);
    }
  };

export class ValidationError extends define('ValidationError') {}
/**
 * A well-formed request whose content cannot serve as asked (an enrolment photo with two plausible
 * faces or below the quality gate; a file the service stored for another row): still a
 * ValidationError, answered 422 as the other refusals of an image's content are.
 */
export class UnprocessableError extends ValidationError {
  override get statusCode(): number {
    return 422;
  }
}
export class AuthenticationError extends define('AuthenticationError') {}
export class ForbiddenError extends define('ForbiddenError') {}
export class ConflictError extends define('ConflictError') {}
export class ServiceUnavailableError extends define('ServiceUnavailableError') {}
export class ValueError extends define('ValueError') {}
export class NotFoundError extends define('NotFoundError') {}
export class FileNotFoundError extends define('FileNotFoundError') {}
export class ImageDecodeError extends define('ImageDecodeError') {}
export class ImageTooLargeError extends define('ImageTooLargeError') {}
export class NoFaceDetectedError extends define('NoFaceDetectedError') {}
export class OverloadedError extends define('OverloadedError') {}
export class TimeoutError extends define('TimeoutError') {}
export class WorkerCrashedError extends define('WorkerCrashedError') {}
export class InternalError extends define('InternalError') {}

export const isErrorType = (value: unknown): value is ErrorType =>
  typeof value === 'string' && Object.hasOwn(STATUS_BY_TYPE, value);

/** Anything thrown becomes a FaceembedError; unknown failures are InternalError. */
export function toFaceembedError(err: unknown): FaceembedError {
  if (err instanceof FaceembedError) return err;
  if (err instanceof Error) {
    const wrapped = new InternalError(err.message || String(err));
    wrapped.stack = err.stack;
    return wrapped;
  }
  return new InternalError(String(err));
}

export function serializeError(err: unknown): SerializedError {
  const e = toFaceembedError(err);
  const out: SerializedError = { type: e.type, message: e.message, traceback: e.stack ?? '' };
  if (e.details) out.details = e.details;
  return out;
}

const CLASSES: Readonly<Record<ErrorType, new (message: string, details?: ErrorDetails) => FaceembedError>> = {
  ValidationError,
  AuthenticationError,
  ForbiddenError,
  ConflictError,
  ServiceUnavailableError,
  ValueError,
  NotFoundError,
  FileNotFoundError,
  ImageDecodeError,
  ImageTooLargeError,
  NoFaceDetectedError,
  OverloadedError,
  TimeoutError,
  WorkerCrashedError,
  InternalError,
};

/** Back to the typed subclass, so `instanceof FileNotFoundError` holds after an IPC round trip. */
export function deserializeError(s: SerializedError): FaceembedError {
  const type = isErrorType(s.type) ? s.type : 'InternalError';
  const e = new CLASSES[type](s.message, s.details);
  if (s.traceback) e.stack = s.traceback;
  return e;
}
