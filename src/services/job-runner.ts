// Runs a slice of a job's items and records each item's outcome in the database. Both engines
// call this: the embedded engine with "the next N pending items", a BullMQ node with the item
// keys of the queue job it holds. The work itself goes through the services' own paths: a
// generate-embeddings slice is one FaceCropService.generateBatch, an enrol slice enrols photo by
// photo through PersonService, a session-photo item is one SessionService.addQueuedPhoto.
// Idempotent: finished items are skipped, embeddings are upserts per (crop, model), a photo is
// enrolled once per person (same bytes: "existing") and a class photo stored once per file, so a
// slice run twice (a node died, the server restarted) neither duplicates nor tears a row.
//
// Cancel, for every kind: `run` is the only way work reaches an item. An item's work starts only
// if the database lets it start (the job still running), its outcome lands only if the job is
// not cancelled yet, and every run ends by asking the database to settle a cancel once nothing
// of the job is running (JobRepository: markRunning, finish, settleCancel). A new kind only adds
// its branch to `work`.
import type { Logger } from 'pino';
import { InternalError, toFaceembedError, type ErrorDetails, type ErrorType } from '../errors.js';
import type { FinishedItemStatus, ItemOutcome, Job, JobItem } from '../repositories/job-rows.js';
import type { JobRepository } from '../repositories/job.repository.js';
import type { FaceCropService } from './face-crop.service.js';
import type { PersonService } from './person.service.js';
import type { RetentionService } from './retention.service.js';
import type { SessionService } from './session.service.js';

/** Failures that say nothing about the image itself: the item is tried again. */
const TRANSIENT: ReadonlySet<ErrorType> = new Set(['WorkerCrashedError', 'TimeoutError', 'OverloadedError']);

export interface JobRunnerDeps {
  jobs: JobRepository;
  crops: Pick<FaceCropService, 'generateBatch'>;
  persons: Pick<PersonService, 'enrolStoredPhotoOnce'>;
  photos: Pick<SessionService, 'addQueuedPhoto' | 'discardQueuedPhoto'>;
  /** purge jobs: the retention schedule enforced. */
  retention?: Pick<RetentionService, 'purge'>;
  /** Recorded on every item it runs (host:pid). */
  node: string;
  /** Starts per item before it fails for good (a worker crash, or a node dying on it). */
  maxAttempts?: number;
  /** Where an item's internal error is logged (its message is not shown to clients). */
  log?: Logger;
  /** Told about every finished item (metrics). */
  onItems?: (node: string, outcomes: readonly ItemOutcome[]) => void;
}

export type RunScope = { ids: readonly number[] } | { pendingLimit: number };

/** One item's result from a slice's work, before the retry decision. */
interface SliceResult {
  itemId: number;
  status: FinishedItemStatus;
  error?: { type: ErrorType; message: string; details?: ErrorDetails };
  enrolledFaceCropId?: number;
  result?: unknown;
}

export const DEFAULT_MAX_ATTEMPTS = 3;

export class JobRunner {
  private readonly maxAttempts: number;
  /** Claims of "the next pending items" are serialised, so two lanes never take the same item. */
  private claims: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: JobRunnerDeps) {
    this.maxAttempts = deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  get node(): string {
    return this.deps.node;
  }

  /** Runs the scope's open items; returns how many it started (0: nothing to do or job not running). */
  async run(jobId: number, scope: RunScope): Promise<number> {
    try {
      return await this.runItems(jobId, scope);
    } finally {
      await this.deps.jobs.settleCancel(jobId);
    }
  }

  /** Completes a job with no open items left (an empty job, or the last slice ran elsewhere). */
  async finalize(jobId: number): Promise<void> {
    if (await this.deps.jobs.start(jobId)) await this.deps.jobs.completeIfDone(jobId);
    await this.deps.jobs.settleCancel(jobId);
  }

  private async runItems(jobId: number, scope: RunScope): Promise<number> {
    const { jobs } = this.deps;
    const job = await jobs.get(jobId);
    if (!job) return 0;
    if (!(await jobs.start(jobId))) {
      // Not running (cancelling, or ended): items a dead node left running in this slice (BullMQ
      // hands a dead node's slice on) go back, so that a cancel can settle; no-op otherwise.
      if ('ids' in scope) await jobs.release(jobId, scope.ids);
      return 0;
    }

    let items = await this.claim(jobId, scope);
    let started = 0;
    // A node that died on an item every time it started it: no further start.
    const spent = items.filter((i) => i.attempts >= this.maxAttempts);
    if (spent.length)
      await this.record(
        jobId,
        spent.map((i) => this.gaveUp(i)),
        job,
      );
    items = items.filter((i) => i.attempts < this.maxAttempts);

    while (items.length) {
      const claimed = items.map((i) => i.itemId);
      const ids = await jobs.markRunning(jobId, claimed, this.deps.node, true);
      if (ids.length < claimed.length) {
        // Cancelled meanwhile: what was claimed and not started goes back.
        const taken = new Set(ids);
        await jobs.release(
          jobId,
          claimed.filter((id) => !taken.has(id)),
        );
        items = items.filter((i) => taken.has(i.itemId));
        if (!items.length) return started;
      }
      started += ids.length;
      let results: SliceResult[];
      try {
        results = await this.work(job, items);
      } catch (err) {
        await jobs.release(jobId, ids);
        throw err;
      }
      const attempts = new Map(items.map((i) => [i.itemId, i.attempts + 1]));
      const outcomes: ItemOutcome[] = [];
      const again: JobItem[] = [];
      for (const r of results) {
        const tries = attempts.get(r.itemId)!;
        if (r.status === 'failed' && r.error && TRANSIENT.has(r.error.type) && tries < this.maxAttempts) {
          again.push({ ...items.find((i) => i.itemId === r.itemId)!, attempts: tries });
        } else {
          outcomes.push({
            itemId: r.itemId,
            status: r.status,
            ...(r.error && { errorType: r.error.type, errorMessage: r.error.message }),
            ...(r.error?.details && { errorDetails: r.error.details }),
            ...(r.enrolledFaceCropId !== undefined && { enrolledFaceCropId: r.enrolledFaceCropId }),
            ...(r.result !== undefined && { result: r.result }),
          });
        }
      }
      await this.record(jobId, outcomes, job);
      items = again;
    }
    await jobs.completeIfDone(jobId);
    return started;
  }

  /** The slice's work, by the job's kind; an item's failure is its result, never the slice's. */
  private async work(job: Job, items: readonly JobItem[]): Promise<SliceResult[]> {
    if (job.kind === 'generate-embeddings') {
      const batch = await this.deps.crops.generateBatch(
        items.map((i) => i.itemId),
        { modelName: job.modelName, force: job.force, logFields: { job_id: job.id } },
      );
      return batch.results.map((r) => ({ itemId: r.faceCropId, status: r.status, error: r.error }));
    }
    const results: SliceResult[] = [];
    for (const item of items) {
      try {
        if (job.kind === 'session-photo') {
          results.push(await this.sessionPhoto(job, item));
          continue;
        }
        if (job.kind === 'purge') {
          if (!this.deps.retention) throw new InternalError(`Purge job ${job.id}: this process cannot purge`);
          const report = await this.deps.retention.purge({ dryRun: false, actor: job.actor ?? 'system' });
          results.push({ itemId: item.itemId, status: 'purged', result: report });
          continue;
        }
        if (item.imagePath === null || item.personId === null)
          throw new InternalError(`Enrol item ${item.itemId} of job ${job.id} names no photo or person`);
        const e = await this.deps.persons.enrolStoredPhotoOnce(item.personId, item.imagePath);
        results.push({
          itemId: item.itemId,
          status: e.existing ? 'existing' : 'enrolled',
          enrolledFaceCropId: e.faceCropId,
        });
      } catch (err) {
        const e = toFaceembedError(err);
        // What a client may see: internal messages stay in the log, as in the batch results.
        if (e.type === 'InternalError')
          this.deps.log?.error({ err: e, job_id: job.id, item: item.itemId }, `${job.kind} item failed`);
        const error =
          e.type === 'InternalError'
            ? { type: e.type, message: 'Internal error' }
            : { type: e.type, message: e.message, ...(e.details && { details: e.details }) };
        results.push({ itemId: item.itemId, status: 'failed', error });
      }
    }
    return results;
  }

  private async sessionPhoto(job: Job, item: JobItem): Promise<SliceResult> {
    if (job.sessionId === null || item.imagePath === null)
      throw new InternalError(`Session-photo job ${job.id} names no session or photo`);
    const result = await this.deps.photos.addQueuedPhoto(job.sessionId, item.imagePath, job.actor ?? 'anonymous');
    return { itemId: item.itemId, status: 'stored', result };
  }

  private claim(jobId: number, scope: RunScope): Promise<JobItem[]> {
    if ('ids' in scope) return this.deps.jobs.openItems(jobId, { ids: scope.ids });
    const claimed = this.claims.then(async () => {
      const items = await this.deps.jobs.openItems(jobId, { limit: scope.pendingLimit, pendingOnly: true });
      const taken = new Set(
        await this.deps.jobs.markRunning(
          jobId,
          items.map((i) => i.itemId),
          this.deps.node,
          false,
        ),
      );
      return items.filter((i) => taken.has(i.itemId)).map((i) => ({ ...i, status: 'running' as const }));
    });
    this.claims = claimed.catch(() => undefined);
    return claimed;
  }

  private async record(jobId: number, outcomes: readonly ItemOutcome[], job: Job): Promise<void> {
    await this.deps.jobs.finish(jobId, outcomes);
    this.deps.onItems?.(this.deps.node, outcomes);
    const failed = outcomes.find((o) => o.status === 'failed');
    if (job.kind !== 'session-photo' || !failed) return;
    // A class photo is the whole job: on its final failure its file goes, then the job fails
    // (a client that sees "failed" finds nothing left behind).
    const item = (await this.deps.jobs.items(jobId))[0];
    if (job.sessionId !== null && item?.imagePath)
      await this.deps.photos.discardQueuedPhoto(job.sessionId, item.imagePath);
    await this.deps.jobs.fail(jobId, failed.errorMessage ?? failed.errorType ?? 'failed');
  }

  private gaveUp(item: JobItem): ItemOutcome {
    return {
      itemId: item.itemId,
      status: 'failed',
      errorType: item.errorType ?? 'WorkerCrashedError',
      errorMessage: `Gave up after ${item.attempts} attempts: the process running it died each time`,
    };
  }
}
