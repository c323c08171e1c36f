// The pool's everyday behaviour with real child processes: round trips, logging, the bounded
// queue, aborts and close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { FaceembedError } from '../../../src/errors.js';
import type { PoolLogger } from '../../../src/inference/pool/pool-options.js';
import { WorkerPool } from '../../../src/inference/pool/worker-pool.js';
import { childPids, task, fixture, isGone, makePool, pollUntil } from './harness.js';

/** The rejection reason (or a marker on success), observed at once so no rejection goes unhandled. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved' as const,
    (err: unknown) => err,
  );
const isType = (type: string) => (err: unknown) => err instanceof FaceembedError && err.type === type;

test(
  'a Float32Array crosses IPC both ways intact; worker logs carry workerId, pid, jobId and caller fields',
  { timeout: 20_000 },
  async (t) => {
    const { pool, log, events } = makePool('echo', { workers: 2 });
    t.after(() => pool.close());
    await pool.ready();
    const stats = pool.stats();
    assert.equal(stats.workers, 2);
    assert.equal(stats.idle, 2);
    assert.equal(stats.pids.length, 2);
    assert.deepEqual(childPids().sort(), [...stats.pids].sort(), 'workers are children of this process');

    const out = await pool.run(task('face-01.jpg'), { fields: { requestId: 'req-7' } });
    assert.ok(out.vector instanceof Float32Array, 'still a Float32Array after the round trip');
    assert.deepEqual(
      Array.from(out.vector),
      Array.from('face-01.jpg', (c) => Math.fround(c.charCodeAt(0) / 256)),
    );
    assert.equal(out.input, 'face-01.jpg');
    assert.ok(stats.pids.includes(out.pid));

    const line = await log.jobStarted();
    assert.equal(line.level, 'debug', 'per-step worker lines are debug');
    assert.equal(line.fields.input, 'face-01.jpg');
    assert.equal(line.fields.requestId, 'req-7');
    assert.equal(line.fields.pid, out.pid);
    assert.equal(typeof line.fields.workerId, 'number');
    assert.equal(typeof line.fields.jobId, 'number');

    assert.equal((await pool.run(task('second'))).input, 'second');
    const outcomes = events.filter((e) => e.type === 'job').map((e) => e.type === 'job' && e.outcome);
    assert.deepEqual(outcomes, ['ok', 'ok']);
  },
);

test('unknown or malformed options are rejected together, before any process starts', () => {
  const before = childPids().length;
  const logger: PoolLogger = { debug() {}, info() {}, warn() {}, error() {} };
  assert.throws(
    () =>
      new WorkerPool({
        modulePath: fixture('echo'),
        workers: 0,
        queueLimit: 1,
        timeoutMs: -5,
        maxJobsPerWorker: 1,
        maxRssMb: 100,
        logger,
        ...({ worker: 2 } as object),
      }),
    (err: unknown) => {
      assert.ok(isType('ValueError')(err));
      const problems = (err as FaceembedError).details?.problems as string[];
      assert.equal(problems.length, 3, JSON.stringify(problems));
      assert.match(
        problems.find((p) => p.startsWith('option "worker":'))!,
        /Unexpected property/,
      );
      assert.match(
        problems.find((p) => p.startsWith('option "workers":'))!,
        /greater or equal to 1/,
      );
      assert.match(
        problems.find((p) => p.startsWith('option "timeoutMs":'))!,
        /greater than 0/,
      );
      return true;
    },
  );
  assert.equal(childPids().length, before);
});

test(
  'a full queue rejects with OverloadedError; close() rejects waiting and running jobs typed and leaves no child',
  { timeout: 20_000 },
  async (t) => {
    const { pool, log } = makePool('crash-on-demand', { queueLimit: 2, shutdownGraceMs: 300 });
    t.after(() => pool.close());
    await pool.ready();
    const running = outcome(pool.run(task('block')));
    await log.waitFor((e) => e.msg === 'blocking');
    const waiting = [outcome(pool.run(task('a'))), outcome(pool.run(task('b')))];
    assert.equal(pool.stats().queued, 2);
    await assert.rejects(pool.run(task('c')), (err: unknown) => {
      assert.ok(isType('OverloadedError')(err));
      assert.equal((err as FaceembedError).statusCode, 429);
      return true;
    });
    assert.equal(pool.stats().queued, 2, 'the refused job was not queued');

    const [pid] = pool.stats().pids;
    const started = performance.now();
    await pool.close();
    const closeMs = performance.now() - started;
    assert.ok(closeMs >= 290, `the blocked worker got its grace period (${closeMs.toFixed(0)} ms)`);
    for (const job of waiting) {
      const err = await job;
      assert.ok(isType('InternalError')(err));
      assert.equal((err as FaceembedError).details?.reason, 'pool-closed');
    }
    const err = await running;
    assert.ok(isType('InternalError')(err));
    assert.equal((err as FaceembedError).details?.reason, 'pool-closed');
    assert.equal((err as FaceembedError).details?.signal, 'SIGKILL');
    assert.ok(pid !== undefined && isGone(pid));
    assert.deepEqual(childPids(), []);
    await assert.rejects(pool.run(task('late')), isType('InternalError'));
    await pool.close(); // idempotent
  },
);

test(
  'aborting a waiting job removes it; aborting a running job kills and replaces its worker',
  { timeout: 20_000 },
  async (t) => {
    const { pool, log, events } = makePool('crash-on-demand');
    t.after(() => pool.close());
    await pool.ready();
    const runningCtl = new AbortController();
    const waitingCtl = new AbortController();
    const running = pool.run(task('block'), { signal: runningCtl.signal });
    const blocking = await log.waitFor((e) => e.msg === 'blocking');
    const waiting = pool.run(task('w'), { signal: waitingCtl.signal });
    assert.equal(pool.stats().queued, 1);

    waitingCtl.abort(new FaceembedError('TimeoutError', 'client deadline'));
    await assert.rejects(
      waiting,
      (err: unknown) => isType('TimeoutError')(err) && (err as Error).message === 'client deadline',
    );
    assert.equal(pool.stats().queued, 0);
    assert.equal(pool.stats().busy, 1, 'the running job was not touched');

    runningCtl.abort();
    await assert.rejects(
      running,
      (err: unknown) => isType('InternalError')(err) && (err as FaceembedError).details?.reason === 'aborted',
    );
    const pid = blocking.fields.pid as number;
    assert.ok(await pollUntil(() => isGone(pid), 2_000), "the aborted job's worker was killed");
    assert.equal(pool.stats().restarts.abort, 1);
    assert.ok(events.filter((e) => e.type === 'restart' && e.cause === 'abort').length === 1);

    const out = await pool.run(task('after'));
    assert.notEqual(out.pid, pid);
    await assert.rejects(pool.run(task('x'), { signal: AbortSignal.abort() }), isType('InternalError'));
  },
);

test('close() ends every worker and leaves no child process', { timeout: 20_000 }, async () => {
  const { pool } = makePool('echo', { workers: 3 });
  await pool.ready();
  await Promise.all(Array.from({ length: 9 }, (_, i) => pool.run(task(`img-${i}`))));
  const { pids } = pool.stats();
  assert.equal(pids.length, 3);
  await pool.close();
  assert.ok(pids.every(isGone));
  assert.deepEqual(childPids(), []);
  assert.equal(pool.stats().workers, 0);
});

test('a pino logger receives the forwarded worker lines', { timeout: 20_000 }, async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const pool = new WorkerPool({
    modulePath: fixture('echo'),
    workers: 1,
    queueLimit: 1,
    timeoutMs: 5_000,
    maxJobsPerWorker: 10,
    maxRssMb: 512,
    logger,
  });
  t.after(() => pool.close());
  await pool.run(task('p.jpg'), { fields: { requestId: 'r1' } });
  const started = lines.find((l) => l.msg === 'job started');
  assert.ok(started, 'worker log line reached pino');
  assert.equal(started.requestId, 'r1');
  assert.equal(started.pid, pool.stats().pids[0]);
  assert.equal(started.level, 20);
});
