// The BullMQ engine (FACEEMBED_QUEUE_URL=redis://…): a job becomes queue jobs of up to SLICE
// item keys each; any process holding a JobRunner (`faceembed worker-node`, or the server unless
// FACEEMBED_SERVER_RUNS_JOBS=false) consumes them. A node that dies mid-slice stops renewing its
// lock and BullMQ hands the slice to another node; the runner skips what was already finished.
// Progress is written to the database by the runner, never kept only in Redis. Each slice has a
// fixed BullMQ job id (job id and slice number over the keys in order), so submitting a job
// again — at every (re)connection, for jobs whose enqueue was lost — adds only slices BullMQ no
// longer holds; those ran already (their items are finished and skipped) or were lost.
import { Queue, Worker, type RedisOptions } from 'bullmq';
import type { Logger } from 'pino';
import { ServiceUnavailableError } from '../errors.js';
import type { JobEngine } from '../services/job.service.js';
import type { JobRunner } from '../services/job-runner.js';

export const QUEUE_NAME = 'faceembed-jobs';
/** Crop ids per queue job: big enough that the per-slice cost stays small, small enough to spread. */
export const SLICE = 16;
/** The first slices are smaller, so the first progress shows within a second. */
const FIRST_SLICES = [4, 8];
/** A node silent for this long is taken for dead and its slice goes back to the queue. */
const LOCK_MS = 10_000;
const RETRY_AFTER_S = 5;

interface SliceData {
  jobId: number;
  ids: number[];
}

export type QueueNode = Worker<SliceData>;

/** redis://[user:pass@]host:port/db -> ioredis options; every connection reconnects by itself. */
export function redisOptions(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    db: Number(u.pathname.replace(/^\//, '') || 0),
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    ...(u.protocol === 'rediss:' && { tls: {} }),
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}

export interface BullmqEngineOptions {
  url: string;
  prefix: string;
  log: Logger;
}

export interface BullmqProducerOptions extends BullmqEngineOptions {
  /**
   * Run each time the producer connection becomes ready (the first time and after every loss):
   * the place to submit the active jobs again. A failure is logged and tried again later.
   */
  onConnect?: () => Promise<void>;
}

export class BullmqJobEngine implements JobEngine {
  readonly name = 'bullmq';
  private readonly queue: Queue<SliceData>;
  private ready = false;
  private closed = false;
  private connectRun: Promise<void> | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: BullmqProducerOptions) {
    // A producer fails at once while Redis is down (503), instead of queueing commands in memory.
    this.queue = new Queue<SliceData>(QUEUE_NAME, {
      connection: { ...redisOptions(opts.url), enableOfflineQueue: false },
      prefix: opts.prefix,
    });
    this.queue.on('error', (err) => {
      if (this.ready) opts.log.warn({ err: err.message }, 'job queue connection lost');
      this.ready = false;
    });
    void this.watch();
  }

  assertAvailable(): void {
    if (!this.ready) {
      throw new ServiceUnavailableError('The job queue (Redis) is unreachable; try again shortly', {
        retryAfterSeconds: RETRY_AFTER_S,
      });
    }
  }

  async whenAvailable(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready && !this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  async submit(jobId: number, ids: readonly number[]): Promise<void> {
    const slices: { name: string; data: SliceData; opts: Record<string, unknown> }[] = [];
    // The same id for the same slice: a repeated submit adds nothing BullMQ still holds.
    const sliceOpts = (n: number) => ({
      jobId: `${jobId}-${n}`,
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
    });
    for (let i = 0, n = 0; i < ids.length; n++) {
      const size = FIRST_SLICES[n] ?? SLICE;
      slices.push({ name: 'job-slice', data: { jobId, ids: ids.slice(i, i + size) }, opts: sliceOpts(n) });
      i += size;
    }
    if (slices.length === 0) slices.push({ name: 'job-slice', data: { jobId, ids: [] }, opts: sliceOpts(0) });
    try {
      for (let i = 0; i < slices.length; i += 500) {
        await this.queue.addBulk(
          slices.slice(i, i + 500).map((s) => ({
            ...s,
            opts: { ...s.opts, removeOnComplete: true, removeOnFail: 1000 },
          })),
        );
      }
    } catch (err) {
      throw new ServiceUnavailableError(`The job queue (Redis) refused the job: ${(err as Error).message}`, {
        retryAfterSeconds: RETRY_AFTER_S,
      });
    }
  }

  async queueDepth(): Promise<number | undefined> {
    if (!this.ready) return undefined;
    try {
      const c = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(c).reduce((a, b) => a + b, 0);
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.connectTimer);
    await this.connectRun;
    await this.queue.close();
  }

  /** Runs onConnect once at a time; a failure is tried again in RETRY_AFTER_S. */
  private connected(): void {
    const hook = this.opts.onConnect;
    if (!hook || this.closed || this.connectRun) return;
    clearTimeout(this.connectTimer);
    this.connectRun = hook()
      .catch((err: unknown) => {
        this.opts.log.warn({ err: (err as Error).message }, 'submitting active jobs again failed; retrying');
        if (this.closed) return;
        this.connectTimer = setTimeout(() => this.connected(), RETRY_AFTER_S * 1000);
        this.connectTimer.unref();
      })
      .finally(() => {
        this.connectRun = undefined;
      });
  }

  /** Tracks the producer connection's state (ioredis reconnects by itself). */
  private async watch(): Promise<void> {
    try {
      const client = await this.queue.client;
      this.ready = client.status === 'ready';
      if (this.ready) this.connected();
      client.on('ready', () => {
        if (!this.ready) this.opts.log.info('job queue connected');
        this.ready = true;
        this.connected();
      });
      client.on('close', () => {
        this.ready = false;
      });
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'job queue not reachable yet');
      setTimeout(() => void this.watch(), 1000).unref();
    }
  }
}

/** Consumes slices on this process's pool until closed. */
export function startNode(opts: BullmqEngineOptions & { runner: JobRunner; concurrency?: number }): QueueNode {
  const worker = new Worker<SliceData>(
    QUEUE_NAME,
    async (slice) => {
      if (slice.data.ids.length === 0) await opts.runner.finalize(slice.data.jobId);
      else await opts.runner.run(slice.data.jobId, { ids: slice.data.ids });
    },
    {
      connection: { ...redisOptions(opts.url), maxRetriesPerRequest: null },
      prefix: opts.prefix,
      concurrency: opts.concurrency ?? 2,
      lockDuration: LOCK_MS,
      stalledInterval: LOCK_MS / 2,
      // Every node may die on a slice (kill all, start one later): the slice waits for a live one.
      maxStalledCount: 1000,
    },
  );
  let up = true;
  worker.on('error', (err) => {
    if (up) opts.log.warn({ err: err.message, node: opts.runner.node }, 'job queue connection lost');
    up = false;
  });
  worker.on('ready', () => {
    if (!up) opts.log.info({ node: opts.runner.node }, 'job queue reconnected');
    up = true;
  });
  worker.on('failed', (job, err) =>
    opts.log.warn({ err: err.message, job: job?.id, node: opts.runner.node }, 'job slice failed'),
  );
  return worker;
}
