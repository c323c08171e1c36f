// The BullMQ engine on the real Redis: a job whose rows were saved but whose enqueue never
// happened (the server died in between) is submitted when an engine starts, a second start adds
// no second copy of its slices, and a `faceembed worker-node` process then completes it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startJobs, type JobsWiring } from '../../src/jobs.js';
import { createServices } from '../../src/main.js';
import { QUEUE_NAME, redisOptions } from '../../src/queue/bullmq-job-engine.js';
import { openDatabase, type Database } from '../../src/repositories/database.js';
import { JobRepository } from '../../src/repositories/job.repository.js';
import { migrate } from '../../src/repositories/migrate.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import { smallFace } from '../fault/helpers/fixtures.js';
import { ServerProcess } from '../fault/helpers/server.js';
import { silent } from '../http/helper.js';
import { REPO } from '../helpers/paths.js';
import { TEST_QUEUE_URL, dropKeys, redisSkip } from '../helpers/redis-keys.js';

const MODELS_DIR = path.join(REPO, 'data/models');
const CROPS = 6;
/** 6 item keys: slices of 4 and then 2 (the engine's first slices are small). */
const SLICES = 2;

describe('BullMQ engine: a job saved but never enqueued', { skip: await redisSkip() }, () => {
  const prefix = `fe-resubmit-test-${process.pid}`;
  let dir: string;
  let db: Database;
  let config: Config;
  // Only JobService's model check runs in this process: one worker, no model loaded.
  let embedder: EmbeddingService;
  let queue: Queue;
  let node: ServerProcess | undefined;
  /** Engines started, closed at the end even when an assertion failed (their connections keep the process up). */
  const engines: JobsWiring[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-resubmit-'));
    const media = path.join(dir, 'media');
    await mkdir(path.join(media, 'crops'), { recursive: true });
    await writeFile(path.join(media, 'face.jpg'), await smallFace(1));
    for (let i = 0; i < CROPS; i++) await copyFile(path.join(media, 'face.jpg'), path.join(media, `crops/${i}.jpg`));
    config = loadConfig({
      FACEEMBED_DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
      FACEEMBED_MEDIA_ROOT: media,
      FACEEMBED_MODELS_DIR: MODELS_DIR,
      FACEEMBED_QUEUE_URL: TEST_QUEUE_URL,
      FACEEMBED_QUEUE_PREFIX: prefix,
      FACEEMBED_SERVER_RUNS_JOBS: 'false',
    });
    db = openDatabase(config.databaseUrl);
    await migrate(db);
    embedder = new EmbeddingService({ config, workers: 1, preload: [], logger: silent });
    queue = new Queue(QUEUE_NAME, { connection: redisOptions(TEST_QUEUE_URL), prefix });
  });
  after(async () => {
    for (const e of engines) await e.close();
    await node?.stop();
    await queue?.close();
    await embedder?.close();
    await db?.destroy();
    await dropKeys(prefix);
    await rm(dir, { recursive: true, force: true });
  });

  /** What `faceembed serve` starts with FACEEMBED_SERVER_RUNS_JOBS=false: the engine, no node. */
  const start = async () => {
    const { faceCrops: crops, persons, sessions, retention } = createServices({ db, embedder, config });
    const jobs = await startJobs({
      config,
      db,
      embedder,
      crops,
      persons,
      sessions,
      retention,
      logger: silent,
      runsJobs: false,
    });
    engines.push(jobs);
    return jobs;
  };
  const waiting = async () => (await queue.getJobCounts('waiting')).waiting ?? 0;

  test('submitted at engine start, once however often; a worker node completes it', async () => {
    const { faceCrops } = createServices({ db, embedder, config });
    const ids: number[] = [];
    for (let i = 0; i < CROPS; i++) ids.push((await faceCrops.registerCrop(`crops/${i}.jpg`)).id);
    // The rows as JobService.create writes them, and then the process is gone: nothing queued.
    const repo = new JobRepository(db);
    const job = await repo.create({
      kind: 'generate-embeddings',
      modelName: 'facenet',
      force: false,
      faceCropIds: ids,
    });
    assert.equal(await waiting(), 0);

    const first = await start();
    const deadline = Date.now() + 15_000;
    while ((await waiting()) < SLICES) {
      assert.ok(Date.now() < deadline, 'the engine submitted the saved job when it connected');
      await new Promise((r) => setTimeout(r, 50));
    }
    await first.close();

    const second = await start();
    assert.deepEqual(await second.service.resubmitActive(), [job.id]);
    assert.equal(await waiting(), SLICES, 'slices BullMQ holds are not added again');
    await second.close();

    node = await ServerProcess.startNode({
      databaseUrl: config.databaseUrl,
      mediaRoot: config.mediaRoot,
      modelsDir: MODELS_DIR,
      cwd: dir,
      env: { FACEEMBED_WORKERS: '1', FACEEMBED_QUEUE_URL: TEST_QUEUE_URL, FACEEMBED_QUEUE_PREFIX: prefix },
    });
    const until = Date.now() + 60_000;
    let now = await repo.get(job.id);
    while (now?.status !== 'completed') {
      assert.ok(Date.now() < until, `job still ${now?.status}`);
      await new Promise((r) => setTimeout(r, 50));
      now = await repo.get(job.id);
    }
    assert.deepEqual(await repo.progress(job.id, job.total), { total: CROPS, done: CROPS, failed: 0 });
    const rows = await db.selectFrom('face_embeddings').select('face_crop_id').execute();
    assert.deepEqual(
      rows.map((r) => r.face_crop_id).sort((a, b) => a - b),
      ids,
      'one embedding per crop',
    );
  });
});
