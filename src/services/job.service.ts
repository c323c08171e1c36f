// Jobs as clients see them: create (rows first, then the engine is told), read with progress
// and (once finished) the result, list, cancel. The database is the source of truth under both
// engines; the engine only decides who runs the items and when. Kinds: generate-embeddings (its
// result is the batch result shape), enrol (bulk enrolment: photos under the media root, each
// to its person), session-photo (one class photo; its result is the upload's 201 body) and purge
// (the retention schedule carried out). An ended job's result is read back from its items by job-results.ts.
import { NotFoundError, ServiceUnavailableError } from '../errors.js';
import type { EnrolPhoto, Job, JobProgress, JobStatus, JobVisibility } from '../repositories/job-rows.js';
import type { JobRepository } from '../repositories/job.repository.js';
import type { BatchResult } from './crop-embedding.service.js';
import type { EmbeddingPort } from './embedding.types.js';
import type { StagedUpload } from '../repositories/media-storage.js';
import type { SessionService } from './session.service.js';
import type { PhotoResult } from './session-view.js';
import type { PurgeReport } from './retention.service.js';
import { batchResult, enrolmentResult, storedResult, type EnrolmentResult, type JobFailure } from './job-results.js';
import { storedModelNames, type ModelNames } from './model-names.js';

/** Who runs queued items: the server's own pool (embedded) or BullMQ nodes. */
export interface JobEngine {
  readonly name: 'embedded' | 'bullmq';
  /** Throws ServiceUnavailableError when new work cannot be queued now (checked before any write). */
  assertAvailable(): void;
  /** Resolves once new work can be queued, or after `timeoutMs` (a command that has just started). */
  whenAvailable(timeoutMs: number): Promise<void>;
  /**
   * The job's rows are committed; `ids` are its item keys, ascending. Submitting a job again
   * (at start, after a lost enqueue) must add no second copy of work still queued or running.
   * Throws ServiceUnavailableError.
   */
  submit(jobId: number, ids: readonly number[]): Promise<void>;
  /** Units of work waiting in the engine (BullMQ jobs waiting or active), when it can tell. */
  queueDepth(): Promise<number | undefined>;
  close(): Promise<void>;
}

export interface NewJobRequest {
  kind: 'generate-embeddings';
  faceCropIds: readonly number[] | 'all';
  /** As the client sent it (an alias is fine). */
  modelName: string;
  force: boolean;
  /** The key that asked (a teacher key sees its own jobs). */
  actor?: string;
}

export interface JobView {
  job: Job;
  /** The naming rule: as asked, and the registry's own name (absent for enrol: every model). */
  names?: ModelNames;
  progress: JobProgress;
  /** Once the job has ended: generate-embeddings, the batch result shape (crop id order); enrol, photo order. */
  result?: BatchResult | EnrolmentResult | PhotoResult | JobFailure | PurgeReport;
}

export interface JobFigures {
  byStatus: Map<string, number>;
  openItems: number;
  queueDepth: number | undefined;
  itemsPerSecond: Map<string, number>;
}

/** Seconds a client refused for a full photo queue is told to wait. */
const PHOTO_QUEUE_RETRY_S = 10;
const ENDED: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

export class JobService {
  constructor(
    private readonly deps: {
      jobs: JobRepository;
      engine: JobEngine;
      embedder: Pick<EmbeddingPort, 'resolveModel'>;
      /** Class photos queued as session-photo jobs, at most `maxQueuedPhotos` at a time. */
      photos?: {
        sessions: Pick<SessionService, 'acceptUpload' | 'discardUpload' | 'discardQueuedPhoto'>;
        maxQueuedPhotos: number;
      };
    },
  ) {}

  get engine(): JobEngine {
    return this.deps.engine;
  }

  /** The items go to the engine in key order, as resubmitActive sends them: the same slices each time. */
  private async submitNew(job: Job): Promise<void> {
    const { jobs, engine } = this.deps;
    try {
      await engine.submit(job.id, await jobs.itemIds(job.id));
    } catch (err) {
      // Nothing half-written: a job no engine will run is not left behind.
      await jobs.delete(job.id);
      if (err instanceof ServiceUnavailableError) throw err;
      throw new ServiceUnavailableError(`The job queue is unavailable: ${(err as Error).message}`, {
        retryAfterSeconds: 5,
      });
    }
  }

  async create(req: NewJobRequest): Promise<JobView> {
    const { jobs, engine, embedder } = this.deps;
    embedder.resolveModel(req.modelName); // an unknown model is a 400 now, not a failed job later
    engine.assertAvailable();
    const job = await jobs.create({
      kind: req.kind,
      modelName: req.modelName,
      force: req.force,
      faceCropIds: req.faceCropIds,
      actor: req.actor,
    });
    await this.submitNew(job);
    return { job, names: this.names(job), progress: { total: job.total, done: 0, failed: 0 } };
  }

  /** Bulk enrolment: each photo (under the media root) to its person, embedded by every model. */
  async createEnrolment(photos: readonly EnrolPhoto[]): Promise<JobView> {
    this.deps.engine.assertAvailable();
    const job = await this.deps.jobs.create({ kind: 'enrol', photos });
    await this.submitNew(job);
    return { job, progress: { total: job.total, done: 0, failed: 0 } };
  }

  /**
   * A retention purge as a job (kind purge) on whichever engine runs jobs. One at a time: while
   * one is queued or running, asking again answers that one.
   */
  async createPurge(actor: string): Promise<JobView> {
    const { jobs, engine } = this.deps;
    const running = (await jobs.active()).find((j) => j.kind === 'purge');
    if (running) return this.get(running.id);
    engine.assertAvailable();
    const job = await jobs.create({ kind: 'purge', actor });
    await this.submitNew(job);
    return { job, progress: { total: 1, done: 0, failed: 0 } };
  }

  /** Refuses (503) a class photo while the queue holds its maximum of photos, or cannot take work. */
  async assertPhotoRoom(): Promise<void> {
    const { jobs, engine, photos } = this.deps;
    engine.assertAvailable();
    const max = photos?.maxQueuedPhotos ?? 0;
    const queued = await jobs.countActive('session-photo');
    if (queued >= max)
      throw new ServiceUnavailableError(`The photo queue is full (${queued} of ${max}); try again shortly`, {
        retryAfterSeconds: PHOTO_QUEUE_RETRY_S,
        queued,
        max,
      });
  }

  /** A class photo to its session as a job: stored now (cheap checks first), matched by the engine. */
  async createSessionPhoto(sessionId: number, staged: StagedUpload, actor: string): Promise<JobView> {
    const { jobs, photos } = this.deps;
    if (!photos) throw new ServiceUnavailableError('Class photos cannot be queued in this process');
    try {
      await this.assertPhotoRoom();
    } catch (err) {
      await photos.sessions.discardUpload(staged);
      throw err;
    }
    const { file, session } = await photos.sessions.acceptUpload(sessionId, staged);
    try {
      const job = await jobs.create({
        kind: 'session-photo',
        sessionId,
        imagePath: file.relPath,
        actor,
        modelName: session.modelName,
      });
      await this.submitNew(job);
      return { job, names: this.names(job), progress: { total: 1, done: 0, failed: 0 } };
    } catch (err) {
      await photos.sessions.discardQueuedPhoto(sessionId, file.relPath);
      throw err;
    }
  }

  /**
   * Hands every active job to the engine again: a job whose rows were saved but whose enqueue
   * was lost (the process died in between, or Redis lost its data) runs after all. The engine
   * adds nothing for work it already holds. Returns the jobs submitted.
   */
  async resubmitActive(): Promise<number[]> {
    const { jobs, engine } = this.deps;
    const active = await jobs.active();
    for (const job of active) await engine.submit(job.id, await jobs.itemIds(job.id));
    return active.map((j) => j.id);
  }

  async get(id: number): Promise<JobView> {
    const job = await this.deps.jobs.get(id);
    if (!job) throw new NotFoundError(`Job ${id} not found`, { job_id: id });
    const progress = await this.deps.jobs.progress(id, job.total);
    const names = this.names(job);
    if (!ENDED.includes(job.status)) return { job, names, progress };
    const items = await this.deps.jobs.items(job.id);
    const result =
      job.kind === 'enrol'
        ? enrolmentResult(items)
        : job.kind === 'session-photo' || job.kind === 'purge'
          ? storedResult(items)
          : batchResult(items, names!);
    return { job, names, progress, result };
  }

  /** `visibleTo`: only jobs that key started or of sessions of these groups (a scoped key). */
  async list(opts: {
    status?: JobStatus;
    page: number;
    pageSize: number;
    visibleTo?: JobVisibility;
  }): Promise<{ count: number; jobs: JobView[] }> {
    const { count, jobs } = await this.deps.jobs.list({
      visibleTo: opts.visibleTo,
      status: opts.status,
      offset: (opts.page - 1) * opts.pageSize,
      limit: opts.pageSize,
    });
    const views = await Promise.all(
      jobs.map(async (job) => ({
        job,
        names: this.names(job),
        progress: await this.deps.jobs.progress(job.id, job.total),
      })),
    );
    return { count, jobs: views };
  }

  /**
   * No new item starts; finished items stay. `cancelling` while items in flight drain, then
   * `cancelled` for good (JobRepository.cancel). Cancelling an ended job changes nothing.
   */
  async cancel(id: number): Promise<JobView> {
    const job = await this.deps.jobs.cancel(id);
    if (!job) throw new NotFoundError(`Job ${id} not found`, { job_id: id });
    return this.get(id);
  }

  /** For /metrics: jobs by status, open items, engine queue depth, items/s per node over `windowS`. */
  async figures(windowS = 60): Promise<JobFigures> {
    const { jobs, engine } = this.deps;
    const [byStatus, openItems, queueDepth, finished] = await Promise.all([
      jobs.countByStatus(),
      jobs.openItemCount(),
      engine.queueDepth(),
      jobs.finishedByNode(new Date(Date.now() - windowS * 1000)),
    ]);
    const perNode = new Map([...finished].map(([node, n]) => [node, n / windowS]));
    return { byStatus, openItems, queueDepth, itemsPerSecond: perNode };
  }

  /** The naming rule for the name the job was asked with; a model since removed keeps that name. */
  private names(job: Job): ModelNames | undefined {
    if (job.kind === 'enrol' || job.kind === 'purge') return undefined;
    // A class photo's job holds its session's model, as the session names it (the public name).
    if (job.kind === 'session-photo') return storedModelNames(this.deps.embedder, job.modelName);
    return storedModelNames(this.deps.embedder, job.modelName, job.modelName);
  }
}
