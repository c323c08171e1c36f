// Jobs on the embedded engine (no Redis): the server runs them in its own pool. `kill -9` of the
// server mid-job and a restart on the same database; cancel mid-job; a poisoned item whose image
// kills the worker every time it is started.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { checkEmbeddings, countRows } from './helpers/db.js';
import { workspace, type Workspace } from './helpers/fixtures.js';
import { Api } from './helpers/http.js';
import {
  getJob,
  itemStatuses,
  referenceModel,
  registerAll,
  startJob,
  waitJob,
  writeCrops,
  JOBS,
} from './helpers/jobs.js';
import { Section } from './helpers/report.js';
import { ServerProcess, type LogLine } from './helpers/server.js';

const FILE = 'jobs-embedded.test.js';
const CROPS_PER_JOB = 150;
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
      env: { FACEEMBED_WORKERS: '2', FACEEMBED_LOG_LEVEL: 'debug' },
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

  test('cancel mid-job', async () => {
    await section.check(
      `DELETE jobs/{id}/ once a ${CROPS_PER_JOB}-crop job has 20 items done`,
      'status cancelled; no new item starts (progress stops within a slice); finished items keep their rows',
      async () => {
        const ids = await registerAll(api, await writeCrops(ws, CROPS_PER_JOB, 'x'));
        const jobId = await startJob(api, ids);
        await waitJob(api, jobId, (j) => j.progress.done >= 20, 60_000);
        const r = await api.call('DELETE', `${JOBS}${jobId}/`);
        assert.equal(r.status, 200, r.text);
        assert.equal((r.json as { status: string }).status, 'cancelled');
        // Slices already running finish; then nothing moves.
        let last = -1;
        let now = (await getJob(api, jobId)).progress.done;
        while (now !== last) {
          await new Promise((res) => setTimeout(res, 1500));
          last = now;
          now = (await getJob(api, jobId)).progress.done;
        }
        const job = await getJob(api, jobId);
        assert.equal(job.status, 'cancelled');
        assert.ok(job.progress.done < CROPS_PER_JOB, `stopped early (${job.progress.done} done)`);
        const items = await itemStatuses(opened.db, jobId);
        assert.equal(items.running ?? 0, 0, 'no item left running');
        const check = await whole();
        const stored = ids.filter((id) => check.crops.has(id)).length;
        assert.equal(stored, job.progress.done, 'a row for every finished item and none for the others');
        assert.equal(job.result!.summary.generated, job.progress.done);
        section.measure(
          `cancel at 20 done: stopped at ${job.progress.done} of ${CROPS_PER_JOB}; items ${JSON.stringify(items)}`,
        );
        return `cancelled; stopped at ${job.progress.done < 100 ? 'under 100' : job.progress.done} of ${CROPS_PER_JOB}; a whole row for each finished item, none for the rest; nothing left running`;
      },
    );
  });

  test('a poisoned item fails alone after its retries', async () => {
    await section.check(
      'a 25-crop job where one image kills the worker each time it starts (SIGKILL to the worker whose log names it)',
      'the job completes; that item failed (WorkerCrashedError) after its retries; the other 24 generated',
      async () => {
        const names = await writeCrops(ws, 25, 'p');
        const poison = names[12]!;
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
        assert.equal(await countRows(opened.db, 'face_crops'), 2 * CROPS_PER_JOB + 25 + 1);
        return 'completed: 24 done, 1 failed (WorkerCrashedError) after its retries; the server kept serving';
      },
    );
  });
});
