// Composition root: the only place that builds the pool, the database and the HTTP app together.
import { mkdir } from 'node:fs/promises';
import { loadConfig, type Config } from './config/config.js';
import { setMediaKey } from './image/sealed-file.js';
import { ValidationError } from './errors.js';
import { buildApp, type AppServices } from './http/app.js';
import { nodeName, openChangeBus, startJobs } from './jobs.js';
import { createLogger, type Logger } from './logging/logger.js';
import { openDatabase, type Database } from './repositories/database.js';
import { AccessRepository } from './repositories/access.repository.js';
import { AttendanceStore } from './repositories/attendance-store.js';
import { EmbeddingRepository } from './repositories/embedding.repository.js';
import { FaceCropRepository } from './repositories/face-crop.repository.js';
import { GroupRepository } from './repositories/group.repository.js';
import { MediaOwnerRepository } from './repositories/media-owner.repository.js';
import { MediaStorage } from './repositories/media-storage.js';
import { PersonRepository } from './repositories/person.repository.js';
import { PrivacyRepository } from './repositories/privacy.repository.js';
import { migrate } from './repositories/migrate.js';
import { AccessService } from './services/access.service.js';
import type { ChangeBus } from './services/change-bus.js';
import { EmbeddingService } from './services/embedding.service.js';
import type { EmbeddingPort } from './services/embedding.types.js';
import type { EmbeddingObserver } from './services/crop-embedding.service.js';
import { FaceCropService } from './services/face-crop.service.js';
import { GalleryRegistry } from './services/gallery.registry.js';
import { ClusterService } from './services/cluster.service.js';
import { GroupService } from './services/group.service.js';
import { IdentificationService } from './services/identification.service.js';
import { PersonService } from './services/person.service.js';
import { ConsentService } from './services/consent.service.js';
import { ErasureService } from './services/erasure.service.js';
import { RetentionService } from './services/retention.service.js';
import { scheduleRetention } from './services/retention-schedule.js';
import { SessionService } from './services/session.service.js';
import { MediaSweepService } from './services/media-sweep.service.js';

export interface ServiceDeps {
  db: Database;
  embedder: EmbeddingPort;
  config: Config;
  /** Told about every embedding asked for (the HTTP app's metrics). */
  observer?: EmbeddingObserver;
  /** Carries enrolment changes to and from the other processes on the database; absent: this process only. */
  bus?: ChangeBus;
  logger?: Logger;
}

/**
 * The media root as this configuration stores it (encrypted with its key, if any). The key is
 * also the one every image read of this process opens encrypted files with.
 */
export function mediaStorage(config: Config): MediaStorage {
  const key = config.media.key === undefined ? undefined : Buffer.from(config.media.key, 'hex');
  setMediaKey(key);
  return new MediaStorage(config.mediaRoot, { key, limits: config.image });
}

/** The services over one database and embedder: used by the HTTP app and by CLI commands alike. */
export function createServices(deps: ServiceDeps): AppServices {
  const { db, embedder } = deps;
  // FACEEMBED_REQUIRE_CONSENT: the galleries and session matching read consented persons' faces only.
  const scope = { consentedOnly: deps.config.privacy.requireConsent };
  const crops = new FaceCropRepository(db);
  const embeddings = new EmbeddingRepository(db, scope);
  const persons = new PersonRepository(db);
  const storage = mediaStorage(deps.config);
  const galleries = new GalleryRegistry({
    embeddings,
    embedder,
    bus: deps.bus,
    log: deps.logger?.child({ component: 'galleries' }),
  });
  const privacy = new PrivacyRepository(db);
  const erasure = new ErasureService({ privacy, storage, galleries });
  const consent = new ConsentService({
    privacy,
    erasure,
    galleries,
    requireConsent: deps.config.privacy.requireConsent,
  });
  const retention = new RetentionService({
    privacy,
    erasure,
    files: {
      exists: (p) =>
        storage.resolve(p).then(
          () => true,
          () => false,
        ),
    },
    schedule: deps.config.privacy.retention,
  });
  const faceCrops = new FaceCropService({
    crops,
    embeddings,
    persons,
    storage,
    embedder,
    limits: deps.config.image,
    owners: new MediaOwnerRepository(db),
    observer: deps.observer,
    // The galleries follow the face crops: a linked crop's new embedding joins, a deleted crop leaves.
    changes: (faceCropIds) => galleries.changed({ faceCropIds }),
    consent,
  });
  const store = new AttendanceStore(db, scope);
  const groups = new GroupService({ groups: new GroupRepository(db), persons, store, storage });
  const clusters = new ClusterService({ store, embedder, faceCrops, galleries, consent });
  const sessions = new SessionService({
    store,
    unknownFaces: clusters,
    storage,
    embedder,
    faceCrops,
    galleries,
    limits: deps.config.image,
    consent,
  });
  return {
    faceCrops,
    persons: new PersonService({ persons, crops, embeddings, faceCrops, embedder, galleries, consent, erasure }),
    groups,
    identification: new IdentificationService({ embedder, faceCrops, galleries, groups, persons, embeddings }),
    galleries,
    sessions,
    clusters,
    access: new AccessService({ access: new AccessRepository(db) }),
    erasure,
    consent,
    retention,
  };
}

/** The sweep and fsck over one database and this configuration's media root. */
export function mediaSweep(config: Config, db: Database): MediaSweepService {
  return new MediaSweepService({ storage: mediaStorage(config), owners: new MediaOwnerRepository(db) });
}

/**
 * The sweep now and then every config.media.sweepIntervalMs (0: now only); stop() ends it.
 * A failed sweep is logged and tried again at the next interval.
 */
export function startMediaSweep(config: Config, db: Database, logger: Logger): { stop(): void } {
  const sweeper = mediaSweep(config, db);
  const log = logger.child({ component: 'media-sweep' });
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= sweeper
      .sweep(config.media.sweepGraceMs)
      .then((r) => log.info(r, 'media sweep done'))
      .catch((err: unknown) => log.error({ err }, 'media sweep failed'))
      .finally(() => {
        running = undefined;
      });
  };
  run();
  const timer = config.media.sweepIntervalMs > 0 ? setInterval(run, config.media.sweepIntervalMs) : undefined;
  timer?.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * The services with this configuration's change bus (jobs.ts openChangeBus): the galleries of
 * every server, worker node and CLI command on one database hear of each other's enrolment
 * changes. close() before the database closes.
 */
export async function openServices(
  deps: Omit<ServiceDeps, 'bus' | 'logger'> & { logger: Logger },
): Promise<{ services: AppServices; close(): Promise<void> }> {
  // A wrong or missing media key stops here, before any file is read or written.
  await mediaStorage(deps.config).checkKey();
  const bus = await openChangeBus(deps.config, deps.db, deps.logger);
  const services = createServices({ ...deps, bus });
  return {
    services,
    async close() {
      await services.galleries.close();
      await bus.close();
    },
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
  await mediaStorage(config).checkKey();
  const db = openDatabase(config.databaseUrl);
  await migrate(db);
  // Every registered model is loaded by every worker up front, so no request pays for a model load.
  const embedder = new EmbeddingService({ config, logger, preload: 'all' });
  // One set of services for the routes and the job runner; the app's metrics observe both. Their
  // galleries hear of the other servers' enrolment changes on the change bus.
  let observer: EmbeddingObserver | undefined;
  const { services, close: closeServices } = await openServices({
    db,
    embedder,
    config,
    logger,
    observer: (e) => observer?.(e),
  });
  const jobs = await startJobs({
    config,
    db,
    embedder,
    crops: services.faceCrops,
    persons: services.persons,
    sessions: services.sessions,
    retention: services.retention,
    logger,
    runsJobs: config.jobs.serverRunsJobs,
  });
  const purges = scheduleRetention({
    jobs: jobs.service,
    retention: services.retention,
    log: logger.child({ component: 'retention' }),
  });
  const sweep = startMediaSweep(config, db, logger);
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
    purges.stop();
    sweep.stop();
    await app.close();
    await jobs.close();
    await closeServices();
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
  await mediaStorage(config).checkKey();
  const db = openDatabase(config.databaseUrl);
  await migrate(db);
  const embedder = new EmbeddingService({ config, logger, preload: 'all' });
  await embedder.ready();
  // Items that embed enrolled faces tell the servers' galleries, as the servers' own paths do.
  const { services, close: closeServices } = await openServices({ db, embedder, config, logger });
  const { faceCrops: crops, persons, sessions, retention } = services;
  const jobs = await startJobs({ config, db, embedder, crops, persons, sessions, retention, logger, runsJobs: true });
  logger.info({ node: nodeName(), workers: embedder.stats().workers }, 'worker node ready');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'worker node shutting down');
    await jobs.close();
    await closeServices();
    await embedder.close();
    await db.destroy();
    logger.flush();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(signal));
}
