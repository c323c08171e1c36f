// The HTTP app as `faceembed serve` wires it, in-process: the services, the job engine running
// jobs, and the app on top (the tests' one copy of that wiring).
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config/config.js';
import { buildApp } from '../../src/http/app.js';
import { startJobs, type JobsWiring } from '../../src/jobs.js';
import type { Logger } from '../../src/logging/logger.js';
import { createServices } from '../../src/main.js';
import type { Database } from '../../src/repositories/database.js';
import type { EmbeddingService } from '../../src/services/embedding.service.js';

export interface AppWithJobs {
  services: ReturnType<typeof createServices>;
  jobs: JobsWiring;
  app: FastifyInstance;
}

export async function appWithJobs(deps: {
  config: Config;
  db: Database;
  embedder: EmbeddingService;
  logger: Logger;
}): Promise<AppWithJobs> {
  const services = createServices({ db: deps.db, embedder: deps.embedder, config: deps.config });
  const { faceCrops: crops, persons, sessions, retention } = services;
  const jobs = await startJobs({ ...deps, crops, persons, sessions, retention, runsJobs: true });
  await jobs.service.engine.whenAvailable(5000);
  const app = await buildApp({ ...deps, services: () => services, jobs: jobs.service });
  return { services, jobs, app };
}
