// Scale-out wiring, used only by the composition root (main.ts) and the CLI commands that start a
// server-like process: which job engine, whether this process runs items, the node name it
// records on them, and which change bus carries "enrolment faces changed" between servers.
import os from 'node:os';
import type { Config } from './config/config.js';
import type { Logger } from './logging/logger.js';
import { BullmqJobEngine, startNode, type QueueNode } from './queue/bullmq-job-engine.js';
import type { Database } from './repositories/database.js';
import { JobRepository } from './repositories/job.repository.js';
import { EmbeddedJobEngine } from './services/embedded-job-engine.js';
import type { EmbeddingPort } from './services/embedding.types.js';
import type { FaceCropService } from './services/face-crop.service.js';
import { JobRunner, type JobRunnerDeps } from './services/job-runner.js';
import { JobService } from './services/job.service.js';
import type { PersonService } from './services/person.service.js';
import type { SessionService } from './services/session.service.js';
import type { RetentionService } from './services/retention.service.js';
import { LocalChangeBus, type ChangeBus } from './services/change-bus.js';
import { PgChangeBus } from './queue/pg-change-bus.js';
import { RedisChangeBus } from './queue/redis-change-bus.js';
import { databaseKind } from './repositories/database.js';

export interface JobsWiring {
  service: JobService;
  close(): Promise<void>;
}

export const nodeName = (): string => `${os.hostname()}:${process.pid}`;

export async function startJobs(deps: {
  config: Config;
  db: Database;
  embedder: EmbeddingPort;
  crops: FaceCropService;
  /** Enrol jobs enrol through it. */
  persons: PersonService;
  /** Class photos (session-photo jobs) are stored and matched through it. */
  sessions: SessionService;
  /** Purge jobs enforce its schedule (any process running jobs may be handed one). */
  retention: RetentionService;
  logger: Logger;
  /** Run items in this process (a server with FACEEMBED_SERVER_RUNS_JOBS, or a worker node). */
  runsJobs: boolean;
  onItems?: JobRunnerDeps['onItems'];
}): Promise<JobsWiring> {
  const { config, db, embedder, crops, persons, sessions, logger } = deps;
  const log = logger.child({ component: 'jobs' });
  const jobs = new JobRepository(db);
  const runner = new JobRunner({
    jobs,
    crops,
    persons,
    photos: sessions,
    retention: deps.retention,
    node: nodeName(),
    log,
    onItems: deps.onItems,
  });
  const url = config.jobs.queueUrl;
  const photos = { sessions, maxQueuedPhotos: config.jobs.maxQueuedPhotos };
  // Slices (or class photos) in flight: one more than the workers, so a photo's crops and writes,
  // done outside the pool, overlap the next photo's detection instead of idling a worker.
  const lanes = config.pool.workers + 1;

  if (!url) {
    const engine = new EmbeddedJobEngine(jobs, runner, { log, lanes });
    if (!deps.runsJobs) log.warn('FACEEMBED_SERVER_RUNS_JOBS=false has no effect without FACEEMBED_QUEUE_URL');
    await engine.start();
    return { service: new JobService({ jobs, engine, embedder, photos }), close: () => engine.close() };
  }

  const opts = { url, prefix: config.jobs.queuePrefix, log };
  // A job saved whose enqueue was lost (a crash in between, a Redis that lost its data) is
  // submitted again whenever the queue connects; slices BullMQ still holds are not added twice.
  // (The hook runs once connected, never during this constructor: `service` exists by then.)
  const engine = new BullmqJobEngine({
    ...opts,
    onConnect: async () => {
      const ids = await service.resubmitActive();
      if (ids.length) log.info({ jobs: ids }, 'active jobs submitted to the queue again');
    },
  });
  const service = new JobService({ jobs, engine, embedder, photos });
  let node: QueueNode | undefined;
  if (deps.runsJobs) node = startNode({ ...opts, runner, concurrency: lanes });
  return {
    service,
    async close() {
      await node?.close();
      await engine.close();
    },
  };
}

/** Redis pub/sub when the queue URL is set; else LISTEN/NOTIFY on PostgreSQL; else this process only. */
export async function openChangeBus(config: Config, db: Database, logger: Logger): Promise<ChangeBus> {
  const log = logger.child({ component: 'change-bus' });
  let bus: ChangeBus;
  if (config.jobs.queueUrl) bus = await RedisChangeBus.open(config.jobs.queueUrl, config.jobs.queuePrefix, nodeName());
  else if (databaseKind(db) === 'postgres') bus = await PgChangeBus.open(config.databaseUrl, nodeName(), log);
  else bus = new LocalChangeBus(nodeName());
  log.info({ bus: bus.name }, 'change bus open');
  return bus;
}
