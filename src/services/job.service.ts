// Jobs as clients see them: create (rows first, then the engine is told), read with progress
// and (once finished) the batch result, list, cancel. The database is the source of truth under
// both engines; the engine only decides who runs the items and when.
import { NotFoundError, ServiceUnavailableError, type ErrorType } from '../errors.js';
import type { Job, JobProgress, JobRepository, JobStatus } from '../repositories/job.repository.js';
import type { BatchResult } from './face-crop.service.js';
import type { EmbeddingPort } from './embedding.types.js';
import { modelNames, type ModelNames } from './model-names.js';

/** Who runs queued items: the server's own pool (embedded) or BullMQ nodes. */
export interface JobEngine {
  readonly name: 'embedded' | 'bullmq';
  /** Throws ServiceUnavailableError when new work cannot be queued now (checked before any write). */
  assertAvailable(): void;
  /** The job's rows are committed; `ids` are its items. Throws ServiceUnavailableError. */
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
}

export interface JobView {
  job: Job;
  /** The naming rule: as asked, and the registry's own name. */
  names: ModelNames;
  progress: JobProgress;
  /** Once the job has ended: the batch result shape, items in crop id order. */
  result?: BatchResult;
}

export interface JobFigures {
  byStatus: Map<string, number>;
  openItems: number;
  queueDepth: number | undefined;
  itemsPerSecond: Map<string, number>;
}

export const JOB_KINDS = ['generate-embeddings'] as const;
const ENDED: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

export class JobService {
  constructor(
    private readonly deps: { jobs: JobRepository; engine: JobEngine; embedder: Pick<EmbeddingPort, 'resolveModel'> },
  ) {}

  get engine(): JobEngine {
    return this.deps.engine;
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
    });
    try {
      const ids =
        req.faceCropIds === 'all' ? (await jobs.openItems(job.id, {})).map((i) => i.faceCropId) : req.faceCropIds;
      await engine.submit(job.id, [...new Set(ids)]);
    } catch (err) {
      // Nothing half-written: a job no engine will run is not left behind.
      await jobs.delete(job.id);
      if (err instanceof ServiceUnavailableError) throw err;
      throw new ServiceUnavailableError(`The job queue is unavailable: ${(err as Error).message}`, {
        retryAfterSeconds: 5,
      });
    }
    return { job, names: this.names(job.modelName), progress: { total: job.total, done: 0, failed: 0 } };
  }

  async get(id: number): Promise<JobView> {
    const job = await this.deps.jobs.get(id);
    if (!job) throw new NotFoundError(`Job ${id} not found`, { job_id: id });
    const progress = await this.deps.jobs.progress(id, job.total);
    const names = this.names(job.modelName);
    if (!ENDED.includes(job.status)) return { job, names, progress };
    return { job, names, progress, result: await this.result(job) };
  }

  async list(opts: {
    status?: JobStatus;
    page: number;
    pageSize: number;
  }): Promise<{ count: number; jobs: JobView[] }> {
    const { count, jobs } = await this.deps.jobs.list({
      status: opts.status,
      offset: (opts.page - 1) * opts.pageSize,
      limit: opts.pageSize,
    });
    const views = await Promise.all(
      jobs.map(async (job) => ({
        job,
        names: this.names(job.modelName),
        progress: await this.deps.jobs.progress(job.id, job.total),
      })),
    );
    return { count, jobs: views };
  }

  /** No new item starts; finished items stay. Cancelling an ended job changes nothing. */
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
  private names(asked: string): ModelNames {
    try {
      return modelNames(this.deps.embedder.resolveModel(asked), asked);
    } catch {
      return { modelName: asked, modelTrueName: asked };
    }
  }

  private async result(job: Job): Promise<BatchResult> {
    const items = await this.deps.jobs.items(job.id);
    const results: BatchResult['results'] = [];
    const summary = { generated: 0, existing: 0, failed: 0 };
    for (const i of items) {
      if (i.status !== 'generated' && i.status !== 'existing' && i.status !== 'failed') continue; // never started
      summary[i.status]++;
      results.push({
        faceCropId: i.faceCropId,
        status: i.status,
        ...(i.status === 'failed' && {
          error: { type: (i.errorType ?? 'InternalError') as ErrorType, message: i.errorMessage ?? '' },
        }),
      });
    }
    return { ...this.names(job.modelName), results, summary };
  }
}
