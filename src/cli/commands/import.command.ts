import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { createLogger } from '../../logging/logger.js';
import { openDatabase } from '../../repositories/database.js';
import { migrate } from '../../repositories/migrate.js';
import { DEFAULT_MODEL_NAME } from '../../models/registry.js';
import { EmbeddingService } from '../../services/embedding.service.js';
import { openServices } from '../../main.js';
import { progressLine } from './progress.js';
import { startJobs } from '../../jobs.js';
import { JobRepository } from '../../repositories/job.repository.js';
import { watchJob } from './jobs.command.js';
import { IMAGE_EXT, QUEUE_CONNECT_MS, intoMediaRoot } from './media-files.js';

async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && IMAGE_EXT.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('Register every image under DIR as a face crop (copied into the media root unless already inside it)')
    .argument('<dir>', 'folder of face crops')
    .option('--embed <model>', 'also generate embeddings with this model')
    .option('--person-from-folder', "use each file's parent folder name as person_id")
    .option(
      '--job',
      'embed as a job (resumable; with FACEEMBED_QUEUE_URL the worker nodes run it): prints its id, watches it',
    )
    .action(async (dir: string, flags: { embed?: string; personFromFolder?: boolean; job?: boolean }) => {
      const config = loadConfig();
      const root = path.resolve(dir);
      const files = await listImages(root);
      const db = openDatabase(config.databaseUrl);
      const embedder = new EmbeddingService({
        config,
        modelName: flags.embed ?? DEFAULT_MODEL_NAME,
        logger: createLogger('warn'),
        preload: flags.embed ? [flags.embed] : [],
      });
      let opened: Awaited<ReturnType<typeof openServices>> | undefined;
      try {
        await migrate(db);
        opened = await openServices({ db, embedder, config, logger: createLogger('warn') });
        const { faceCrops: service, persons } = opened.services;
        const ids: number[] = [];
        let failed = 0;
        const progress = progressLine('importing', files.length);
        for (const file of files) {
          let copied: string | undefined;
          try {
            const placed = await intoMediaRoot(config.mediaRoot, root, file);
            copied = placed.copied;
            const rel = placed.rel;
            const person = flags.personFromFolder ? path.basename(path.dirname(file)) : undefined;
            ids.push((await service.registerCrop(rel, person ? { personId: person } : {})).id);
          } catch (err) {
            // Nothing half-written: a file we copied for a crop that was refused goes again.
            if (copied) await rm(copied, { force: true });
            failed++;
            process.stderr.write(
              `\n${file}: ${(err as { type?: string }).type ?? 'Error'}: ${(err as Error).message}\n`,
            );
          }
          progress.tick();
        }
        progress.done();
        const summary: Record<string, number> = {};
        if (flags.embed && ids.length && flags.job) {
          const logger = createLogger('warn');
          // Embedded: this process runs the job (a later run or a server start resumes it);
          // BullMQ: the nodes run it and this process only watches.
          const jobs = await startJobs({
            config,
            db,
            embedder,
            crops: service,
            persons,
            sessions: opened.services.sessions,
            retention: opened.services.retention,
            logger,
            runsJobs: !config.jobs.queueUrl,
          });
          try {
            await jobs.service.engine.whenAvailable(QUEUE_CONNECT_MS);
            const view = await jobs.service.create({
              kind: 'generate-embeddings',
              faceCropIds: ids,
              modelName: flags.embed,
              force: false,
            });
            process.stdout.write(
              `${JSON.stringify({ imported: ids.length, failed, job: view.job.id, engine: jobs.service.engine.name })}\n`,
            );
            if (failed) process.exitCode = 1;
            await watchJob(new JobRepository(db), view.job.id);
          } finally {
            await jobs.close();
          }
          return;
        }
        if (flags.embed && ids.length) {
          await embedder.ready();
          const embedProgress = progressLine(`embedding (${flags.embed})`, ids.length);
          for (let i = 0; i < ids.length; i += 100) {
            const batch = ids.slice(i, i + 100);
            const result = await service.generateBatch(batch, { modelName: flags.embed, force: false });
            for (const [k, v] of Object.entries(result.summary)) summary[k] = (summary[k] ?? 0) + v;
            embedProgress.tick(batch.length);
          }
          embedProgress.done();
        }
        process.stdout.write(`${JSON.stringify({ imported: ids.length, failed, embeddings: summary })}\n`);
        if (failed) process.exitCode = 1;
      } finally {
        await opened?.close();
        await embedder.close();
        await db.destroy();
      }
    });
}
