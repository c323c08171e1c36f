// `faceembed reembed --model M [--job]`: brings every stored face crop's embedding of a model to
// its current weights, as a generate-embeddings job over all crops (force off: a crop whose
// embedding is already of the current version is left as it is, a missing or stale one is
// computed again). What a deployment runs after a model upgrade or after the alias it uses moved
// to another network (docs/api.md "Re-embedding"); until then sessions and identification refuse
// to compare the old vectors with new ones.
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { startJobs } from '../../jobs.js';
import { createLogger } from '../../logging/logger.js';
import { openServices } from '../../main.js';
import { openDatabase } from '../../repositories/database.js';
import { JobRepository } from '../../repositories/job.repository.js';
import { migrate } from '../../repositories/migrate.js';
import { EmbeddingService } from '../../services/embedding.service.js';
import { watchJob } from './jobs.command.js';
import { QUEUE_CONNECT_MS } from './media-files.js';

async function reembed(flags: { model: string }): Promise<void> {
  const config = loadConfig();
  const db = openDatabase(config.databaseUrl);
  // Embedded engine: this process runs the job (a server start resumes it if interrupted);
  // BullMQ: the worker nodes run it, this process only watches and loads no model.
  const here = !config.jobs.queueUrl;
  const embedder = new EmbeddingService({
    config,
    logger: createLogger('warn'),
    ...(here ? { preload: [flags.model] } : { workers: 1, preload: [] }),
  });
  let opened: Awaited<ReturnType<typeof openServices>> | undefined;
  let jobs: Awaited<ReturnType<typeof startJobs>> | undefined;
  try {
    await migrate(db);
    opened = await openServices({ db, embedder, config, logger: createLogger('warn') });
    const { faceCrops, persons, sessions, retention } = opened.services;
    jobs = await startJobs({
      config,
      db,
      embedder,
      crops: faceCrops,
      persons,
      sessions,
      retention,
      logger: createLogger('warn'),
      runsJobs: here,
    });
    await jobs.service.engine.whenAvailable(QUEUE_CONNECT_MS);
    const view = await jobs.service.create({
      kind: 'generate-embeddings',
      faceCropIds: 'all',
      modelName: flags.model,
      force: false,
    });
    const model = embedder.resolveModel(flags.model);
    process.stdout.write(
      `${JSON.stringify({ job: view.job.id, engine: jobs.service.engine.name, model: model.name, items: view.job.total })}\n`,
    );
    await watchJob(new JobRepository(db), view.job.id);
  } finally {
    await jobs?.close();
    await opened?.close();
    await embedder.close();
    await db.destroy();
  }
}

export function registerReembed(program: Command): void {
  program
    .command('reembed')
    .description('Re-embed every stored face crop whose embedding of MODEL is missing or of an older model version')
    .requiredOption('-m, --model <name>', 'model name or alias (e.g. arcface)')
    .option(
      '--job',
      'as a job, as enrol --job (always so: resumable; with FACEEMBED_QUEUE_URL the worker nodes run it)',
    )
    .action((flags: { model: string }) => reembed(flags));
}
