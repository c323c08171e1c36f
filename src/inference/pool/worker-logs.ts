// Worker output reaches the pool's logger tagged with workerId, pid and jobId (plus the job's
// caller fields, e.g. a request id), so a line in the log leads back to the request.
import type { LogMessage } from './messages.js';
import type { PoolLogger } from './pool-options.js';

/** What the log lines need to know of a worker and its current job. */
export interface LoggedWorker {
  id: number;
  pid: number | undefined;
  job: { id: number; fields: Record<string, unknown> } | undefined;
}

/** A line the worker wrote to stdout (info) or stderr (warn): Node's own crash reports land here. */
export function logOutput(log: PoolLogger, h: LoggedWorker, stream: 'stdout' | 'stderr', line: string): void {
  const fields = { ...h.job?.fields, workerId: h.id, pid: h.pid, jobId: h.job?.id, stream };
  if (stream === 'stderr') log.warn(fields, line);
  else log.info(fields, line);
}

/**
 * A 'log' message sent with ctx.log(); the pool's fields win over the worker's. These are the
 * per-step lines (the old service's [WORKER] steps): debug, so a busy server logs one info line
 * per embedding, not one per step.
 */
export function logMessage(log: PoolLogger, h: LoggedWorker, msg: LogMessage): void {
  const job = h.job && h.job.id === msg.jobId ? h.job : undefined;
  log.debug({ ...msg.fields, ...job?.fields, workerId: h.id, pid: h.pid, jobId: msg.jobId }, msg.message);
}
