import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignmentWeight, greedyAssignment, maxWeightAssignment } from '../../src/domain/assignment.js';

/** Every one-to-one assignment, the best total (exhaustive; small sizes only). */
function bruteForce(w: number[][]): number {
  const cols = w[0]?.length ?? 0;
  const go = (r: number, taken: Set<number>): number => {
    if (r === w.length) return 0;
    let best = go(r + 1, taken); // row left out
    for (let c = 0; c < cols; c++) {
      if (taken.has(c) || w[r]![c]! <= 0) continue;
      taken.add(c);
      best = Math.max(best, w[r]![c]! + go(r + 1, taken));
      taken.delete(c);
    }
    return best;
  };
  return go(0, new Set());
}

const rng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

test('greedy is not optimal where the Hungarian method is', () => {
  const w = [
    [0.99, 0.98],
    [0.97, 0],
  ];
  assert.deepEqual(greedyAssignment(w), [0, -1]);
  assert.deepEqual(maxWeightAssignment(w), [1, 0]);
});

test('pairs of weight 0 or less are never assigned; empty inputs', () => {
  assert.deepEqual(
    maxWeightAssignment([
      [0, -1],
      [0, 0],
    ]),
    [-1, -1],
  );
  assert.deepEqual(maxWeightAssignment([]), []);
  assert.deepEqual(maxWeightAssignment([[], []]), [-1, -1]);
});

test('random rectangular matrices: one-to-one and as heavy as the exhaustive optimum', () => {
  const rand = rng(7);
  for (let trial = 0; trial < 300; trial++) {
    const rows = 1 + Math.floor(rand() * 6);
    const cols = 1 + Math.floor(rand() * 6);
    const w = Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rand() < 0.4 ? 0 : rand())));
    const a = maxWeightAssignment(w);
    const used = a.filter((c) => c >= 0);
    assert.equal(new Set(used).size, used.length, 'a column is used twice');
    assert.ok(a.every((c, r) => c < 0 || w[r]![c]! > 0));
    assert.ok(Math.abs(assignmentWeight(w, a) - bruteForce(w)) < 1e-9, JSON.stringify(w));
  }
});
