// Workers that die, hang or fail: crashes are retried once on another process, handled errors
// never, timeouts kill the worker; in every case the job settles typed and the pool keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FaceembedError } from '../../../src/errors.js';
import { task, isGone, makePool, pollUntil } from './harness.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'pool-crash-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function rejection(p: Promise<unknown>): Promise<FaceembedError> {
  const err = await p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof FaceembedError, `typed error, got ${String(err)}`);
  return err;
}

for (const signal of ['SIGKILL', 'SIGABRT', 'SIGSEGV'] as const) {
  test(
    `a busy worker killed with ${signal}: the job is retried on a fresh worker and succeeds`,
    { timeout: 20_000 },
    async (t) => {
      const { pool, log, events } = makePool('crash-on-demand');
      t.after(() => pool.close());
      await pool.ready();
      const job = pool.run(task(`block-once:${path.join(tmp, signal)}`), { fields: { requestId: signal } });
      const blocking = await log.waitFor((e) => e.msg === 'blocking');
      const pid = blocking.fields.pid as number;
      assert.deepEqual(pool.stats().pids, [pid]);
      process.kill(pid, signal);

      const out = await job;
      assert.ok(out.vector instanceof Float32Array);
      assert.notEqual(out.pid, pid, 'answered by another process');
      assert.ok(isGone(pid));
      const died = log.filter((e) => e.msg?.startsWith('Worker died') === true);
      assert.equal(died.length, 1);
      assert.equal(died[0]?.fields.signal, signal, `${signal} is reported as the exit signal`);
      assert.equal(died[0]?.fields.exitCode, null);
      assert.equal(died[0]?.fields.requestId, signal, 'the crash log names the job');
      assert.equal(events.filter((e) => e.type === 'retry').length, 1);
      assert.deepEqual(
        events.filter((e) => e.type === 'job').map((e) => e.type === 'job' && [e.outcome, e.attempts]),
        [['ok', 2]],
      );
      assert.equal(pool.stats().restarts.crash, 1);
      assert.equal((await pool.run(task('next'))).input, 'next');
    },
  );
}

test(
  'a job whose worker is killed on both attempts fails with WorkerCrashedError; the pool keeps serving',
  { timeout: 20_000 },
  async (t) => {
    const { pool, log } = makePool('hang', { workers: 2 });
    t.after(() => pool.close());
    await pool.ready();
    const job = pool.run(task('x'));
    const first = await log.jobStarted(0);
    process.kill(first.fields.pid as number, 'SIGKILL');
    const second = await log.jobStarted(1);
    assert.notEqual(second.fields.pid, first.fields.pid);
    process.kill(second.fields.pid as number, 'SIGKILL');
    const err = await rejection(job);
    assert.equal(err.type, 'WorkerCrashedError');
    assert.equal(err.statusCode, 500);
    assert.deepEqual(
      { ...err.details, workerId: typeof err.details?.workerId },
      { workerId: 'number', pid: second.fields.pid, exitCode: null, signal: 'SIGKILL', attempts: 2 },
    );
    await pollUntil(() => pool.stats().idle === 2, 5_000);
    assert.equal(pool.stats().restarts.crash, 2);
    assert.equal(pool.stats().workers, 2);
  },
);

test(
  'a worker that crashes itself (SIGSEGV, exit code 3) fails the job typed after one retry',
  { timeout: 20_000 },
  async (t) => {
    const { pool, log } = makePool('crash-on-demand', { workers: 2 });
    t.after(() => pool.close());
    await pool.ready();
    const segv = await rejection(pool.run(task('crash:SIGSEGV')));
    assert.equal(segv.type, 'WorkerCrashedError');
    assert.equal(segv.details?.signal, 'SIGSEGV');
    assert.equal(segv.details?.exitCode, null);
    assert.equal(segv.details?.attempts, 2);
    assert.match(segv.message, /signal SIGSEGV/);
    assert.equal(log.filter((e) => e.msg === 'job started').length, 2, 'tried exactly twice');

    const exit = await rejection(pool.run(task('exit:3')));
    assert.equal(exit.type, 'WorkerCrashedError');
    assert.equal(exit.details?.exitCode, 3);
    assert.equal(exit.details?.signal, null);
    assert.match(exit.message, /exit code 3/);

    assert.equal((await pool.run(task('still-serving'))).input, 'still-serving');
    assert.equal(pool.stats().restarts.crash, 4);
  },
);

test('a handled error from the worker is not retried and the worker stays', { timeout: 20_000 }, async (t) => {
  const { pool, log, events } = makePool('crash-on-demand');
  t.after(() => pool.close());
  await pool.ready();
  const [pid] = pool.stats().pids;
  const err = await rejection(pool.run(task('throw:FileNotFoundError')));
  assert.equal(err.type, 'FileNotFoundError');
  assert.equal(err.statusCode, 422);
  assert.deepEqual(err.details, { path: 'throw:FileNotFoundError' });
  assert.match(err.stack ?? '', /crash-on-demand/, 'the worker-side traceback is kept');
  assert.equal(log.filter((e) => e.msg === 'job started').length, 1);
  assert.equal(events.filter((e) => e.type === 'retry' || e.type === 'restart').length, 0);
  const out = await pool.run(task('ok'));
  assert.equal(out.pid, pid, 'the same worker serves the next job');
});

test('a SIGSTOPped worker: the job times out, the worker is SIGKILLed and replaced', { timeout: 20_000 }, async (t) => {
  const { pool, events } = makePool('echo', { timeoutMs: 500 });
  t.after(() => pool.close());
  await pool.ready();
  const [pid] = pool.stats().pids;
  assert.ok(pid !== undefined);
  process.kill(pid, 'SIGSTOP');
  const started = performance.now();
  const err = await rejection(pool.run(task('stopped')));
  const waited = performance.now() - started;
  assert.equal(err.type, 'TimeoutError');
  assert.equal(err.statusCode, 504);
  assert.equal(err.details?.timeoutMs, 500);
  assert.equal(err.details?.pid, pid);
  assert.ok(waited >= 490 && waited < 5_000, `timed out after ${waited.toFixed(0)} ms`);
  assert.ok(await pollUntil(() => isGone(pid), 2_000), 'the stopped worker was killed');
  assert.equal(pool.stats().restarts.timeout, 1);
  assert.equal(events.filter((e) => e.type === 'restart' && e.cause === 'timeout' && e.pid === pid).length, 1);
  const out = await pool.run(task('after'));
  assert.notEqual(out.pid, pid);
});

test('a job that never answers times out and its worker is replaced', { timeout: 20_000 }, async (t) => {
  const { pool, log } = makePool('hang', { timeoutMs: 300 });
  t.after(() => pool.close());
  await pool.ready();
  const err = await rejection(pool.run(task('forever')));
  assert.equal(err.type, 'TimeoutError');
  const pid = (await log.jobStarted()).fields.pid as number;
  assert.ok(await pollUntil(() => isGone(pid), 2_000));
  assert.ok(await pollUntil(() => pool.stats().idle === 1, 5_000), 'a replacement became ready');
  assert.notEqual(pool.stats().pids[0], pid);
});

test('an idle worker that dies is replaced at once and nothing fails', { timeout: 20_000 }, async (t) => {
  const { pool, events } = makePool('echo');
  t.after(() => pool.close());
  await pool.ready();
  const [pid] = pool.stats().pids;
  assert.ok(pid !== undefined);
  process.kill(pid, 'SIGKILL');
  await events.waitFor((e) => e.type === 'restart' && e.cause === 'crash' && e.pid === pid);
  const ready = await events.waitFor((e) => e.type === 'worker-ready' && e.pid !== pid);
  const out = await pool.run(task('after-idle-crash'));
  assert.equal(ready.type === 'worker-ready' && ready.pid, out.pid);
  assert.equal(events.filter((e) => e.type === 'job' && e.outcome !== 'ok').length, 0);
});
