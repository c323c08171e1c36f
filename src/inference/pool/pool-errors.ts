// The typed errors the pool rejects jobs with. Details carry what a caller or operator needs
// (exit code, signal, pid, workerId); stderr goes to the log, not into error bodies.
import { FaceembedError, InternalError, TimeoutError, WorkerCrashedError, type SerializedError } from '../../errors.js';
import type { WorkerExit } from './worker-handle.js';

export interface WorkerIdentity {
  workerId: number;
  pid: number | undefined;
}

export const describeExit = (info: WorkerExit) =>
  info.signal ? `signal ${info.signal}` : `exit code ${info.exitCode}`;

export const exitDetails = (who: WorkerIdentity, info: WorkerExit) => ({
  ...who,
  exitCode: info.exitCode,
  signal: info.signal,
});

export const poolClosedError = (details: Record<string, unknown> = {}) =>
  new InternalError(
    details.pid === undefined ? 'Worker pool is closed' : 'Worker pool closed before the job finished',
    {
      reason: 'pool-closed',
      ...details,
    },
  );

/** A fresh instance per rejected job, so no two callers share (and mutate) one error. */
export const copyError = (err: FaceembedError) => new FaceembedError(err.type, err.message, err.details);

/** An abort reason that already is a FaceembedError is kept; AbortSignal.timeout() maps to TimeoutError. */
export function abortError(reason: unknown): FaceembedError {
  if (reason instanceof FaceembedError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError')
    return new TimeoutError('Job deadline passed', { reason: 'aborted' });
  return new InternalError('Job was aborted', { reason: 'aborted' });
}

export const jobTimeoutError = (who: WorkerIdentity, timeoutMs: number) =>
  new TimeoutError(`Job took longer than ${timeoutMs} ms; its worker was killed`, { timeoutMs, ...who });

export const jobCrashError = (who: WorkerIdentity, info: WorkerExit, attempts: number) =>
  new WorkerCrashedError(`Worker process died (${describeExit(info)}) while running the job`, {
    ...exitDetails(who, info),
    attempts,
  });

export interface BootFailure {
  info: WorkerExit;
  initError: SerializedError | undefined;
  /** Set when the pool killed the worker for not reporting ready in time. */
  bootTimeoutMs: number | undefined;
}

/** The stderr line that says most: Node ends an uncaught error with a blank line and "Node.js vX". */
function telling(lines: string[]): string | undefined {
  const errorLine = lines.findLast((l) => /^\s*[\w.[\] ]*(Error|Exception)\b[^:]*:/.test(l));
  return errorLine?.trim() ?? lines.findLast((l) => l.trim() !== '' && !/^Node\.js v\d/.test(l));
}

export function bootError(who: WorkerIdentity, { info, initError, bootTimeoutMs }: BootFailure): WorkerCrashedError {
  const lastLine = telling(info.stderrTail);
  const reason =
    bootTimeoutMs !== undefined
      ? `no ready message within ${bootTimeoutMs} ms`
      : initError
        ? `init failed: ${initError.type}: ${initError.message}`
        : `${describeExit(info)}${lastLine ? `: ${lastLine}` : ''}`;
  return new WorkerCrashedError(`Worker process failed to start (${reason})`, {
    phase: 'boot',
    ...exitDetails(who, info),
    ...(initError ? { cause: { type: initError.type, message: initError.message } } : {}),
  });
}
