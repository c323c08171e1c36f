// EmbeddingService over the real worker module: isolation, parity of the two modes, batches, faults.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import pino from 'pino';
import type { FaceembedError } from '../../src/errors.js';
import { createLogger } from '../../src/logging/logger.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import { sample } from '../helpers/paths.js';
import { childPids, waitFor } from '../helpers/processes.js';

let service: EmbeddingService;
let tmp: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'faceembed-service-'));
  service = new EmbeddingService({ modelName: 'facenet', workers: 2, logger: createLogger('silent') });
  await service.ready();
});
after(() => service.close());

test('workers are child processes of this process, and this process never loads onnxruntime', async () => {
  const pids = service.stats().pids;
  assert.equal(pids.length, 2);
  assert.deepEqual([...childPids(process.pid)].filter((p) => pids.includes(p)).sort(), [...pids].sort());
  await service.generateEmbedding(sample(1));
  const maps = readFileSync(`/proc/${process.pid}/maps`, 'utf8');
  assert.ok(!/onnxruntime/i.test(maps), 'the parent mapped an onnxruntime library');
  assert.ok(/onnxruntime/i.test(readFileSync(`/proc/${pids[0]}/maps`, 'utf8')), 'the worker runs onnxruntime');
});

test('a mixed batch gives nulls exactly where the inputs were bad, in input order', async () => {
  const text = path.join(tmp, 'text.jpg');
  await writeFile(text, 'not an image');
  const out = await service.generateEmbeddingsBatch([
    sample(1),
    path.join(tmp, 'missing.jpg'),
    sample(2),
    text,
    sample(3),
  ]);
  assert.deepEqual(
    out.map((e) => (e ? e.dimensions : null)),
    [128, null, 128, null, 128],
  );
  assert.ok(out[0]!.embedding instanceof Float32Array);
});

/** A debug logger that hands every line (pool lines carry the worker's pid and the task's jobId) to `onLine`. */
function lineLogger(onLine: (line: { msg?: string; pid?: number; jobId?: number }) => void) {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) onLine(JSON.parse(line) as { msg?: string });
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}

test('embedEach: several images per task, each answered once with its embedding or its typed error', async () => {
  const text = path.join(tmp, 'text2.jpg');
  await writeFile(text, 'not an image');
  const images = new Map<number, number>();
  const s = new EmbeddingService({
    modelName: 'facenet',
    workers: 2,
    logger: lineLogger((l) => {
      if (l.msg?.startsWith('Image: ') && l.jobId !== undefined) images.set(l.jobId, (images.get(l.jobId) ?? 0) + 1);
    }),
  });
  try {
    const paths = [
      sample(1),
      path.join(tmp, 'missing.jpg'),
      sample(2),
      text,
      sample(3),
      sample(4),
      sample(5),
      sample(6),
    ];
    const heard: number[] = [];
    const out = await s.embedEach(
      paths.map((imagePath) => ({ imagePath })),
      {},
      (i) => void heard.push(i),
    );
    assert.deepEqual(
      out.map((r) => (r instanceof Error ? (r as FaceembedError).type : r.dimensions)),
      [128, 'FileNotFoundError', 128, 'ImageDecodeError', 128, 128, 128, 128],
    );
    assert.deepEqual(
      [...heard].sort((a, b) => a - b),
      paths.map((_, i) => i),
    );
    assert.ok(Math.max(...images.values()) > 1, `images per task: ${JSON.stringify([...images.values()])}`);
  } finally {
    await s.close();
  }
});

test('a poisoned image that kills its worker every time fails alone (WorkerCrashedError); the rest of its task embeds', async () => {
  const poison = path.join(tmp, 'poison.jpg');
  await copyFile(sample(4), poison);
  let kills = 0;
  const s = new EmbeddingService({
    modelName: 'facenet',
    workers: 2,
    logger: lineLogger((l) => {
      if (l.msg === `Image: ${poison}` && l.pid !== undefined) {
        process.kill(l.pid, 'SIGKILL');
        kills++;
      }
    }),
  });
  try {
    const paths = [sample(1), sample(2), sample(3), poison, sample(5), sample(6), sample(1), sample(2)];
    const out = await s.embedEach(paths.map((imagePath) => ({ imagePath })));
    assert.deepEqual(
      out.map((r) => (r instanceof Error ? (r as FaceembedError).type : r.dimensions)),
      [128, 128, 128, 'WorkerCrashedError', 128, 128, 128, 128],
    );
    // Its task twice (the pool's retry), then the image alone twice.
    assert.equal(kills, 4);
  } finally {
    await s.close();
  }
});

test('a batch larger than the queue limit waits its turn instead of overflowing', async () => {
  const small = new EmbeddingService({
    modelName: 'facenet',
    workers: 1,
    queueLimit: 1,
    logger: createLogger('silent'),
  });
  try {
    const out = await small.generateEmbeddingsBatch(Array.from({ length: 10 }, (_, i) => sample((i % 6) + 1)));
    assert.deepEqual(
      out.map((e) => e?.dimensions),
      Array(10).fill(128),
    );
  } finally {
    await small.close();
  }
});

test('rejections carry a documented error type; unknown models are ValueError', async () => {
  await assert.rejects(
    service.generateEmbedding(path.join(tmp, 'missing.jpg')),
    (e: FaceembedError) => e.type === 'FileNotFoundError',
  );
  await assert.rejects(
    service.generateEmbedding(sample(1), { modelName: 'nope' }),
    (e: FaceembedError) => e.type === 'ValueError',
  );
});

test('per-request isolation (a fresh process per embedding) gives the same vector as the pool', async () => {
  const perRequest = new EmbeddingService({
    modelName: 'facenet',
    isolation: 'per-request',
    logger: createLogger('silent'),
  });
  try {
    const [a, b] = await Promise.all([service.generateEmbedding(sample(4)), perRequest.generateEmbedding(sample(4))]);
    assert.equal(a.modelVersion, b.modelVersion);
    assert.ok(EmbeddingService.calculateSimilarity(a, b) > 0.999999);
    await assert.rejects(
      perRequest.generateEmbedding(path.join(tmp, 'missing.jpg')),
      (e: FaceembedError) => e.type === 'FileNotFoundError',
    );
    assert.equal(perRequest.stats().workers, 0);
  } finally {
    await perRequest.close();
  }
});

test('a worker killed mid-job with SIGKILL: the job is retried on a fresh worker and the service keeps serving', async () => {
  const before = service.stats();
  const job = service.generateEmbeddingsBatch(Array.from({ length: 12 }, (_, i) => sample((i % 6) + 1)));
  await waitFor(() => service.stats().busy > 0);
  const victim = service.stats().pids[0]!;
  process.kill(victim, 'SIGKILL');
  const out = await job;
  assert.ok(
    out.every((e) => e?.dimensions === 128),
    'every job succeeded, the killed one on retry',
  );
  await waitFor(() => service.stats().workers === 2 && !service.stats().pids.includes(victim));
  assert.ok(service.stats().restarts.crash! > (before.restarts.crash ?? 0));
  assert.equal((await service.generateEmbedding(sample(5))).dimensions, 128);
});

test('close() leaves no child process', async () => {
  const s = new EmbeddingService({ modelName: 'facenet', workers: 2, logger: createLogger('silent') });
  await s.ready();
  const pids = s.stats().pids;
  await s.close();
  const alive = [...childPids(process.pid)].filter((p) => pids.includes(p));
  assert.deepEqual(alive, []);
});
