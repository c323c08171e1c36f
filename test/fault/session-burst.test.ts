// A burst of class photos uploaded asynchronously (session-photo jobs) while processes die:
// `kill -9` of the server on the embedded engine (SQLite) and of a worker node on BullMQ
// (PostgreSQL when configured). No accepted photo is lost, every face is stored once, and each
// session ends with the attendance of the same photos uploaded one by one.
import { execFileSync } from 'node:child_process';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { Queue } from 'bullmq';
import { QUEUE_NAME, redisOptions } from '../../src/queue/bullmq-job-engine.js';
import { DATASET_SKIP } from '../helpers/paths.js';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { burst, checkSessions, newSession, reference, roster, waitJobs } from './helpers/class-burst.js';
import { workspace, type Workspace } from './helpers/fixtures.js';
import { Api } from './helpers/http.js';
import { Section } from './helpers/report.js';
import { ServerProcess } from './helpers/server.js';

const FILE = 'session-burst.test.js';
const SESSIONS = 3;
const SHARED_REDIS = process.env.FACEEMBED_TEST_QUEUE_URL ?? 'redis://127.0.0.1:6379/5';
const PREFIX = `fe-burst-${process.pid}`;
const ended = (s: Record<string, number>) => (s.completed ?? 0) + (s.failed ?? 0) + (s.cancelled ?? 0);

function redisSkip(): string | false {
  try {
    execFileSync('redis-cli', ['-u', SHARED_REDIS, 'ping'], { stdio: 'pipe', timeout: 5000 });
    return false;
  } catch {
    return `Redis not reachable at ${SHARED_REDIS} (or redis-cli missing): the worker-node case is skipped`;
  }
}

const section = new Section(
  '5c-session-burst',
  '5c. A burst of class photos while processes die',
  `4 class photos (3 faces each, people of the shared dataset, some in two photos) uploaded with \`async\` to ${SESSIONS} ` +
    'sessions at once (one request each, all answered 202 first); then a process is killed. Afterwards each session is ' +
    'checked in the database and over HTTP against a reference session fed the same photos one by one, synchronously.',
  FILE,
);
after(() => section.save());
if (DATASET_SKIP) section.skip(DATASET_SKIP);

describe('class photo burst', { skip: DATASET_SKIP }, () => {
  let ws: Workspace;
  const procs: ServerProcess[] = [];
  const opts = (opened: OpenedDb, env: Record<string, string>) => ({
    databaseUrl: opened.url,
    mediaRoot: ws.mediaRoot,
    modelsDir: ws.modelsDir,
    cwd: ws.dir,
    env: { FACEEMBED_WORKERS: '1', ...env },
  });
  const spawn = async (kind: 'server' | 'node', o: ReturnType<typeof opts>) => {
    const p = kind === 'server' ? await ServerProcess.start(o) : await ServerProcess.startNode(o);
    procs.push(p);
    return p;
  };

  before(async () => {
    ws = await workspace('session-burst');
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await ws?.close();
  });

  test('kill -9 of the server mid-burst (embedded engine, SQLite)', async () => {
    await section.check(
      `${4 * SESSIONS} async uploads accepted; SIGKILL to the server once 2 photos are done; restart on the same database`,
      'every photo completes after the restart; each face stored once; attendance as one by one',
      async () => {
        const opened = await DB_TARGETS[0]!.open();
        try {
          let server = await spawn('server', opts(opened, {}));
          let api = new Api(server.baseUrl);
          const r = await roster(api);
          const expected = await reference(api, r);
          const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => newSession(api, r.groupId)));
          const jobs = await burst(api, r, sessions);
          const atKill = await waitJobs(api, jobs, (s) => (s.completed ?? 0) >= 2, 120_000);
          await server.kill();
          server = await spawn('server', opts(opened, {}));
          api = new Api(server.baseUrl);
          const done = await waitJobs(api, jobs, (s) => ended(s) === jobs.length, 300_000);
          if (done.completed !== jobs.length) throw new Error(`not all completed: ${JSON.stringify(done)}`);
          await checkSessions(api, opened.db, r, sessions, expected);
          await server.stop();
          section.measure(
            `embedded kill -9: jobs at the kill ${JSON.stringify(atKill)}; after restart ${JSON.stringify(done)}`,
          );
          section.count('faultsSurvived');
          return `${jobs.length}/${jobs.length} completed (at the kill: ${JSON.stringify(atKill)}); ${expected.faces} faces per session, none twice; attendance equal to one by one`;
        } finally {
          await opened.close();
        }
      },
    );
  });

  const redisSkipped = redisSkip();
  const target = DB_TARGETS.find((t) => t.name === 'postgres' && !t.skip) ?? DB_TARGETS[0]!;
  test(`kill -9 of a worker node mid-burst (BullMQ, ${target.name})`, { skip: redisSkipped }, async () => {
    await section.check(
      `a server that only enqueues and two worker nodes; ${4 * SESSIONS} async uploads; SIGKILL to a node once 2 photos are done`,
      "the dead node's photos go to the live node: every photo completes; each face stored once; attendance as one by one",
      async () => {
        const opened = await target.open();
        const env = {
          FACEEMBED_QUEUE_URL: SHARED_REDIS,
          FACEEMBED_QUEUE_PREFIX: PREFIX,
          FACEEMBED_SERVER_RUNS_JOBS: 'false',
        };
        try {
          const server = await spawn('server', opts(opened, env));
          const api = new Api(server.baseUrl);
          const nodes = [await spawn('node', opts(opened, env)), await spawn('node', opts(opened, env))];
          const r = await roster(api);
          const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => newSession(api, r.groupId)));
          const jobs = await burst(api, r, sessions);
          const atKill = await waitJobs(api, jobs, (s) => (s.completed ?? 0) >= 2, 120_000);
          // The victim holds a photo in flight (items record their node as host:pid).
          const busy = await sql<{ node: string }>`select node from job_items where status = 'running'`.execute(
            opened.db,
          );
          const victim = nodes.find((n) => busy.rows.some((b) => b.node.endsWith(`:${n.pid}`)));
          assert.ok(victim, `a node with a photo in flight: ${JSON.stringify(busy.rows)}`);
          await victim.kill();
          const done = await waitJobs(api, jobs, (s) => ended(s) === jobs.length, 300_000);
          if (done.completed !== jobs.length) throw new Error(`not all completed: ${JSON.stringify(done)}`);
          // The reference after the burst: the server runs no jobs, the synchronous path runs here.
          const expected = await reference(api, r);
          await checkSessions(api, opened.db, r, sessions, expected);
          section.measure(
            `BullMQ node kill -9: jobs at the kill ${JSON.stringify(atKill)}; at the end ${JSON.stringify(done)}`,
          );
          section.count('faultsSurvived');
          return `${jobs.length}/${jobs.length} completed (at the kill: ${JSON.stringify(atKill)}); ${expected.faces} faces per session, none twice; attendance equal to one by one`;
        } finally {
          for (const p of procs.splice(0)) await p.stop();
          await opened.close();
          const q = new Queue(QUEUE_NAME, { connection: redisOptions(SHARED_REDIS), prefix: PREFIX });
          await q.obliterate({ force: true }).catch(() => undefined);
          await q.close();
        }
      },
    );
  });
});
