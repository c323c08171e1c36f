// Workers that cannot boot: ready() and waiting jobs fail typed instead of hanging, restarts
// back off exponentially instead of spinning, and the pool recovers once workers boot again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FaceembedError } from '../../../src/errors.js';
import type { PoolEvent } from '../../../src/inference/pool/pool-options.js';
import { Recorder, childPids, task, makePool } from './harness.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'pool-boot-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const bootCrash = (e: PoolEvent) => e.type === 'restart' && e.cause === 'boot-crash';
const crashedAtBoot = (err: unknown) =>
  err instanceof FaceembedError && err.type === 'WorkerCrashedError' && err.details?.phase === 'boot';

test(
  'a worker that exits during boot: ready() and waiting jobs fail typed, restarts back off',
  { timeout: 30_000 },
  async () => {
    const exits = new Recorder<number>();
    const { pool, log } = makePool('exit-during-boot', {
      backoffInitialMs: 200,
      backoffMaxMs: 5_000,
      onEvent: (e) => (bootCrash(e) ? exits.push(performance.now()) : undefined),
    });
    const waiting = pool.run(task('queued-before-boot')).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    await assert.rejects(pool.ready(), (err: unknown) => {
      assert.ok(crashedAtBoot(err));
      assert.match((err as Error).message, /exit code 3: fatal: cannot load models/);
      assert.equal((err as FaceembedError).details?.exitCode, 3);
      return true;
    });
    assert.ok(crashedAtBoot(await waiting), 'the job waiting for a worker failed typed');
    await assert.rejects(pool.run(task('while-broken')), crashedAtBoot, 'no worker can boot: fail fast');
    const stderr = await log.waitFor((e) => e.fields.stream === 'stderr');
    assert.equal(stderr.msg, 'fatal: cannot load models');
    assert.equal(stderr.level, 'warn');

    // After unexpected exit k the pool waits restartDelay(k): 0, 200, 400, 800, 1600 ms.
    await log.waitFor((e) => e.fields.delayMs === 1_600, 10_000);
    const delays = log.filter((e) => e.msg === 'Workers keep dying; delaying restart').map((e) => e.fields.delayMs);
    assert.deepEqual(delays, [200, 400, 800, 1_600], 'the delay doubles');
    assert.equal(exits.items.length, 5);
    assert.equal(pool.stats().restarts['boot-crash'], 5);
    const gaps = exits.items.slice(1).map((at, i) => at - (exits.items[i] ?? 0));
    assert.ok(
      (gaps[1] ?? 0) >= 195 && (gaps[2] ?? 0) >= 395 && (gaps[3] ?? 0) >= 795,
      `gaps between exits: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`,
    );

    await pool.close(); // during a backoff wait: the timer is cleared, so this test process can exit
    assert.deepEqual(childPids(), []);
  },
);

test('an init() that throws reports its typed cause', { timeout: 20_000 }, async (t) => {
  const { pool } = makePool('exit-during-boot', { args: ['--throw'] });
  t.after(() => pool.close());
  await assert.rejects(pool.ready(), (err: unknown) => {
    assert.ok(crashedAtBoot(err));
    assert.deepEqual((err as FaceembedError).details?.cause, { type: 'ValueError', message: 'Unknown model "nope"' });
    assert.match((err as Error).message, /init failed: ValueError: Unknown model "nope"/);
    assert.equal((err as FaceembedError).details?.exitCode, 1);
    return true;
  });
});

test('a worker that never reports ready is killed after bootTimeoutMs', { timeout: 20_000 }, async (t) => {
  const { pool } = makePool('exit-during-boot', { args: ['--hang'], bootTimeoutMs: 300 });
  t.after(() => pool.close());
  await assert.rejects(pool.ready(), (err: unknown) => {
    assert.ok(crashedAtBoot(err));
    assert.match((err as Error).message, /no ready message within 300 ms/);
    assert.equal((err as FaceembedError).details?.signal, 'SIGKILL');
    return true;
  });
});

test('the pool recovers once workers boot again', { timeout: 20_000 }, async (t) => {
  const marker = path.join(tmp, 'models-ready');
  const { pool, events } = makePool('exit-during-boot', { args: ['--until', marker], backoffInitialMs: 50 });
  t.after(() => pool.close());
  await assert.rejects(pool.ready(), crashedAtBoot);
  await events.waitFor(bootCrash, 10_000, 1);
  writeFileSync(marker, '');
  await events.waitFor((e) => e.type === 'worker-ready');
  const out = await pool.run(task('after-recovery'));
  assert.equal(out.input, 'after-recovery');
  assert.equal(pool.stats().idle, 1);
});

test("a module path that does not exist fails ready() with Node's own reason", { timeout: 20_000 }, async (t) => {
  const { pool } = makePool('echo', { modulePath: path.join(tmp, 'no-such-worker.js') });
  t.after(() => pool.close());
  await assert.rejects(pool.ready(), (err: unknown) => {
    assert.ok(crashedAtBoot(err));
    assert.match((err as Error).message, /exit code 1: Error: Cannot find module '.*no-such-worker\.js'/);
    return true;
  });
});
