// A supervised pool of forked worker processes (children of this process, visible with
// `pgrep -P`). Child processes, not worker_threads: onnxruntime-node aborted the whole process
// with several threads (onnxruntime#24486). Workers are recycled after N jobs or past an RSS
// limit because releasing sessions leaks (onnxruntime#25325, #26831). Generic like piscina's
// Piscina<T, R>: tasks (Req) and their outputs (Res) are opaque here; checks live above the pool.
// This file queues and runs jobs; pool-workers.ts starts the workers and paces their restarts.
import { OverloadedError, deserializeError, type FaceembedError, type WorkerCrashedError } from '../../errors.js';
import type { FromWorker } from './messages.js';
import { resolvePoolOptions } from './pool-options.js';
import type { PoolEvent, PoolLogger, PoolStats, ResolvedPoolOptions, WorkerPoolOptions } from './pool-options.js';
import {
  abortError,
  bootError,
  copyError,
  describeExit,
  exitDetails,
  jobCrashError,
  jobTimeoutError,
  poolClosedError,
} from './pool-errors.js';
import { PoolJob, deferred, type JobOutcome } from './pool-job.js';
import { PoolWorkers, type Handle } from './pool-workers.js';
import { logMessage } from './worker-logs.js';
import { FifoQueue, type TaskQueue } from './task-queue.js';
import type { WorkerExit } from './worker-handle.js';

export interface RunOptions {
  /** Aborting removes a waiting job, or kills the worker running it (and replaces the worker). */
  signal?: AbortSignal;
  /** Added to every log line about this job (e.g. a request id). */
  fields?: Record<string, unknown>;
}

const MiB = 1024 * 1024;
const who = (h: { id: number; pid: number | undefined }) => ({ workerId: h.id, pid: h.pid });

export class WorkerPool<Req, Res> {
  private readonly opts: ResolvedPoolOptions;
  private readonly log: PoolLogger;
  private readonly workers: PoolWorkers<Req, Res>;
  private readonly queue: TaskQueue<PoolJob<Req, Res>> = new FifoQueue<PoolJob<Req, Res>>();
  private nextJobId = 1;
  /** Set while workers fail to boot and none is ready: run() fails fast instead of waiting. */
  private bootFailure: WorkerCrashedError | undefined;
  private closing: Promise<void> | undefined;
  private readonly readyGate = deferred<void>();

  constructor(options: WorkerPoolOptions) {
    this.opts = resolvePoolOptions(options);
    this.log = this.opts.logger;
    this.workers = new PoolWorkers<Req, Res>(
      this.opts,
      { message: (h, msg) => this.onMessage(h, msg), exit: (h, info) => this.onExit(h, info) },
      (event) => this.emit(event),
    );
    this.readyGate.promise.catch(() => {}); // a caller that never awaits ready() must not crash the process
    this.workers.start();
  }

  /** Resolves once every worker has reported ready; rejects (WorkerCrashedError) if one fails to boot first. */
  ready(): Promise<void> {
    return this.readyGate.promise;
  }

  run(task: Req, options: RunOptions = {}): Promise<Res> {
    const job = new PoolJob<Req, Res>(
      this.nextJobId++,
      task,
      options.fields ?? {},
      options.signal,
      (j) => this.onAbort(j),
      (j, outcome) => this.onSettled(j, outcome),
    );
    const refusal = this.refuse(options.signal);
    if (refusal) job.reject(refusal);
    else {
      this.queue.push(job);
      this.dispatch();
    }
    return job.promise;
  }

  stats(): PoolStats {
    return this.workers.stats(this.queue.size);
  }

  /** Waiting jobs reject; running ones get shutdownGraceMs to finish, then SIGKILL. Resolves when every child has exited. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    const exits = [...this.workers].map((h) => h.exited);
    this.closing = Promise.all(exits).then(() => undefined);
    this.workers.stop();
    this.readyGate.reject(poolClosedError());
    for (const job of this.queue.drain()) job.reject(poolClosedError());
    for (const h of this.workers) {
      h.leaveReason = 'close';
      h.state = 'retiring';
      if (!h.send({ type: 'shutdown' })) h.kill('SIGKILL');
      h.schedule(this.opts.shutdownGraceMs, () => h.kill('SIGKILL'));
    }
    return this.closing;
  }

  private refuse(signal: AbortSignal | undefined): FaceembedError | undefined {
    if (this.closing) return poolClosedError();
    if (this.bootFailure && !this.workers.hasReady()) return copyError(this.bootFailure);
    if (signal?.aborted) return abortError(signal.reason);
    const idle = [...this.workers].some((h) => h.state === 'idle' && h.alive);
    if (!idle && this.queue.size >= this.opts.queueLimit) {
      return new OverloadedError('Too many jobs waiting for a worker', { queueLimit: this.opts.queueLimit });
    }
    return undefined;
  }

  private dispatch(): void {
    for (const h of this.workers) {
      if (this.queue.size === 0) return;
      if (h.state !== 'idle' || !h.alive) continue;
      const job = this.queue.shift();
      if (job) this.start(h, job);
    }
  }

  private start(h: Handle<Req, Res>, job: PoolJob<Req, Res>): void {
    h.state = 'busy';
    h.job = job;
    job.attempts++;
    job.startedAt ??= performance.now();
    job.startTimer(this.opts.timeoutMs, () => this.onTimeout(h, job));
    // If the send fails the worker is dying: its exit retries the job like any crash.
    h.send({ type: 'run', jobId: job.id, task: job.task });
  }

  private onTimeout(h: Handle<Req, Res>, job: PoolJob<Req, Res>): void {
    if (h.job !== job) return;
    this.log.warn(
      { ...job.fields, ...who(h), jobId: job.id, timeoutMs: this.opts.timeoutMs },
      'Job timed out; killing its worker',
    );
    job.reject(jobTimeoutError(who(h), this.opts.timeoutMs));
    this.evict(h, 'timeout');
  }

  private onAbort(job: PoolJob<Req, Res>): void {
    if (this.queue.remove(job)) return job.reject(abortError(job.abortReason));
    const h = [...this.workers].find((w) => w.job === job);
    job.reject(abortError(job.abortReason));
    if (h && h.state === 'busy') this.evict(h, 'abort');
  }

  /** Kills a worker now (its job is already settled) and starts a replacement. */
  private evict(h: Handle<Req, Res>, cause: 'timeout' | 'abort'): void {
    h.job = undefined;
    h.state = 'retiring';
    h.leaveReason = cause;
    h.kill('SIGKILL');
    this.workers.replace(h, cause);
  }

  /** Lets a worker finish and exit on its own (SIGKILL after the grace period); a replacement starts now. */
  private retire(h: Handle<Req, Res>, cause: 'recycle-jobs' | 'recycle-rss', fields: Record<string, unknown>): void {
    h.state = 'retiring';
    h.leaveReason = cause;
    this.log.info({ workerId: h.id, pid: h.pid, jobsDone: h.jobsDone, ...fields }, `Recycling worker (${cause})`);
    if (!h.send({ type: 'shutdown' })) h.kill('SIGKILL');
    h.schedule(this.opts.shutdownGraceMs, () => h.kill('SIGKILL'));
    this.workers.replace(h, cause);
  }

  private onMessage(h: Handle<Req, Res>, msg: FromWorker<Res>): void {
    switch (msg?.type) {
      case 'ready':
        return this.onReady(h, msg.models);
      case 'log':
        return logMessage(this.log, h, msg);
      case 'result':
      case 'error':
        return this.onReply(h, msg);
      case 'init-error':
        h.initError = msg.error;
        return;
      default:
        this.log.warn(
          { workerId: h.id, pid: h.pid, messageType: (msg as { type?: unknown })?.type },
          'Unknown message from worker',
        );
    }
  }

  private onReady(h: Handle<Req, Res>, models: string[]): void {
    if (h.state !== 'booting') return;
    h.state = 'idle';
    this.bootFailure = undefined;
    const bootMs = Math.round(performance.now() - h.spawnedAt);
    this.log.info({ workerId: h.id, pid: h.pid, models, bootMs }, 'Worker ready');
    if (h.pid !== undefined) this.emit({ type: 'worker-ready', workerId: h.id, pid: h.pid, bootMs });
    const { idle, busy } = this.stats();
    if (idle + busy >= this.opts.workers) this.readyGate.resolve();
    this.dispatch();
  }

  private onReply(h: Handle<Req, Res>, msg: Extract<FromWorker<Res>, { type: 'result' | 'error' }>): void {
    const job = h.job;
    if (!job || job.id !== msg.jobId) {
      this.log.warn(
        { workerId: h.id, pid: h.pid, jobId: msg.jobId },
        'Reply for a job this worker is not running; ignored',
      );
      return;
    }
    h.job = undefined;
    h.jobsDone++;
    this.workers.jobCompleted();
    if (msg.type === 'error') job.reject(deserializeError(msg.error));
    else job.resolve(msg.output);
    if (h.state !== 'busy') return; // closing: the worker exits next
    const rssMb = Math.round(msg.rssBytes / MiB);
    if (h.jobsDone >= this.opts.maxJobsPerWorker) this.retire(h, 'recycle-jobs', { rssMb });
    else if (msg.rssBytes > this.opts.maxRssMb * MiB)
      this.retire(h, 'recycle-rss', { rssMb, maxRssMb: this.opts.maxRssMb });
    else h.state = 'idle';
    this.dispatch();
  }

  private onExit(h: Handle<Req, Res>, info: WorkerExit): void {
    const wasState = h.state;
    h.state = 'dead';
    this.workers.remove(h);
    const job = h.job;
    h.job = undefined;
    const details = exitDetails(who(h), info);
    if (h.leaveReason && h.leaveReason !== 'boot-timeout') {
      this.log.debug({ ...details, reason: h.leaveReason }, 'Worker exited');
      job?.reject(poolClosedError(details)); // only close() leaves a job on a worker the pool ended
      return;
    }
    this.workers.unexpectedExit();
    if (wasState === 'booting') {
      this.onBootFailure(h, info);
      this.workers.replace(h, 'boot-crash');
      return;
    }
    this.log.error(
      { ...job?.fields, ...details, jobId: job?.id, stderr: info.stderrTail },
      `Worker died (${describeExit(info)})`,
    );
    if (job && job.attempts < 2) {
      job.stopTimer();
      this.emit({ type: 'retry', jobId: job.id, workerId: h.id, pid: h.pid });
      this.queue.unshift(job);
    } else if (job) {
      job.reject(jobCrashError(who(h), info, job.attempts));
    }
    this.workers.replace(h, 'crash');
    this.dispatch();
  }

  private onBootFailure(h: Handle<Req, Res>, info: WorkerExit): void {
    const timedOut = h.leaveReason === 'boot-timeout';
    const err = bootError(who(h), {
      info,
      initError: h.initError,
      bootTimeoutMs: timedOut ? this.opts.bootTimeoutMs : undefined,
    });
    this.log.error({ ...err.details, stderr: info.stderrTail }, err.message);
    this.readyGate.reject(err);
    if (this.workers.hasReady()) return;
    // Nothing can serve: fail what waits rather than let it hang through the backoff.
    this.bootFailure = err;
    for (const job of this.queue.drain()) job.reject(copyError(err));
  }

  private onSettled(job: PoolJob<Req, Res>, outcome: JobOutcome): void {
    const now = performance.now();
    this.emit({
      type: 'job',
      jobId: job.id,
      outcome,
      attempts: job.attempts,
      queuedMs: (job.startedAt ?? now) - job.queuedAt,
      durationMs: now - job.queuedAt,
    });
  }

  private emit(event: PoolEvent): void {
    try {
      this.opts.onEvent?.(event);
    } catch (err) {
      this.log.error({ err, event: event.type }, 'Pool event listener threw');
    }
  }
}
