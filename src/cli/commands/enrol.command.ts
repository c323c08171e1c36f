// `faceembed enrol DIR [--group NAME] [--job]`: one sub-folder per person (folder name =
// external_id and name, the person created when absent), every image in it an enrolment photo
// (its principal face; a photo with two plausible faces, or below the enrolment gate, is refused
// and listed with its reason). A photo whose bytes the person already has is skipped (PersonService
// enrolUploadOnce), so a re-run adds only what is new. With --job the photos are enrolled by a
// job (kind "enrol"): resumable, and run by the worker nodes when FACEEMBED_QUEUE_URL is set.
import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../../config/config.js';
import { toFaceembedError } from '../../errors.js';
import type { AppServices } from '../../http/app.js';
import { startJobs } from '../../jobs.js';
import { createLogger } from '../../logging/logger.js';
import { openServices } from '../../main.js';
import { openDatabase, type Database } from '../../repositories/database.js';
import type { Group } from '../../repositories/group.repository.js';
import { JobRepository } from '../../repositories/job.repository.js';
import type { EnrolPhoto } from '../../repositories/job-rows.js';
import { migrate } from '../../repositories/migrate.js';
import { EmbeddingService } from '../../services/embedding.service.js';
import type { EnrolmentResult, ItemError } from '../../services/job-results.js';
import { watchJob } from './jobs.command.js';
import { IMAGE_EXT, QUEUE_CONNECT_MS, intoMediaRoot } from './media-files.js';
import { progressLine } from './progress.js';

interface Photo {
  /** The person folder's name. */
  person: string;
  file: string;
}

interface Failure {
  file: string;
  type: string;
  message: string;
  /** Why an enrolment photo was refused: several_faces, face_too_small, too_blurry, pose. */
  reason?: string;
}

interface Run {
  config: Config;
  db: Database;
  embedder: EmbeddingService;
  services: AppServices;
  root: string;
  work: Photo[];
  group: Group | undefined;
}

async function listPhotos(root: string): Promise<Photo[]> {
  const folders = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  const work: Photo[] = [];
  for (const person of folders.sort()) {
    const files = (await readdir(path.join(root, person), { withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE_EXT.test(e.name))
      .map((e) => path.join(root, person, e.name))
      .sort();
    for (const file of files) work.push({ person, file });
  }
  return work;
}

/** A photo's typed error as listed, a refusal's reason lifted out of its details; `file` relative to the folder. */
const failure = (root: string, file: string, e: ItemError): Failure => {
  const reason = e.details?.['reason'];
  return {
    file: path.relative(root, file),
    type: e.type,
    message: e.message,
    ...(typeof reason === 'string' && { reason }),
  };
};

function report(summary: object, group: Group | undefined, failures: readonly Failure[]): void {
  const refused = failures.filter((f) => f.reason !== undefined).length;
  const out = { ...summary, refused, ...(group && { group: { id: group.id, name: group.name } }), failures };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

/** Photo by photo in this process. */
async function enrolNow({ services, root, work, group }: Run): Promise<void> {
  const { persons, faceCrops, groups } = services;
  const summary = { persons: 0, enrolled: 0, skipped: 0, failed: 0 };
  const failures: Failure[] = [];
  const progress = progressLine('enrolling', work.length);
  let current: { name: string; id: number } | undefined;
  for (const { person, file } of work) {
    try {
      if (current?.name !== person) {
        const p = await persons.ensure(person);
        current = { name: person, id: p.id };
        summary.persons++;
        if (group) await groups.addMembers(group.id, [p.id]);
      }
      const staged = await faceCrops.stageUpload(createReadStream(file));
      const e = await persons.enrolUploadOnce(current.id, staged);
      summary[e.existing ? 'skipped' : 'enrolled']++;
    } catch (err) {
      summary.failed++;
      failures.push(failure(root, file, toFaceembedError(err)));
    }
    progress.tick();
  }
  progress.done();
  report(summary, group, failures);
}

/**
 * As a job: the persons (and group members) are made here; each photo becomes an item naming
 * its file under the media root, which every node reads (docs/deploy.md). Photos outside the
 * media root are copied to imports/<DIR name>/<person>/ first.
 */
async function enrolAsJob({ config, db, embedder, services, root, work, group }: Run): Promise<void> {
  const { persons, faceCrops, groups } = services;
  const photos: EnrolPhoto[] = [];
  const sources = new Map<string, string>();
  const copied: string[] = [];
  const failures: Failure[] = [];
  const ids = new Map<string, number>();
  for (const { person, file } of work) {
    try {
      let personId = ids.get(person);
      if (personId === undefined) {
        personId = (await persons.ensure(person)).id;
        ids.set(person, personId);
        if (group) await groups.addMembers(group.id, [personId]);
      }
      const { rel, copied: copy } = await intoMediaRoot(config.mediaRoot, root, file);
      if (copy) copied.push(copy);
      const imagePath = rel.split(path.sep).join('/');
      photos.push({ imagePath, personId });
      sources.set(imagePath, file);
    } catch (err) {
      failures.push(failure(root, file, toFaceembedError(err)));
    }
  }
  // Embedded engine: this process runs the job (a later run, or a server start, resumes it if
  // interrupted); BullMQ: the nodes run it and this process watches.
  const jobs = await startJobs({
    config,
    db,
    embedder,
    crops: faceCrops,
    persons,
    sessions: services.sessions,
    retention: services.retention,
    logger: createLogger('warn'),
    runsJobs: !config.jobs.queueUrl,
  });
  try {
    let id: number;
    try {
      await jobs.service.engine.whenAvailable(QUEUE_CONNECT_MS);
      id = (await jobs.service.createEnrolment(photos)).job.id;
    } catch (err) {
      // No job: the copies made for it go again.
      await Promise.all(copied.map((f) => rm(f, { force: true })));
      throw err;
    }
    process.stdout.write(
      `${JSON.stringify({ job: id, engine: jobs.service.engine.name, photos: photos.length, persons: ids.size })}\n`,
    );
    const { status } = await watchJob(new JobRepository(db), id, { print: false });
    const result = (await jobs.service.get(id)).result as EnrolmentResult | undefined;
    for (const r of result?.results ?? [])
      if (r.error) failures.push(failure(root, sources.get(r.imagePath) ?? path.join(root, r.imagePath), r.error));
    const s = result?.summary ?? { enrolled: 0, existing: 0, failed: 0 };
    report(
      { job: id, status, persons: ids.size, enrolled: s.enrolled, skipped: s.existing, failed: failures.length },
      group,
      failures,
    );
    if (status !== 'completed') process.exitCode = 1;
  } finally {
    await jobs.close();
  }
}

export function registerEnrol(program: Command): void {
  program
    .command('enrol')
    .description('Enrol persons from DIR: one sub-folder per person (its name = external_id and name)')
    .argument('<dir>', 'folder of person folders')
    .option('--group <name>', 'also make every person a member of this group (created if missing)')
    .option(
      '--job',
      'enrol as a job (resumable; with FACEEMBED_QUEUE_URL the worker nodes run it): prints its id, watches it',
    )
    .action(async (dir: string, flags: { group?: string; job?: boolean }) => {
      const config = loadConfig();
      const root = path.resolve(dir);
      const work = await listPhotos(root);
      const db = openDatabase(config.databaseUrl);
      // A job on BullMQ runs on the worker nodes: this process then loads no model.
      const remote = flags.job === true && config.jobs.queueUrl !== undefined;
      const embedder = new EmbeddingService({
        config,
        logger: createLogger('warn'),
        ...(remote ? { workers: 1, preload: [] } : { preload: 'all' }),
      });
      let opened: Awaited<ReturnType<typeof openServices>> | undefined;
      try {
        await migrate(db);
        opened = await openServices({ db, embedder, config, logger: createLogger('warn') });
        const { services } = opened;
        const { groups } = services;
        const group = flags.group
          ? ((await groups.findByKey(flags.group)) ?? (await groups.create({ name: flags.group })))
          : undefined;
        const run: Run = { config, db, embedder, services, root, work, group };
        await (flags.job ? enrolAsJob(run) : enrolNow(run));
      } finally {
        await opened?.close();
        await embedder.close();
        await db.destroy();
      }
    });
}
