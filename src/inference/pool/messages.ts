// The pool's own IPC messages between the parent and a worker process. They carry the task and
// its output as opaque type parameters: what a task is belongs to the layer above the pool
// (inference/protocol.ts for faceembed's workers, plain fixtures in the pool's tests).
// Messages travel over the fork() IPC channel with `serialization: 'advanced'` (structured
// clone), so typed arrays cross as binary, not as JSON number arrays.
import type { SerializedError } from '../../errors.js';

/** Parent -> worker. */
export type ToWorker<Req> = { type: 'run'; jobId: number; task: Req } | { type: 'shutdown' };

/** Worker -> parent. `rssBytes` rides on every reply so the pool can recycle fat workers. */
export type FromWorker<Res> =
  | { type: 'ready'; pid: number; models: string[] }
  | { type: 'log'; jobId?: number; message: string; fields?: Record<string, unknown> }
  | { type: 'result'; jobId: number; output: Res; rssBytes: number }
  | { type: 'error'; jobId: number; error: SerializedError; rssBytes: number }
  /** init() failed: sent once, just before the worker exits, so the pool can say why. */
  | { type: 'init-error'; error: SerializedError };

/** A 'log' message as the pool reads it. */
export type LogMessage = Extract<FromWorker<unknown>, { type: 'log' }>;
