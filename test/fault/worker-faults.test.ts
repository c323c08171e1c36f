// Worker faults under a real server: signals sent from outside to the worker that is running a
// request (SIGKILL, SIGABRT, SIGSEGV once and on both attempts, SIGSTOP past the timeout), and
// workers recycled for memory after every job. The request always settles typed, the server
// always answers the next one, and dead workers are replaced.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { isAlive, waitFor } from '../helpers/processes.js';
import { smallFace, slowPng, workspace, writeMedia, type Workspace } from './helpers/fixtures.js';
import { Api, expectEmbedding, expectError, generatePath, outcome, BATCH, type Reply } from './helpers/http.js';
import { Section } from './helpers/report.js';
import { ServerProcess, rssMb, type LogLine } from './helpers/server.js';

const FILE = 'worker-faults.test.js';
const TIMEOUT_MS = 6000;
const DIMS = 128; // facenet

const faults = new Section(
  '1-worker-faults',
  '1. Worker faults in the middle of a request',
  'A server with 2 workers and `FACEEMBED_TIMEOUT_MS=' +
    TIMEOUT_MS +
    '`. The request embeds a 6000x6000 interlaced PNG ' +
    '(about half a second of decoding); the signal goes to the worker whose log says it started that image, checked ' +
    'to be a child of the server (`pgrep -P`). A crash is retried once on another worker; a second crash or a hang ' +
    'is a typed error.',
  FILE,
);
const recycling = new Section(
  '2-memory-recycling',
  '2. Workers recycled for memory',
  'A server with 2 workers and `FACEEMBED_WORKER_MAX_RSS_MB=64`, below what any worker holds once its models are ' +
    'loaded: every worker passes the limit on its first job, finishes it, and is replaced.',
  FILE,
);
after(() => {
  faults.save();
  recycling.save();
});

/** Worker-side log lines carry the worker's pid (the last "pid" key wins over the server's). */
const isJobStart = (l: LogLine, file: string) =>
  typeof l.msg === 'string' && l.msg.startsWith('Image: ') && l.msg.endsWith(file);

describe('worker faults over HTTP', () => {
  let ws: Workspace;
  let server: ServerProcess;
  let api: Api;
  let slowId: number;
  let smallId: number;

  before(async () => {
    ws = await workspace('faults');
    await writeMedia(ws.mediaRoot, 'faces/slow.png', await slowPng());
    await writeMedia(ws.mediaRoot, 'faces/small.jpg', await smallFace(2));
    server = await ServerProcess.start({
      databaseUrl: `sqlite:${path.join(ws.dir, 'faceembed.db')}`,
      mediaRoot: ws.mediaRoot,
      modelsDir: ws.modelsDir,
      cwd: ws.dir,
      env: {
        // The worker's per-step lines (which this suite waits on) are debug lines.
        FACEEMBED_LOG_LEVEL: 'debug',
        FACEEMBED_WORKERS: '2',
        FACEEMBED_TIMEOUT_MS: String(TIMEOUT_MS),
        FACEEMBED_MAX_IMAGE_BYTES: String(64 * 1024 * 1024),
      },
    });
    api = new Api(server.baseUrl);
    slowId = await api.register('faces/slow.png');
    smallId = await api.register('faces/small.jpg');
    const warm = await api.post(generatePath(slowId), { force_regenerate: true });
    expectEmbedding(warm, DIMS);
    faults.measure(`one embedding of the 6000x6000 PNG, unfaulted: ${Math.round(warm.ms)} ms`);
  });
  after(async () => {
    await server?.stop();
    await ws?.close();
  });

  /** Starts a slow request and resolves once a worker has begun it: that worker's pid and the pending reply. */
  async function busyWorker(): Promise<{ pid: number; reply: Promise<Reply> }> {
    const from = server.logs.length;
    const reply = api.post(generatePath(slowId), { force_regenerate: true }, { timeoutMs: 60_000 });
    const started = await server.waitForLog((l) => isJobStart(l, 'slow.png'), 15_000, from);
    const pid = started.pid!;
    assert.ok(server.workers().includes(pid), `pid ${pid} is a child of the server`);
    return { pid, reply };
  }

  /** The server still serves: a fresh embedding of the small crop. */
  async function nextRequestWorks(): Promise<void> {
    expectEmbedding(await api.post(generatePath(smallId), { force_regenerate: true }), DIMS);
    await waitFor(() => server.workers().length >= 2, 15_000);
  }

  const diedLog = (pid: number, from: number) =>
    server.waitForLog(
      (l) => typeof l.msg === 'string' && l.msg.startsWith('Worker died') && l.pid === pid,
      10_000,
      from,
    );

  for (const signal of ['SIGKILL', 'SIGABRT', 'SIGSEGV'] as const) {
    test(`${signal} once to the busy worker: the request succeeds on retry`, async () => {
      await faults.check(
        `${signal} to the worker running the request`,
        '200 (retried once on another worker); the dead worker is replaced; next request 200',
        async () => {
          const from = server.logs.length;
          const { pid, reply } = await busyWorker();
          process.kill(pid, signal);
          const r = await reply;
          const seen = outcome(r);
          expectEmbedding(r, DIMS);
          const died = await diedLog(pid, from);
          assert.equal(died.signal, signal);
          assert.notEqual(died.jobId, undefined, 'the worker was running the job when it died');
          await waitFor(() => !isAlive(pid));
          await nextRequestWorks();
          faults.count('faultsSurvived');
          faults.count('requestsHeld', 2);
          return `${seen}; log: "Worker died (signal ${signal})" for the job; next request 200`;
        },
      );
    });

    test(`${signal} to both attempts: WorkerCrashedError`, async () => {
      await faults.check(
        `${signal} to the worker running the request, and again to the retry's worker`,
        '500 WorkerCrashedError, details.signal and attempts=2; next request 200',
        async () => {
          const from = server.logs.length;
          const { pid, reply } = await busyWorker();
          process.kill(pid, signal);
          const retry = await server.waitForLog((l) => isJobStart(l, 'slow.png') && l.pid !== pid, 15_000, from);
          assert.ok(server.workers().includes(retry.pid!));
          process.kill(retry.pid!, signal);
          const r = await reply;
          const seen = outcome(r);
          const err = expectError(r, 500, 'WorkerCrashedError');
          assert.equal(err.details?.signal, signal);
          assert.equal(err.details?.attempts, 2);
          await nextRequestWorks();
          faults.count('faultsSurvived', 2);
          faults.count('requestsHeld', 2);
          return `${seen}, details.signal=${String(err.details?.signal)}, attempts=${String(err.details?.attempts)}; next request 200`;
        },
      );
    });
  }

  test('SIGSTOP to the busy worker: TimeoutError, the stopped worker is killed', async () => {
    await faults.check(
      'SIGSTOP to the worker running the request (a hang)',
      `504 TimeoutError after ~${TIMEOUT_MS} ms; the stopped worker is killed and replaced; next request 200`,
      async () => {
        const { pid, reply } = await busyWorker();
        process.kill(pid, 'SIGSTOP');
        const r = await reply;
        const seen = outcome(r);
        const err = expectError(r, 504, 'TimeoutError');
        assert.equal(err.details?.timeoutMs, TIMEOUT_MS);
        assert.ok(r.ms >= TIMEOUT_MS - 50 && r.ms < TIMEOUT_MS + 10_000, `answered after ${Math.round(r.ms)} ms`);
        await waitFor(() => !isAlive(pid));
        await nextRequestWorks();
        faults.measure(`SIGSTOP: TimeoutError answered after ${Math.round(r.ms)} ms (timeout ${TIMEOUT_MS} ms)`);
        faults.count('faultsSurvived');
        faults.count('requestsHeld', 2);
        return `${seen}, details.timeoutMs=${TIMEOUT_MS}; worker gone; next request 200`;
      },
    );
  });

  test('SIGKILL to an idle worker: replaced, requests keep working', async () => {
    await faults.check('SIGKILL to an idle worker', 'replaced by a new worker; the next requests 200', async () => {
      const before = server.workers();
      assert.equal(before.length, 2);
      process.kill(before[0]!, 'SIGKILL');
      await waitFor(() => server.workers().length === 2 && !server.workers().includes(before[0]!), 15_000);
      for (let i = 0; i < 2; i++)
        expectEmbedding(await api.post(generatePath(smallId), { force_regenerate: true }), DIMS);
      faults.count('faultsSurvived');
      faults.count('requestsHeld', 2);
      return 'new worker pid in `pgrep -P`; 2 of 2 requests 200';
    });
  });

  test('the server process is unharmed', async () => {
    await faults.check('server after all the faults above', '/readyz 200, still the same process', async () => {
      const r = await api.get('/readyz');
      assert.equal(r.status, 200, r.text);
      assert.ok(server.alive());
      faults.measure(`server RSS after the faults: ${server.rssMb()} MiB`);
      return '/readyz 200, same pid';
    });
  });

  test('SIGTERM to the server during a request: graceful shutdown', async () => {
    await faults.check(
      'SIGTERM to the server while a worker runs a request',
      'the request in flight completes 200; the server exits 0 within 5 s; its workers exit (no orphans)',
      async () => {
        const { reply } = await busyWorker();
        const workers = server.workers();
        const started = performance.now();
        const stopping = server.stop(5_000);
        const r = await reply;
        const seen = outcome(r);
        expectEmbedding(r, DIMS);
        const exit = await stopping;
        // The client keeps its connection alive, as browsers and HTTP client libraries do.
        assert.deepEqual(
          exit,
          { code: 0, signal: null },
          `the server was still running 5 s after SIGTERM (killed: ${JSON.stringify(exit)}); a keep-alive connection holds app.close()`,
        );
        assert.ok(workers.every((p) => !isAlive(p)));
        faults.measure(`SIGTERM: server exited ${Math.round(performance.now() - started)} ms after the signal`);
        faults.count('requestsHeld');
        return `in-flight request ${seen}; exit code 0; workers gone`;
      },
    );
  });
});

describe('memory recycling over HTTP', () => {
  let ws: Workspace;
  let server: ServerProcess;
  let api: Api;
  const ids: number[] = [];

  before(async () => {
    ws = await workspace('recycle');
    for (const n of [1, 2, 3, 4, 5, 6]) await writeMedia(ws.mediaRoot, `faces/${n}.jpg`, await smallFace(n));
    server = await ServerProcess.start({
      databaseUrl: `sqlite:${path.join(ws.dir, 'faceembed.db')}`,
      mediaRoot: ws.mediaRoot,
      modelsDir: ws.modelsDir,
      cwd: ws.dir,
      env: { FACEEMBED_LOG_LEVEL: 'debug', FACEEMBED_WORKERS: '2', FACEEMBED_WORKER_MAX_RSS_MB: '64' },
    });
    api = new Api(server.baseUrl);
    for (const n of [1, 2, 3, 4, 5, 6]) ids.push(await api.register(`faces/${n}.jpg`));
  });
  after(async () => {
    await server?.stop();
    await ws?.close();
  });

  test('every job recycles its worker; every request succeeds', async () => {
    const startPids = server.workers();
    const workerRss = startPids.map(rssMb);
    recycling.measure(`RSS of the workers once their models are loaded: ${workerRss.join(' and ')} MiB (limit 64 MiB)`);
    const from = server.logs.length;
    const embedded = (since: number) =>
      server.logs
        .slice(since)
        .filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Embedding generated successfully'));
    const jobPids = (since: number) => embedded(since).map((l) => l.pid!);
    /** Worker tasks that embedded since then (a batch sends several crops per task). */
    const tasks = (since: number) => new Set(embedded(since).map((l) => l.jobId)).size;
    let batchTasks = 0;

    await recycling.check(
      '4 requests one after another',
      '4 x 200, each on a new worker process (pids all differ)',
      async () => {
        for (const id of ids.slice(0, 4))
          expectEmbedding(await api.post(generatePath(id), { force_regenerate: true }), DIMS);
        await waitFor(() => jobPids(from).length >= 4); // the log can trail the HTTP answer
        const pids = jobPids(from);
        assert.equal(pids.length, 4);
        assert.equal(new Set(pids).size, 4, `jobs ran on ${pids.join(',')}`);
        recycling.count('requestsHeld', 4);
        return '4 x 200 on 4 distinct worker pids';
      },
    );

    await recycling.check(
      'a batch of 6 crops',
      'all 6 "generated", no failure; each worker task (several crops) on its own worker',
      async () => {
        const since = server.logs.length;
        const r = await api.post(BATCH, { face_crop_ids: ids, force_regenerate: true });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual((r.json as { summary: unknown }).summary, { generated: 6, existing: 0, failed: 0 });
        await waitFor(() => jobPids(since).length >= 6);
        batchTasks = tasks(since);
        assert.ok(batchTasks < 6, `the crops went several per task (${batchTasks} tasks)`);
        assert.equal(new Set(jobPids(since)).size, batchTasks, 'every task ran on a worker of its own');
        recycling.count('requestsHeld');
        return `summary {generated: 6, existing: 0, failed: 0}; ${batchTasks} tasks on ${batchTasks} distinct worker pids`;
      },
    );

    await recycling.check(
      'workers after the recycling',
      'every retired worker exited; 2 workers in service; /metrics counts one recycle-rss per task',
      async () => {
        const used = new Set(jobPids(from));
        await waitFor(() => [...used].every((p) => !isAlive(p)), 15_000);
        await waitFor(
          () => server.workers().length === 2 && server.workers().every((p) => !startPids.includes(p) && !used.has(p)),
          15_000,
        );
        const metrics = await api.get('/metrics');
        const recycled = Number(/faceembed_worker_restarts_total\{cause="recycle-rss"\} (\d+)/.exec(metrics.text)?.[1]);
        assert.equal(
          recycled,
          4 + batchTasks,
          metrics.text
            .split('\n')
            .filter((l) => l.includes('restarts'))
            .join('\n'),
        );
        assert.equal(/faceembed_worker_restarts_total\{cause="crash"\} (\d+)/.exec(metrics.text)?.[1], '0');
        recycling.count('faultsSurvived', recycled);
        return `${recycled} recycled, one per task (faceembed_worker_restarts_total{cause="recycle-rss"} ${recycled}), 0 crashes; 2 fresh workers`;
      },
    );
  });
});
