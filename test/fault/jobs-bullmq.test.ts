// Jobs on BullMQ with real Redis and real processes: a server that only enqueues
// (FACEEMBED_SERVER_RUNS_JOBS=false) and `faceembed worker-node` processes. Three nodes, one
// killed mid-job, then all, then one started later; and Redis itself killed mid-job (a private
// redis-server, never the shared one); a job cancelled after one of its nodes died mid-slice. PostgreSQL when configured, else SQLite.
import { execFileSync } from 'node:child_process';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { QUEUE_NAME, redisOptions } from '../../src/queue/bullmq-job-engine.js';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { checkEmbeddings } from './helpers/db.js';
import { workspace, type Workspace } from './helpers/fixtures.js';
import { Api, BATCH, expectError } from './helpers/http.js';
import {
  cancelJob,
  frozenAfterCancel,
  getJob,
  itemStatuses,
  itemsByNode,
  referenceModel,
  registerAll,
  runningNodes,
  startJob,
  waitJob,
  writeCrops,
} from './helpers/jobs.js';
import { RedisProcess } from './helpers/redis.js';
import { Section } from './helpers/report.js';
import { ServerProcess } from './helpers/server.js';

const FILE = 'jobs-bullmq.test.js';
const SHARED_REDIS = process.env.FACEEMBED_TEST_QUEUE_URL ?? 'redis://127.0.0.1:6379/5';
const PREFIX = `fe-test-${process.pid}`;
const CROPS_PER_JOB = 160;
const CANCEL_CROPS = 240;
/** Both tests need redis-server installed and the shared Redis answering. */
function redisSkip(): string | false {
  try {
    execFileSync('redis-cli', ['-u', SHARED_REDIS, 'ping'], { stdio: 'pipe', timeout: 5000 });
    return false;
  } catch {
    return `Redis not reachable at ${SHARED_REDIS} (or redis-cli missing): BullMQ job tests skipped`;
  }
}
const REDIS_SKIP = redisSkip();
const target = DB_TARGETS.find((t) => t.name === 'postgres' && !t.skip) ?? DB_TARGETS[0]!;

const section = new Section(
  '5b-jobs-bullmq',
  `5b. Jobs on BullMQ: worker nodes and Redis faults (${target.name === 'postgres' ? 'PostgreSQL' : 'SQLite'})`,
  'A server with `FACEEMBED_QUEUE_URL` and `FACEEMBED_SERVER_RUNS_JOBS=false` (it only enqueues) and ' +
    `\`faceembed worker-node\` processes of one worker each, all on one database and media root. Jobs of ${CROPS_PER_JOB} ` +
    'small crops; every row is checked in the database afterwards (whole, one per crop and model).',
  FILE,
);
after(() => section.save());
if (REDIS_SKIP) section.skip(REDIS_SKIP);

describe(`jobs, BullMQ engine (${target.name})`, { skip: REDIS_SKIP }, () => {
  let ws: Workspace;
  let opened: OpenedDb;
  const procs: ServerProcess[] = [];
  let model = { modelName: '', modelVersion: '', dimensions: 128 };

  const env = (queueUrl: string) => ({
    FACEEMBED_WORKERS: '1',
    FACEEMBED_QUEUE_URL: queueUrl,
    FACEEMBED_QUEUE_PREFIX: PREFIX,
    FACEEMBED_SERVER_RUNS_JOBS: 'false',
  });
  const opts = (queueUrl: string) => ({
    databaseUrl: opened.url,
    mediaRoot: ws.mediaRoot,
    modelsDir: ws.modelsDir,
    cwd: ws.dir,
    env: env(queueUrl),
  });
  const spawn = async (kind: 'server' | 'node', queueUrl: string) => {
    const p =
      kind === 'server' ? await ServerProcess.start(opts(queueUrl)) : await ServerProcess.startNode(opts(queueUrl));
    procs.push(p);
    return p;
  };
  /** Items record the node as host:pid. */
  const nodeName = (p: ServerProcess) => `:${p.pid}`;
  const whole = async () => {
    const check = await checkEmbeddings(opened.db, model);
    assert.deepEqual(check.problems, [], 'every stored embedding is whole, none duplicated');
    return check;
  };

  before(async () => {
    ws = await workspace('jobs-bullmq');
    opened = await target.open();
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await opened?.close();
    await ws?.close();
    const q = new Queue(QUEUE_NAME, { connection: redisOptions(SHARED_REDIS), prefix: PREFIX });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  });

  test('three nodes, one killed mid-job; then all killed and one started later', async () => {
    await section.check(
      `a ${CROPS_PER_JOB}-crop job on three nodes: SIGKILL to a node holding running items at 30 done; SIGKILL to the ` +
        'other two at 90 done; a fresh node started after that',
      'its slices go to the live nodes, then to the late one: the job completes, every crop one whole row, none lost or duplicated',
      async () => {
        const server = await spawn('server', SHARED_REDIS);
        const api = new Api(server.baseUrl);
        const nodes = await Promise.all([1, 2, 3].map(() => spawn('node', SHARED_REDIS)));
        model = await referenceModel(ws, api);
        const ids = await registerAll(api, await writeCrops(ws, CROPS_PER_JOB, 'b'));
        const started = performance.now();
        const jobId = await startJob(api, ids);
        await waitJob(api, jobId, (j) => j.progress.done > 0, 60_000);
        section.measure(`BullMQ, 3 nodes: first progress ${Math.round(performance.now() - started)} ms after the 202`);
        await waitJob(api, jobId, (j) => j.progress.done >= 30, 60_000);
        const busy = await runningNodes(opened.db, jobId);
        const victim = nodes.find((n) => [...busy].some((b) => b.endsWith(nodeName(n)))) ?? nodes[0]!;
        await victim.kill();
        await waitJob(api, jobId, (j) => j.progress.done >= 90, 120_000);
        for (const n of nodes.filter((x) => x !== victim)) await n.kill();
        const mid = await getJob(api, jobId);
        assert.notEqual(mid.status, 'completed', 'work was left when every node was gone');
        const late = await spawn('node', SHARED_REDIS);
        const done = await waitJob(api, jobId, (j) => j.status === 'completed', 180_000);
        assert.deepEqual(done.progress, { total: CROPS_PER_JOB, done: CROPS_PER_JOB, failed: 0 });
        // An item whose row was written just before its node died answers "existing" on the retry.
        const items = await itemStatuses(opened.db, jobId);
        assert.equal((items.generated ?? 0) + (items.existing ?? 0), CROPS_PER_JOB, JSON.stringify(items));
        const check = await whole();
        assert.equal(check.rows, CROPS_PER_JOB + 1, "the job's rows and the reference crop's");
        const byNode = await itemsByNode(opened.db, jobId);
        assert.ok(
          [...byNode.keys()].some((k) => k.endsWith(nodeName(late))),
          'the late node finished part of the job',
        );
        section.measure(
          `BullMQ kill: ${mid.progress.done} done when the last node died; items per node ${JSON.stringify(Object.fromEntries(byNode))}; ` +
            `whole job ${Math.round(performance.now() - started)} ms`,
        );
        section.count('faultsSurvived', 3);
        await late.stop();
        await server.stop();
        return `completed ${CROPS_PER_JOB}/${CROPS_PER_JOB}, 0 failed; items finished by ${byNode.size} nodes incl. the late one; ${CROPS_PER_JOB} whole rows, none duplicated`;
      },
    );
  });

  test('Redis killed mid-job, then back', async () => {
    await section.check(
      'a private redis-server (append-only) SIGKILLed while a job runs on one node, restarted 3 s later',
      'new job requests: 503 ServiceUnavailableError with Retry-After; the server keeps answering; the node reconnects and the job completes',
      async () => {
        const redis = await RedisProcess.start();
        try {
          const server = await spawn('server', redis.url);
          const api = new Api(server.baseUrl);
          await spawn('node', redis.url);
          const ids = await registerAll(api, await writeCrops(ws, 80, 'r'));
          const jobId = await startJob(api, ids, true);
          await waitJob(api, jobId, (j) => j.progress.done >= 10, 60_000);
          await redis.kill();
          await new Promise((r) => setTimeout(r, 300));
          const refused = await api.post(BATCH, { face_crop_ids: ids.slice(0, 5), async: true });
          expectError(refused, 503, 'ServiceUnavailableError');
          const retryAfter = Number(refused.headers.get('retry-after'));
          assert.ok(retryAfter >= 1, `Retry-After ${refused.headers.get('retry-after')}`);
          assert.equal((await getJob(api, jobId)).status, 'running', 'the server still reads jobs');
          assert.equal((await api.get('/healthz')).status, 200);
          await new Promise((r) => setTimeout(r, 3000));
          await redis.up();
          const done = await waitJob(api, jobId, (j) => j.status === 'completed', 120_000);
          assert.deepEqual(done.progress, { total: 80, done: 80, failed: 0 });
          await whole();
          // Accepting again once Redis is back.
          const deadline = Date.now() + 15_000;
          let again = await api.post(BATCH, { face_crop_ids: ids.slice(0, 5), async: true });
          while (again.status === 503 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 200));
            again = await api.post(BATCH, { face_crop_ids: ids.slice(0, 5), async: true });
          }
          assert.equal(again.status, 202, again.text.slice(0, 200));
          section.count('faultsSurvived');
          return `503 ServiceUnavailableError, Retry-After: ${retryAfter}; server answered throughout; job completed 80/80 after Redis returned; new jobs accepted again`;
        } finally {
          await redis.close();
        }
      },
    );
  });
  // Arcface rows: after the cases that check facenet rows with whole().
  test('cancel with a node killed mid-slice is final', async () => {
    await section.check(
      `a ${CANCEL_CROPS}-crop arcface job on two nodes: SIGKILL to a node holding running items at 20 done, then ` +
        'DELETE jobs/{id}/',
      "`cancelling` (the dead node's items are in flight) until the live node drained its slices and took over the " +
        "dead one's; then `cancelled`, and its progress, items and rows never change again",
      async () => {
        const server = await spawn('server', SHARED_REDIS);
        const api = new Api(server.baseUrl);
        const nodes = await Promise.all([1, 2].map(() => spawn('node', SHARED_REDIS)));
        const ids = await registerAll(api, await writeCrops(ws, CANCEL_CROPS, 'z'));
        const jobId = await startJob(api, ids, false, 'arcface');
        await waitJob(api, jobId, (j) => j.progress.done >= 20, 60_000);
        const busy = await runningNodes(opened.db, jobId);
        const victim = nodes.find((n) => [...busy].some((b) => b.endsWith(nodeName(n)))) ?? nodes[0]!;
        await victim.kill();
        const started = performance.now();
        const answered = await cancelJob(api, jobId);
        const { job, items } = await frozenAfterCancel(api, opened.db, jobId, ids, { crashed: true });
        assert.equal(answered, 'cancelling', "the dead node's items were running");
        assert.ok(job.progress.done < CANCEL_CROPS, `stopped early (${job.progress.done} done)`);
        section.count('faultsSurvived');
        section.measure(
          `BullMQ cancel with a dead node: cancelled ${Math.round(performance.now() - started)} ms after the DELETE ` +
            `at ${job.progress.done} of ${CANCEL_CROPS}; items ${JSON.stringify(items)}`,
        );
        for (const n of nodes.filter((x) => x !== victim)) await n.stop();
        await server.stop();
        return "cancelling, then cancelled once the dead node's slice was taken over; unchanged 3 s later; nothing left running";
      },
    );
  });
});
