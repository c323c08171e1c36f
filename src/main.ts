// Composition root: the only place that builds the pool, the database and the HTTP app together.
import { mkdir } from 'node:fs/promises';
import { loadConfig, type Config } from './config/config.js';
import { ValidationError } from './errors.js';
import { buildApp, type AppServices } from './http/app.js';
import { nodeName, openChangeBus, startJobs } from './jobs.js';
import { createLogger } from './logging/logger.js';
import { openDatabase, type Database } from './repositories/database.js';
import { AttendanceStore } from './repositories/attendance-store.js';
import { EmbeddingRepository } from './repositories/embedding.repository.js';
import { FaceCropRepository } from './repositories/face-crop.repository.js';
import { GroupRepository } from './repositories/group.repository.js';
import { MediaStorage } from './repositories/media-storage.js';
import { PersonRepository } from './repositories/person.repository.js';
import { migrate } from './repositories/migrate.js';
import { EmbeddingService } from './services/embedding.service.js';
import type { EmbeddingPort } from './services/embedding.types.js';
import { FaceCropService, type EmbeddingObserver } from './services/face-crop.service.js';
import { GalleryRegistry } from './services/gallery.registry.js';
import { GroupService } from './services/group.service.js';
import { IdentificationService } from './services/identification.service.js';
import { PersonService } from './services/person.service.js';
import { SessionService } from './services/session.service.js';

export interface ServiceDeps {
  db: Database;
  embedder: EmbeddingPort;
  config: Config;
  /** Told about every embedding asked for (the HTTP app's metrics). */
  observer?: EmbeddingObserver;
}

/** The services over one database and embedder: used by the HTTP app and by CLI commands alike. */
export function createServices(deps: ServiceDeps): AppServices {
  const { db, embedder } = deps;
  const crops = new FaceCropRepository(db);
  const embeddings = new EmbeddingRepository(db);
  const persons = new PersonRepository(db);
  const storage = new MediaStorage(deps.config.mediaRoot);
  const galleries = new GalleryRegistry({ embeddings, embedder });
  const faceCrops = new FaceCropService({
    crops,
    embeddings,
    persons,
    storage,
    embedder,
    limits: deps.config.image,
    observer: deps.observer,
    // The galleries follow the face crops: a linked crop's new embedding joins, a deleted crop leaves.
    changes: {
      embedded: (e) => galleries.enrolled(e.modelName, e.faceCropId, e.personId, e.embedding),
      deleted: (id) => galleries.faceRemoved(id),
    },
  });
  const groups = new GroupService({ groups: new GroupRepository(db), persons });
  const sessions = new SessionService({
    store: new AttendanceStore(db),
    storage,
    embedder,
    faceCrops,
    limits: deps.config.image,
  });
  return {
    faceCrops,
    persons: new PersonService({ persons, crops, embeddings, faceCrops, embedder, galleries }),
    groups,
    identification: new IdentificationService({ embedder, faceCrops, galleries, groups, persons }),
    galleries,
    sessions,
  };
}

export interface ServeFlags {
  host?: string;
  port?: string;
}

export async function serve(flags: ServeFlags = {}): Promise<void> {
  const base = loadConfig();
  const config: Config = {
    ...base,
    http: {
      ...base.http,
      host: flags.host ?? base.http.host,
      port: flags.port === undefined ? base.http.port : Number(flags.port),
    },
  };
  const logger = createLogger(config.logLevel);
  await mkdir(config.mediaRoot, { recursive: true });
  const db = openDatabase(config.databaseUrl);
  await migrate(db);
  // Every registered model is loaded by every worker up front, so no request pays for a model load.
  const embedder = new EmbeddingService({ config, logger, preload: 'all' });
  // One set of services for the routes and the job runner; the app's metrics observe both.
  let observer: EmbeddingObserver | undefined;
  const services = createServices({ db, embedder, config, observer: (e) => observer?.(e) });
  const jobs = await startJobs({
    config,
    db,
    embedder,
    crops: services.faceCrops,
    persons: services.persons,
    logger,
    runsJobs: config.jobs.serverRunsJobs,
  });
  // Enrolment changes from the other servers on this database (search indexes subscribe).
  const bus = await openChangeBus(config, db, logger);
  const app = await buildApp({
    config,
    db,
    embedder,
    logger,
    services: (o) => {
      observer = o;
      return services;
    },
    jobs: jobs.service,
  });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    await app.close();
    await jobs.close();
    await bus.close();
    await embedder.close();
    await db.destroy();
    logger.flush();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(signal));

  // Listen at once (readiness is /readyz); the workers boot in the background.
  await app.listen({ host: config.http.host, port: config.http.port });
  embedder.ready().catch((err: unknown) => logger.error({ err }, 'embedding workers failed to start'));
  // The search galleries are built from the database now, not by the first identify.
  services.galleries
    .loadAll()
    .then(() => logger.info({ galleries: services.galleries.stats() }, 'search galleries loaded'))
    .catch((err: unknown) => logger.error({ err }, 'search galleries failed to load (retried on first use)'));
}

/** `faceembed worker-node`: no HTTP; consumes queued job slices with this machine's pool. */
export async function workerNode(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (!config.jobs.queueUrl) {
    throw new ValidationError('faceembed worker-node needs FACEEMBED_QUEUE_URL=redis://HOST:PORT/DB');
  }
  await mkdir(config.mediaRoot, { recursive: true });
  const db = openDatabase(config.databaseUrl);
  await migrate(db);
  const embedder = new EmbeddingService({ config, logger, preload: 'all' });
  await embedder.ready();
  const { faceCrops: crops, persons } = createServices({ db, embedder, config });
  const jobs = await startJobs({ config, db, embedder, crops, persons, logger, runsJobs: true });
  logger.info({ node: nodeName(), workers: embedder.stats().workers }, 'worker node ready');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'worker node shutting down');
    await jobs.close();
    await embedder.close();
    await db.destroy();
    logger.flush();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(signal));
}
