// Jobs against the synchronous batch, on the same crops in one run (issue 15):
//   npm run bench -- --jobs [--jobs-crops 5000] [--out docs/benchmarks-jobs.md]
// One SQLite database and media root; N small face photos (160 px, six face-api samples under
// many names) registered once. Then, each with force_regenerate: the synchronous batch (1000 ids
// a request), an embedded job, and BullMQ jobs with 1 and 2 `faceembed worker-node` processes
// and a server that runs none itself (FACEEMBED_SERVER_RUNS_JOBS=false). Every node has the
// same pool as the server of the first two variants (workers and threads per worker), so a node
// does what that server does; two nodes on one machine share its cores. The BullMQ keys (under
// a prefix of this run) and every process started are removed at the end, whatever happens.
// Prints a Markdown section; `--out` writes it to a file.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { threadsPerWorker } from '../src/config/config.js';
import { redisOptions } from '../src/queue/bullmq-job-engine.js';
import { BIN, REPO, cpuSeconds, load1, round, say, sleep } from './parts/common.js';
import { withSection } from './parts/doc-sections.js';
import { registerCrops, startServer, type ServerHandle } from './parts/http.js';

const QUEUE = process.env.FACEEMBED_BENCH_QUEUE_URL ?? 'redis://127.0.0.1:6379/5';
const SAMPLES = path.join(REPO, 'node_modules/@vladmandic/face-api/demo');

interface Row {
  variant: string;
  seconds: number;
  perSecond: number;
  firstProgressMs: number | null;
  overheadMsPerItem: number | null;
  /** CPU of the server process itself (not its workers) per crop: what the orchestration costs. */
  serverCpuMsPerItem: number | null;
}

/** How often `job` polls GET jobs/{id}/: the fast poll of a progress bar, and a slow one. */
const FAST_POLL_MS = 20;
const SLOW_POLL_MS = 500;

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function syncBatch(server: ServerHandle, ids: readonly number[]): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ids.length; i += 1000) {
    const r = await post(`${server.baseUrl}/api/attendance/face-crops/generate-embeddings-batch/`, {
      face_crop_ids: ids.slice(i, i + 1000),
      force_regenerate: true,
    });
    if (r.status !== 200) throw new Error(`batch answered ${r.status}`);
  }
  return performance.now() - started;
}

/** Starts an async job and polls it every `pollMs`: total and first-progress times (ms). */
async function job(
  server: ServerHandle,
  ids: readonly number[],
  pollMs = FAST_POLL_MS,
): Promise<{ ms: number; firstMs: number }> {
  const started = performance.now();
  const r = await post(`${server.baseUrl}/api/attendance/face-crops/generate-embeddings-batch/`, {
    face_crop_ids: ids,
    force_regenerate: true,
    async: true,
  });
  if (r.status !== 202) throw new Error(`async batch answered ${r.status}: ${JSON.stringify(r.json)}`);
  let firstMs = NaN;
  for (;;) {
    const res = await fetch(`${server.baseUrl}/api/attendance/jobs/${String(r.json.id)}/`);
    const body = (await res.json()) as { status: string; progress: { done: number; failed: number } };
    if (Number.isNaN(firstMs) && body.progress.done + body.progress.failed > 0) firstMs = performance.now() - started;
    if (body.status === 'completed') {
      if (body.progress.failed) throw new Error(`${body.progress.failed} items failed`);
      return { ms: performance.now() - started, firstMs };
    }
    if (body.status !== 'queued' && body.status !== 'running') throw new Error(`job ended ${body.status}`);
    await sleep(pollMs);
  }
}

/** `faceembed worker-node` with its log in a file; resolves once it says it is ready. */
async function startNode(env: Record<string, string>, workDir: string): Promise<() => Promise<void>> {
  const logFile = path.join(workDir, `node-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
  const fd = openSync(logFile, 'a');
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEEMBED_')));
  const child = spawn(process.execPath, [BIN, 'worker-node'], {
    cwd: workDir,
    stdio: ['ignore', fd, fd],
    // Its "worker node ready" line is logged at info.
    env: { ...inherited, ...env, FACEEMBED_LOG_LEVEL: 'info' },
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  while (!readFileSync(logFile, 'utf8').includes('"worker node ready"')) {
    if (child.exitCode !== null) throw new Error(`worker-node exited; see ${logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker-node not ready in 120 s; see ${logFile}`);
    }
    await sleep(100);
  }
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
}

/** Deletes every Redis key under `prefix` (the queue's and anything else of this run); returns how many. */
async function dropKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis({ ...redisOptions(url), lazyConnect: true, retryStrategy: () => null });
  try {
    await redis.connect();
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) removed += await redis.del(...keys);
    } while (cursor !== '0');
    return removed;
  } finally {
    redis.disconnect();
  }
}

export async function runJobsBench(opts: { crops: number; out?: string }): Promise<string> {
  if (!Number.isInteger(opts.crops) || opts.crops < 1) throw new Error(`--jobs-crops must be a positive integer`);
  const cores = os.availableParallelism();
  // The one pool every variant runs on: the server's in the first two, each node's in BullMQ.
  const pool = {
    FACEEMBED_WORKERS: String(cores),
    FACEEMBED_THREADS_PER_WORKER: String(threadsPerWorker(cores, cores)),
  };
  const poolText = `${cores} workers x ${pool.FACEEMBED_THREADS_PER_WORKER} thread${pool.FACEEMBED_THREADS_PER_WORKER === '1' ? '' : 's'}`;
  const work = await mkdtemp(path.join(os.tmpdir(), 'faceembed-bench-jobs-'));
  const media = path.join(work, 'media');
  await mkdir(path.join(media, 'crops'), { recursive: true });
  for (const n of [1, 2, 3, 4, 5, 6]) {
    await sharp(path.join(SAMPLES, `sample${n}.jpg`))
      .resize(160)
      .jpeg({ quality: 90 })
      .toFile(path.join(media, `s${n}.jpg`));
  }
  const names = Array.from({ length: opts.crops }, (_, i) => `crops/${i}.jpg`);
  for (const [i, name] of names.entries())
    await copyFile(path.join(media, `s${(i % 6) + 1}.jpg`), path.join(media, name));
  const base = {
    FACEEMBED_DATABASE_URL: `sqlite:${path.join(work, 'jobs.db')}`,
    FACEEMBED_MEDIA_ROOT: media,
    FACEEMBED_MODELS_DIR: path.join(REPO, 'data/models'),
    FACEEMBED_LOG_LEVEL: 'warn',
  };
  const rows: Row[] = [];
  /** Everything started, stopped in the end whatever happens. */
  const running = new Set<() => Promise<void>>();
  const track = <T extends { stop(): Promise<void> }>(p: T): T => {
    running.add(() => p.stop());
    return p;
  };
  const prefixes: string[] = [];
  try {
    say(`jobs bench: ${opts.crops} crops, ${cores} cores, pool ${poolText}, load ${load1()}`);
    let server = track(await startServer({ mediaRoot: media, workDir: work, env: { ...base, ...pool } }));
    const ids = await registerCrops(server, names);
    await syncBatch(server, ids.slice(0, Math.min(200, ids.length))); // warm-up
    /** CPU seconds of the server process over `run`, per crop in ms. */
    const serverCpu = async <T>(run: () => Promise<T>): Promise<[T, number | null]> => {
      const before = cpuSeconds(server.pid, true);
      const out = await run();
      const after = cpuSeconds(server.pid, true);
      return [
        out,
        before === undefined || after === undefined ? null : round(((after - before) * 1000) / opts.crops, 2),
      ];
    };
    const [syncMs, syncCpu] = await serverCpu(() => syncBatch(server, ids));
    say(`sync batch: ${round(syncMs / 1000)} s`);
    const add = (variant: string, ms: number, firstMs: number | null, cpu: number | null = null) =>
      rows.push({
        variant,
        seconds: round(ms / 1000),
        perSecond: round(opts.crops / (ms / 1000), 1),
        firstProgressMs: firstMs === null ? null : Math.round(firstMs),
        overheadMsPerItem: firstMs === null ? null : round((ms - syncMs) / opts.crops, 3),
        serverCpuMsPerItem: cpu,
      });
    add(`synchronous batch (1000 ids a request), server with ${poolText}`, syncMs, null, syncCpu);
    for (const pollMs of [FAST_POLL_MS, SLOW_POLL_MS]) {
      const [embedded, cpu] = await serverCpu(() => job(server, ids, pollMs));
      add(`embedded job polled every ${pollMs} ms, server with ${poolText}`, embedded.ms, embedded.firstMs, cpu);
      say(`embedded job (poll ${pollMs} ms): ${round(embedded.ms / 1000)} s`);
    }
    await server.stop();

    for (const nodes of [1, 2]) {
      const prefix = `bench-jobs-${process.pid}-${nodes}`;
      prefixes.push(prefix);
      const queue = { FACEEMBED_QUEUE_URL: QUEUE, FACEEMBED_QUEUE_PREFIX: prefix };
      // The server only enqueues; its own (idle) pool is one worker.
      server = track(
        await startServer({
          mediaRoot: media,
          workDir: work,
          env: { ...base, ...queue, FACEEMBED_WORKERS: '1', FACEEMBED_SERVER_RUNS_JOBS: 'false' },
        }),
      );
      const stops = await Promise.all(
        Array.from({ length: nodes }, async () => {
          const stop = await startNode({ ...base, ...queue, ...pool }, work);
          running.add(stop);
          return stop;
        }),
      );
      const r = await job(server, ids);
      const shared = nodes > 1 ? `, sharing the ${cores} cores` : '';
      add(`BullMQ job, ${nodes} worker-node${nodes > 1 ? 's' : ''} of ${poolText}${shared}`, r.ms, r.firstMs);
      say(`BullMQ, ${nodes} node${nodes > 1 ? 's' : ''}: ${round(r.ms / 1000)} s`);
      for (const stop of stops) await stop();
      await server.stop();
    }
  } finally {
    for (const stop of running) await stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
    for (const prefix of prefixes) {
      const removed = await dropKeys(QUEUE, prefix).catch((err: unknown) => {
        say(`could not remove the Redis keys under ${prefix}: ${(err as Error).message}`);
        return 0;
      });
      say(`Redis keys under ${prefix} removed: ${removed}`);
    }
  }
  const lines = [
    '## Jobs against the synchronous batch',
    '',
    `Made by \`npm run bench -- --jobs --jobs-crops ${opts.crops}\` on ${new Date().toISOString().slice(0, 10)}: ` +
      `${opts.crops} crops (160 px face photos), facenet, force_regenerate, one SQLite database, ${cores} cores; ` +
      `every variant on the same pool, ${poolText} (in the server, or in each worker node: the BullMQ server, ` +
      'FACEEMBED_SERVER_RUNS_JOBS=false, runs none itself); BullMQ on the local Redis. Overhead per item = (job time - synchronous time) / crops; first progress = ' +
      `time from the 202 to the first finished item visible in \`GET jobs/{id}/\` (polled every ${FAST_POLL_MS} ms unless said); ` +
      'server CPU per item = CPU time of the server process itself (its event loop, SQLite, HTTP; not its workers) / crops.',
    '',
    '| variant | seconds | crops/s | first progress (ms) | overhead per item (ms) | server CPU per item (ms) |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.variant} | ${r.seconds} | ${r.perSecond} | ${r.firstProgressMs ?? '-'} | ${r.overheadMsPerItem ?? '-'} | ${r.serverCpuMsPerItem ?? '-'} |`,
    ),
    '',
    ...cpuNote(rows, cores),
  ];
  const text = `${START}\n${lines.join('\n')}\n${END}`;
  if (opts.out) await writeFile(path.resolve(opts.out), withSection(await readOr(opts.out), JOBS_SECTION, text));
  return text;
}

/**
 * What bounds the embedded engine's overhead, from the server CPU column: the server process
 * shares the cores with its own workers, so its CPU per item is taken from them.
 */
function cpuNote(rows: readonly Row[], cores: number): string[] {
  const [sync, fast, slow] = rows.map((r) => r.serverCpuMsPerItem);
  if (sync == null || fast == null || slow == null) return [];
  return [
    `What bounds the embedded engine's overhead: its server process runs on the same ${cores} cores as its workers. ` +
      `Against the synchronous batch it spends ${round(slow - sync, 2)} ms more CPU per item on its own slices ` +
      `(claims, status checks and outcomes in the database, about a dozen statements per slice of up to 16 items) and ` +
      `${round(fast - slow, 2)} ms more on answering a progress poll every ${FAST_POLL_MS} ms instead of every ${SLOW_POLL_MS} ms ` +
      `(a job polled every ${SLOW_POLL_MS} ms is seen done up to ${SLOW_POLL_MS} ms late).`,
    '',
  ];
}

// The jobs section lives between markers in docs/benchmarks.md: this bench replaces only it, and
// a full `npm run bench` (which rewrites the file) keeps it.
export const JOBS_SECTION = 'jobs-bench';
const START = '<!-- jobs-bench:start -->';
const END = '<!-- jobs-bench:end -->';

const readOr = (file: string): Promise<string> => readFile(path.resolve(file), 'utf8').catch(() => '');
