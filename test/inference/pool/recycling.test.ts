// Recycling: after maxJobsPerWorker jobs or past maxRssMb the worker finishes its job, shuts
// down, and a new process takes over, without failing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childPids, task, isGone, makePool, pollUntil } from './harness.js';

test('after maxJobsPerWorker jobs the worker is replaced and nothing fails', { timeout: 30_000 }, async (t) => {
  const { pool, log } = makePool('echo', { maxJobsPerWorker: 3 });
  t.after(() => pool.close());
  await pool.ready();
  const servedBy: number[] = [];
  for (let i = 0; i < 7; i++) servedBy.push((await pool.run(task(`seq-${i}`))).pid);
  const [a, b, c] = [servedBy[0], servedBy[3], servedBy[6]];
  assert.deepEqual(servedBy, [a, a, a, b, b, b, c]);
  assert.equal(new Set([a, b, c]).size, 3, 'three different processes');
  assert.equal(pool.stats().restarts['recycle-jobs'], 2);
  assert.ok(await pollUntil(() => isGone(a ?? -1) && isGone(b ?? -1), 5_000), 'recycled workers exited');
  const exits = log.filter((e) => e.msg === 'Worker exited');
  assert.deepEqual(
    exits.map((e) => [e.fields.exitCode, e.fields.signal, e.fields.reason]),
    [
      [0, null, 'recycle-jobs'],
      [0, null, 'recycle-jobs'],
    ],
    'they shut down cleanly, not by SIGKILL',
  );
  assert.equal(log.filter((e) => e.level === 'error').length, 0);
});

test('concurrent jobs across recycling workers all succeed', { timeout: 30_000 }, async (t) => {
  const { pool, events } = makePool('echo', { workers: 2, maxJobsPerWorker: 2, queueLimit: 20 });
  t.after(() => pool.close());
  const outs = await Promise.all(Array.from({ length: 12 }, (_, i) => pool.run(task(`par-${i}`))));
  outs.forEach((out, i) => assert.equal(out.input, `par-${i}`));
  const jobsByPid = new Map<number | undefined, number>();
  for (const out of outs) jobsByPid.set(out.pid, (jobsByPid.get(out.pid) ?? 0) + 1);
  assert.ok(
    [...jobsByPid.values()].every((n) => n <= 2),
    'no process served more than 2 jobs',
  );
  // Which workers end with a single job depends on scheduling; every one that served 2 was recycled.
  assert.equal(pool.stats().restarts['recycle-jobs'], [...jobsByPid.values()].filter((n) => n === 2).length);
  assert.ok(
    events.filter((e) => e.type === 'job').every((e) => e.type === 'job' && e.outcome === 'ok' && e.attempts === 1),
  );
  await pool.close();
  assert.deepEqual(childPids(), []);
});

test('a worker whose RSS passes maxRssMb is recycled after its job', { timeout: 30_000 }, async (t) => {
  const { pool, log } = makePool('leak', { maxRssMb: 120 });
  t.after(() => pool.close());
  await pool.ready();
  const first = await pool.run(task('leak:0'));
  const baselineMb = (await log.jobStarted(0)).fields.rssMb as number;
  assert.ok(baselineMb < 100, `a fresh worker uses ${baselineMb} MB`);
  const servedBy = [first.pid];
  for (let i = 1; pool.stats().restarts['recycle-rss'] === 0; i++) {
    assert.ok(i <= 12, 'RSS recycling never happened');
    servedBy.push((await pool.run(task('leak:16'))).pid);
  }
  const recycle = await log.waitFor((e) => e.msg === 'Recycling worker (recycle-rss)');
  assert.ok((recycle.fields.rssMb as number) > 120, `recycled at ${String(recycle.fields.rssMb)} MB`);
  assert.equal(recycle.fields.pid, first.pid);
  const next = await pool.run(task('leak:0'));
  assert.notEqual(next.pid, first.pid, 'a new process took over');
  assert.ok(
    servedBy.every((pid) => pid === first.pid),
    'the old worker served until it was recycled',
  );
  assert.ok(await pollUntil(() => isGone(first.pid), 5_000));
});
