// Worker output reaches the pool's logger tagged with workerId, pid and jobId (plus the job's
// caller fields, e.g. a request id), so a line in the log leads back to the request.
import type { FromWorker } from '../protocol.js';
import type { PoolLogger } from './pool-options.js';
import type { PoolJob } from './pool-job.js';
import type { WorkerHandle } from './worker-handle.js';

/** A line the worker wrote to stdout (info) or stderr (warn): Node's own crash reports land here. */
export function logOutput(log: PoolLogger, h: WorkerHandle<PoolJob>, stream: 'stdout' | 'stderr', line: string): void {
  const fields = { ...h.job?.fields, workerId: h.id, pid: h.pid, jobId: h.job?.id, stream };
  if (stream === 'stderr') log.warn(fields, line);
  else log.info(fields, line);
}

/** A 'log' message sent with ctx.log(); the pool's fields win over the worker's. */
export function logMessage(log: PoolLogger, h: WorkerHandle<PoolJob>, msg: Extract<FromWorker, { type: 'log' }>): void {
  const job = h.job && h.job.id === msg.jobId ? h.job : undefined;
  log.info({ ...msg.fields, ...job?.fields, workerId: h.id, pid: h.pid, jobId: msg.jobId }, msg.message);
}
