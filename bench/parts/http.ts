// Through the HTTP API: a real `faceembed serve` child process (SQLite, its own media root and
// port), crops registered by path, then the batch endpoint and one-at-a-time requests, always
// with force_regenerate so every answer is fresh work.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from './free-port.js';
import {
  BIN,
  REPO,
  cpuWindow,
  cycle,
  latency,
  mapLimited,
  settle,
  sleep,
  throughput,
  waitQuiet,
  type Latency,
  type Throughput,
} from './common.js';
import { efficiencyOf, stagesInLog, type Efficiency, type StageTotals } from './network-time.js';

export interface ServerHandle {
  baseUrl: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  mediaRoot: string;
  workDir: string;
  modelsDir?: string;
  /** More FACEEMBED_* settings. */
  env?: Record<string, string>;
}

/** Starts the server (log level info, as deployed; its log goes to a file) and waits for /readyz. */
export async function startServer(opts: ServerOptions): Promise<ServerHandle> {
  const port = await freePort();
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEEMBED_')));
  const logFile = path.join(opts.workDir, `server-${port}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [BIN, 'serve'], {
      cwd: opts.workDir,
      stdio: ['ignore', fd, fd],
      env: {
        ...inherited,
        FACEEMBED_HOST: '127.0.0.1',
        FACEEMBED_PORT: String(port),
        FACEEMBED_DATABASE_URL: `sqlite:${path.join(opts.workDir, `bench-${port}.db`)}`,
        FACEEMBED_MEDIA_ROOT: opts.mediaRoot,
        FACEEMBED_MODELS_DIR: opts.modelsDir ?? path.join(REPO, 'data/models'),
        FACEEMBED_LOG_LEVEL: 'info',
        ...opts.env,
      },
    });
  } finally {
    closeSync(fd);
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = stopper(child);
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`faceembed serve exited with code ${child.exitCode}; see ${logFile}`);
    const ok = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`faceembed serve not ready within 120 s; see ${logFile}`);
    }
    await sleep(100);
  }
  return { baseUrl, pid: child.pid!, logFile, stop };
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
export function stopper(child: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

const CROPS = '/api/attendance/face-crops/';

/** Registers each file (relative to the media root) `times` times; ids in file order, repeated. */
export async function registerCrops(server: ServerHandle, relPaths: readonly string[], times = 1): Promise<number[]> {
  const todo = cycle(relPaths, relPaths.length * times);
  return mapLimited(
    todo,
    4,
    async (p) => (await post<{ id: number }>(`${server.baseUrl}${CROPS}`, { image_path: p })).id,
  );
}

interface BatchReply {
  results: { face_crop_id: number; status: string; error?: { type: string; message: string } }[];
  summary: { generated: number; existing: number; failed: number };
}

/**
 * One batch request over `ids` (at most 1000 per request, the API's limit), force_regenerate true.
 * Efficiency from the server's embedding log lines, over its `workers` lanes and the requests' wall time.
 */
export async function httpBatch(
  server: ServerHandle,
  ids: readonly number[],
  model: string,
  repeats: number,
  workers: number,
): Promise<Throughput & Efficiency & { errors: string[] }> {
  const { stages, wallMs, errors, ...t } = await httpBatchRun(server, ids, model, repeats);
  return { ...t, ...efficiencyOf(stages, workers, wallMs), errors };
}

/** httpBatch's figures before efficiency: the stages the server logged for these requests and their wall time. */
export async function httpBatchRun(
  server: ServerHandle,
  ids: readonly number[],
  model: string,
  repeats: number,
): Promise<Throughput & { stages: StageTotals; wallMs: number; errors: string[] }> {
  const errors = new Set<string>();
  const logAt = (await stat(server.logFile)).size;
  let wallMs = 0;
  let failedAll = 0;
  const t = await throughput(ids.length, repeats, async () => {
    let failed = 0;
    const t0 = performance.now();
    for (let i = 0; i < ids.length; i += 1000) {
      const reply = await post<BatchReply>(`${server.baseUrl}${CROPS}generate-embeddings-batch/`, {
        face_crop_ids: ids.slice(i, i + 1000),
        model_name: model,
        force_regenerate: true,
      });
      failed += reply.summary.failed;
      for (const r of reply.results) if (r.error) errors.add(`${r.error.type}: ${r.error.message}`);
    }
    wallMs += performance.now() - t0;
    failedAll += failed;
    return failed;
  });
  // The server's logger writes asynchronously: wait (up to 2 s) for every embedding's line.
  const expected = ids.length * repeats - failedAll;
  let seen = await stagesInLog(server.logFile, logAt);
  for (let tries = 0; seen.faces < expected && tries < 20; tries++) {
    await sleep(100);
    seen = await stagesInLog(server.logFile, logAt);
  }
  return { ...t, stages: { faces: seen.faces, ms: seen.ms }, wallMs, errors: [...errors].slice(0, 5) };
}

/** generate-embedding requests one after another (force_regenerate true); the first `warmup` are not counted. */
export async function httpSingle(
  server: ServerHandle,
  ids: readonly number[],
  model: string,
  count: number,
  warmup = 8,
): Promise<Latency> {
  const ms: number[] = [];
  const one = (id: number) =>
    post(`${server.baseUrl}${CROPS}${id}/generate-embedding/`, { model_name: model, force_regenerate: true });
  for (const id of ids.slice(0, warmup)) await one(id);
  if (settle.limitMs > 0) await waitQuiet(settle.limitMs);
  const stop = cpuWindow();
  for (const id of cycle(ids, count)) {
    const t0 = performance.now();
    await one(id);
    ms.push(performance.now() - t0);
  }
  return latency(ms, stop());
}
