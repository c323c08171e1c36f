// The child side of the pool protocol: boot, report 'ready', answer 'run' messages one at a time,
// exit on 'shutdown' once the current job is answered, and exit at once when the parent goes
// away (workerpool PR #80): the IPC channel closes even when the parent dies by SIGKILL.
import { InternalError, serializeError } from '../../errors.js';
import type { FromWorker, ToWorker } from './messages.js';

export interface WorkerContext {
  jobId: number;
  /** Reaches the pool's logger with workerId, pid and jobId added. Fields must be structured-cloneable. */
  log(message: string, fields?: Record<string, unknown>): void;
}

export interface ServeWorkerOptions<Req, Res> {
  /** Loads what the worker needs; a throw is reported as 'init-error' and the process exits 1. */
  init: () => Promise<{ models: string[] }>;
  /** A throw becomes an 'error' reply (a handled failure: the pool does not retry it). */
  handle: (task: Req, ctx: WorkerContext) => Promise<Res>;
}

/** Resolves once the message is handed to the IPC channel, so exiting afterwards loses nothing. */
function post(message: FromWorker<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.connected || !process.send) return resolve();
    try {
      process.send(message, undefined, undefined, (err) => (err ? reject(err) : resolve()));
    } catch (err) {
      reject(err); // e.g. DataCloneError for an output that cannot cross IPC
    }
  });
}

const errorReply = (jobId: number, err: unknown): FromWorker<never> => ({
  type: 'error',
  jobId,
  error: serializeError(err),
  rssBytes: process.memoryUsage.rss(),
});

async function boot<Req, Res>(opts: ServeWorkerOptions<Req, Res>): Promise<void> {
  try {
    const { models } = await opts.init();
    await post({ type: 'ready', pid: process.pid, models });
  } catch (err) {
    await post({ type: 'init-error', error: serializeError(err) }).catch(() => {});
    process.exit(1);
  }
}

async function runJob<Req, Res>(opts: ServeWorkerOptions<Req, Res>, jobId: number, task: Req): Promise<void> {
  const ctx: WorkerContext = {
    jobId,
    log: (message, fields) => {
      post({ type: 'log', jobId, message, ...(fields ? { fields } : {}) }).catch((err: unknown) => {
        process.stderr.write(`log message could not be sent: ${String(err)}: ${message}\n`);
      });
    },
  };
  let reply: FromWorker<Res>;
  try {
    const output = await opts.handle(task, ctx);
    reply = { type: 'result', jobId, output, rssBytes: process.memoryUsage.rss() };
  } catch (err) {
    reply = errorReply(jobId, err);
  }
  try {
    await post(reply);
  } catch (err) {
    if (reply.type === 'result') await post(errorReply(jobId, err)).catch(() => {});
  }
}

export function serveWorker<Req, Res>(opts: ServeWorkerOptions<Req, Res>): void {
  if (typeof process.send !== 'function') {
    throw new InternalError('serveWorker() needs an IPC channel: start this module with child_process.fork()');
  }
  // No orphans: the parent is gone (exited, crashed or SIGKILLed) when its end of the channel closes.
  process.on('disconnect', () => process.exit(0));
  // One job at a time, in arrival order, after boot; 'shutdown' waits behind the current job,
  // but not behind a boot that has nothing to finish.
  let booted = false;
  let chain = boot(opts).then(() => {
    booted = true;
  });
  process.on('message', (raw: unknown) => {
    const message = raw as ToWorker<Req>;
    if (message?.type === 'run') chain = chain.then(() => runJob(opts, message.jobId, message.task));
    else if (message?.type === 'shutdown') {
      if (!booted) process.exit(0);
      chain = chain.then(() => process.exit(0));
    }
  });
}
