// `faceembed bench search`: the distribution option reaches the benchmark and is named in every row.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { benchSearch } from '../../src/search/search-bench.js';
import { BIN, REPO } from '../helpers/paths.js';

const exec = promisify(execFile);

for (const [distribution, named] of [
  ['uniform', 'uniform'],
  ['faces', 'faces:facenet'],
] as const) {
  test(`bench search --distribution ${distribution} --json prints one row per index kind, naming it`, async () => {
    const { stdout } = await exec(
      BIN,
      ['bench', 'search', '--vectors', '1500', '--queries', '20', '--distribution', distribution, '--json'],
      { cwd: REPO },
    );
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: string; distribution: string; vectors: number; recall_at_1: number });
    assert.deepEqual(
      rows.map((r) => [r.index, r.distribution, r.vectors]),
      [
        ['exact', named, 1500],
        ['hnsw', named, 1500],
      ],
    );
    assert.equal(rows[0]!.recall_at_1, 1, 'exact is its own truth');
  });
}

test('bench search refuses an unknown distribution with its name', async () => {
  const failed = await exec(BIN, ['bench', 'search', '--vectors', '100', '--distribution', 'gaussian'], {
    cwd: REPO,
  }).then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  assert.ok(failed && failed.code !== 0);
  assert.match(failed.stderr, /--distribution must be faces, faces:<model> or uniform/);
});

test('the graph settings asked for are the ones measured, one row per expansion', () => {
  const rows = benchSearch({
    vectors: 1200,
    dims: 32,
    queries: 10,
    distribution: 'faces:facenet',
    hnsw: { connectivity: 8, quantization: 'f16' },
    expansions: [200, 300],
  });
  assert.deepEqual(
    rows.map((r) => [r.index, r.connectivity, r.quantization, r.expansion]),
    [
      ['exact', null, null, null],
      ['hnsw', 8, 'f16', 200],
      ['hnsw', 8, 'f16', 300],
    ],
  );
  assert.ok(rows.every((r) => r.distribution === 'faces:facenet' && r.dims === 32));
});
