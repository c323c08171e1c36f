// Jobs on the embedded engine (no Redis): the server runs them in its own pool. `kill -9` of the
// server mid-job and a restart on the same database; cancel mid-job (final: nothing moves once it
// reads cancelled), and the server killed while cancelling; a poisoned item whose image
// kills the worker every time it is started.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { checkEmbeddings, countRows } from './helpers/db.js';
import { slowPng, workspace, writeMedia, type Workspace } from './helpers/fixtures.js';
import { Api } from './helpers/http.js';
import {
  cancelJob,
  frozenAfterCancel,
  itemStatuses,
  referenceModel,
  registerAll,
  startJob,
  waitJob,
  writeCrops,
} from './helpers/jobs.js';
import { Section } from './helpers/report.js';
import { ServerProcess, type LogLine } from './helpers/server.js';

const FILE = 'jobs-embedded.test.js';
const CROPS_PER_JOB = 150;
/** Arcface crops of the cancel cases: a slice in flight takes a few hundred ms. */
const CANCEL_CROPS = 240;
const DIMS = 128;

const section = new Section(
  '5a-jobs-embedded',
  '5a. Jobs on the embedded engine (no Redis)',
  `A server with 2 workers and no FACEEMBED_QUEUE_URL, on SQLite. Jobs of ${CROPS_PER_JOB} small crops are started ` +
    'with `"async": true` batches and followed with `GET jobs/{id}/`; the rows are checked in the database: 128 ' +
    'dimensions, 512 bytes, finite, unit length, one per (crop, model).',
  FILE,
);
after(() => section.save());

describe('jobs, embedded engine', () => {
  let ws: Workspace;
  let opened: OpenedDb;
  let server: ServerProcess | undefined;
  let api: Api;
  let model = { modelName: '', modelVersion: '', dimensions: DIMS };

  const start = async () => {
    server = await ServerProcess.start({
      databaseUrl: opened.url,
      mediaRoot: ws.mediaRoot,
      modelsDir: ws.modelsDir,
      cwd: ws.dir,
      // The poisoned-item case watches the worker's per-step 'Image: …' line, logged at debug.
      // The poisoned item is the 19 MB slow PNG (see that test).
      env: {
        FACEEMBED_WORKERS: '2',
        FACEEMBED_LOG_LEVEL: 'debug',
        FACEEMBED_MAX_IMAGE_BYTES: String(64 * 1024 * 1024),
      },
    });
    api = new Api(server.baseUrl);
  };
  const whole = async () => {
    const check = await checkEmbeddings(opened.db, model);
    assert.deepEqual(check.problems, [], 'every stored embedding is whole, none duplicated');
    return check;
  };

  before(async () => {
    ws = await workspace('jobs-embedded');
    opened = await DB_TARGETS[0]!.open();
    await start();
    model = await referenceModel(ws, api);
  });
  after(async () => {
    await server?.stop();
    await opened?.close();
    await ws?.close();
  });

  test('kill -9 of the server mid-job, then restart', async () => {
    await section.check(
      `SIGKILL to the server once a ${CROPS_PER_JOB}-crop job has 30 items done; restart on the same database`,
      'the job resumes by itself and completes: every crop one whole row, none duplicated, no item lost',
      async () => {
        const ids = await registerAll(api, await writeCrops(ws, CROPS_PER_JOB, 'k'));
        const started = performance.now();
        const jobId = await startJob(api, ids);
        const first = await waitJob(api, jobId, (j) => j.progress.done > 0, 60_000);
        section.measure(
          `embedded: first progress ${Math.round(performance.now() - started)} ms after the 202 (${first.progress.done} done)`,
        );
        await waitJob(api, jobId, (j) => j.progress.done >= 30, 60_000);
        await server!.kill();
        const atKill = await itemStatuses(opened.db, jobId);
        assert.ok((atKill.pending ?? 0) + (atKill.running ?? 0) > 0, 'the job was cut off');
        await whole();
        await start();
        const done = await waitJob(api, jobId, (j) => j.status === 'completed', 120_000);
        assert.deepEqual(done.progress, { total: CROPS_PER_JOB, done: CROPS_PER_JOB, failed: 0 });
        const check = await whole();
        assert.equal(check.rows, CROPS_PER_JOB + 1, "the job's rows and the reference crop's");
        // An item whose row was written just before the kill answers "existing" after the restart.
        const items = await itemStatuses(opened.db, jobId);
        assert.equal((items.generated ?? 0) + (items.existing ?? 0), CROPS_PER_JOB, JSON.stringify(items));
        assert.equal(done.result!.results.length, CROPS_PER_JOB);
        section.measure(
          `embedded kill -9: items at the kill ${JSON.stringify(atKill)}; after restart ${CROPS_PER_JOB} generated`,
        );
        section.count('faultsSurvived');
        return `resumed after restart; completed ${CROPS_PER_JOB}/${CROPS_PER_JOB}, 0 failed; ${CROPS_PER_JOB} whole rows, none duplicated`;
      },
    );
  });

  test('a poisoned item fails alone after its retries', async () => {
    await section.check(
      'a 25-crop job where one image kills the worker each time it starts (SIGKILL to the worker whose log names it; ' +
        'the image is the slow 6000x6000 PNG, so the signal lands while that image is still being worked on)',
      'the job completes; that item failed (WorkerCrashedError) after its retries; the other 24 generated',
      async () => {
        const names = await writeCrops(ws, 25, 'p');
        const poison = 'crops/poison.png';
        await writeMedia(ws.mediaRoot, poison, await slowPng());
        names[12] = poison;
        const ids = await registerAll(api, names);
        const from = server!.logs.length;
        let kills = 0;
        let stop = false;
        const killer = (async () => {
          let seen = from;
          while (!stop) {
            const lines = server!.logs.slice(seen);
            seen += lines.length;
            for (const l of lines as LogLine[]) {
              if (typeof l.msg === 'string' && l.msg.startsWith('Image: ') && l.msg.endsWith(poison)) {
                process.kill(l.pid as number, 'SIGKILL');
                kills++;
              }
            }
            await new Promise((res) => setTimeout(res, 5));
          }
        })();
        const jobId = await startJob(api, ids, true);
        const job = await waitJob(api, jobId, (j) => j.status !== 'queued' && j.status !== 'running', 120_000);
        stop = true;
        await killer;
        assert.equal(job.status, 'completed');
        assert.deepEqual(job.progress, { total: 25, done: 24, failed: 1 });
        const failed = job.result!.results.filter((x) => x.status === 'failed');
        assert.deepEqual(
          failed.map((x) => [x.face_crop_id, x.error?.type]),
          [[ids[12], 'WorkerCrashedError']],
        );
        assert.ok(kills >= 3, `the worker was started on it on every attempt (${kills} kills)`);
        await whole();
        section.measure(`poisoned item: ${kills} worker kills before it failed for good`);
        section.count('faultsSurvived', kills);
        assert.equal(await countRows(opened.db, 'face_crops'), CROPS_PER_JOB + 25 + 1);
        return 'completed: 24 done, 1 failed (WorkerCrashedError) after its retries; the server kept serving';
      },
    );
  });

  // The cancel cases store arcface rows, so they come last (whole() checks facenet rows only).
  test('cancel mid-job is final', async () => {
    await section.check(
      `DELETE jobs/{id}/ once a ${CANCEL_CROPS}-crop arcface job has 20 items done`,
      '`cancelling` while the slices in flight drain, then `cancelled`; from then on its progress, items and rows ' +
        'never change; a whole row for each finished item, none for the others',
      async () => {
        const ids = await registerAll(api, await writeCrops(ws, CANCEL_CROPS, 'x'));
        const jobId = await startJob(api, ids, false, 'arcface');
        await waitJob(api, jobId, (j) => j.progress.done >= 20, 60_000);
        const answered = await cancelJob(api, jobId);
        const { job, items } = await frozenAfterCancel(api, opened.db, jobId, ids);
        assert.ok(job.progress.done < CANCEL_CROPS, `stopped early (${job.progress.done} done)`);
        assert.equal(job.result!.summary.generated, job.progress.done);
        section.measure(
          `cancel at 20 done: DELETE answered ${answered}; stopped at ${job.progress.done} of ${CANCEL_CROPS}; items ${JSON.stringify(items)}`,
        );
        return `${answered}, then cancelled; stopped under ${CANCEL_CROPS}; progress, items and rows unchanged 3 s later; nothing left running`;
      },
    );
  });

  test('kill -9 of the server while cancelling', async () => {
    await section.check(
      `DELETE on a ${CANCEL_CROPS}-crop arcface job with a slice in flight, SIGKILL to the server at once, restart`,
      'the job reads `cancelling` in the database after the kill and `cancelled` (frozen) after the restart',
      async () => {
        const ids = await registerAll(api, await writeCrops(ws, CANCEL_CROPS, 'y'));
        const jobId = await startJob(api, ids, true, 'arcface');
        await waitJob(api, jobId, (j) => j.progress.done >= 20, 60_000);
        const answered = await cancelJob(api, jobId);
        await server!.kill();
        const row = await opened.db
          .selectFrom('jobs')
          .select('status')
          .where('id', '=', jobId)
          .executeTakeFirstOrThrow();
        assert.equal(answered, 'cancelling', 'a slice was in flight when DELETE answered');
        assert.equal(row.status, 'cancelling', 'the kill came before the slice drained');
        await start();
        const { job } = await frozenAfterCancel(api, opened.db, jobId, ids, { crashed: true });
        section.count('faultsSurvived');
        section.measure(
          `kill while cancelling: cancelled after the restart at ${job.progress.done} of ${CANCEL_CROPS}`,
        );
        return 'cancelling at the kill; cancelled after the restart; unchanged 3 s later; nothing left running';
      },
    );
  });
});
