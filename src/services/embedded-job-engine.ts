// The embedded engine (no Redis): jobs wait in the database and the server's own pool runs
// them, oldest first, a few slices at a time. At start, items a killed server left running go
// back to pending, a job it left cancelling is cancelled, and every unfinished job resumes.
import type { Logger } from 'pino';
import type { JobRepository } from '../repositories/job.repository.js';
import type { JobEngine } from './job.service.js';
import type { JobRunner } from './job-runner.js';

export interface EmbeddedEngineOptions {
  /** Slices run at once: two keep the pool busy across a slice's tail and its writes. */
  lanes?: number;
  /** Largest slice: one cancellation check and one multi-row write per slice. */
  slice?: number;
  log: Logger;
}

const RETRY_MS = 2000;
const FIRST_SLICE = 4;
/** A cancel waits for at most the slice in flight on each lane. */
const MAX_SLICE = 16;

export class EmbeddedJobEngine implements JobEngine {
  readonly name = 'embedded';
  private loop: Promise<void> | undefined;
  private again = false;
  private closing = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly jobs: JobRepository,
    private readonly runner: JobRunner,
    private readonly opts: EmbeddedEngineOptions,
  ) {}

  /** Resume what a previous process left (call once, at start). */
  async start(): Promise<void> {
    const released = await this.jobs.releaseOrphans();
    const active = await this.jobs.active();
    if (active.length) this.opts.log.info({ jobs: active.map((j) => j.id), released }, 'resuming jobs');
    this.kick();
  }

  assertAvailable(): void {}

  async whenAvailable(): Promise<void> {}

  async submit(): Promise<void> {
    this.kick();
  }

  async queueDepth(): Promise<number | undefined> {
    return undefined; // the open items (from the database) are the queue
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    await this.loop;
  }

  private kick(): void {
    if (this.closing) return;
    if (this.loop) {
      this.again = true;
      return;
    }
    this.loop = this.drain()
      .catch((err: unknown) => {
        this.opts.log.error({ err }, 'job runner failed; retrying');
        this.retryTimer = setTimeout(() => this.kick(), RETRY_MS);
        this.retryTimer.unref();
      })
      .finally(() => {
        this.loop = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async drain(): Promise<void> {
    const lanes = this.opts.lanes ?? 2;
    const slice = this.opts.slice ?? MAX_SLICE;
    const tried = new Set<number>();
    // A lane works the oldest job with items left to claim, then moves on: a large job gets
    // every lane, one-item jobs (class photos) run side by side.
    const lane = async () => {
      while (!this.closing) {
        const job = (await this.jobs.active()).find((j) => !tried.has(j.id));
        if (!job) return;
        // Small slices first, so progress shows within a second; then larger ones.
        for (let size = FIRST_SLICE; !this.closing; size = Math.min(slice, size * 2)) {
          if ((await this.runner.run(job.id, { pendingLimit: size })) === 0) break;
        }
        tried.add(job.id);
        if (!this.closing) await this.runner.finalize(job.id);
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
  }
}
