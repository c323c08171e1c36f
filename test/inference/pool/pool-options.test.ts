import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceembedError } from '../../../src/errors.js';
import { resolvePoolOptions, restartDelay, type PoolLogger } from '../../../src/inference/pool/pool-options.js';

const logger: PoolLogger = { debug() {}, info() {}, warn() {}, error() {} };
const base = {
  modulePath: '/x.js',
  workers: 2,
  queueLimit: 0,
  timeoutMs: 1000,
  maxJobsPerWorker: 1,
  maxRssMb: 512,
  logger,
};

test('defaults fill the optional options; explicit undefined keeps the default', () => {
  const resolved = resolvePoolOptions({ ...base, shutdownGraceMs: undefined });
  assert.equal(resolved.shutdownGraceMs, 5_000);
  assert.equal(resolved.bootTimeoutMs, 60_000);
  assert.deepEqual(resolved.execArgv, []);
  assert.deepEqual(resolved.args, []);
  assert.equal(resolved.queueLimit, 0);
});

test('every problem is reported at once', () => {
  const bad = { ...base, workers: 1.5, logger: {}, maxRssMb: '512', modulePath: undefined, onEvnet: () => {} };
  assert.throws(
    () => resolvePoolOptions(bad as never),
    (err: unknown) => {
      assert.ok(err instanceof FaceembedError && err.type === 'ValueError');
      const problems = err.details?.problems as string[];
      const named = (key: string, what: RegExp) =>
        assert.ok(
          problems.some((p) => p.startsWith(`option "${key}":`) && what.test(p)),
          `${key} ${what} in ${JSON.stringify(problems)}`,
        );
      named('onEvnet', /Unexpected property/);
      named('modulePath', /Expected required property/);
      named('workers', /Expected integer/);
      named('maxRssMb', /Expected number/);
      for (const method of ['debug', 'info', 'warn', 'error']) named(`logger.${method}`, /Expected function/);
      return true;
    },
  );
});

test('restart delay: none for a first crash, then doubling up to the cap', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8].map((streak) => restartDelay(streak, 100, 1_000)),
    [0, 0, 100, 200, 400, 800, 1_000, 1_000, 1_000],
  );
});
