import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestThreshold, confusionAt, rocAuc, roundedInside, type ScoredPair } from '../../bench/accuracy-metrics.js';

const pair = (score: number, same: boolean): ScoredPair => ({ score, same });

// Deterministic pseudo-random scores (mulberry32), so a failure can be replayed.
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function noisyPairs(seed: number, n: number): ScoredPair[] {
  const rnd = random(seed);
  // Scores on a coarse grid so that ties between same and different pairs occur.
  return Array.from({ length: n }, () => {
    const same = rnd() < 0.4;
    const score = Math.round(((same ? 0.3 : -0.1) + rnd() * 0.7) * 50) / 50;
    return pair(score, same);
  });
}

test('confusionAt counts accepts at score >= threshold and both error kinds', () => {
  const pairs = [pair(0.9, true), pair(0.5, true), pair(0.5, false), pair(0.2, false), pair(0.1, true)];
  assert.deepEqual(confusionAt(pairs, 0.5), { pairs: 5, correct: 3, accuracy: 0.6, falseAccepts: 1, falseRejects: 1 });
  assert.deepEqual(confusionAt(pairs, 0.51), { pairs: 5, correct: 3, accuracy: 0.6, falseAccepts: 0, falseRejects: 2 });
  assert.equal(confusionAt(pairs, -1).falseAccepts, 2);
});

test('bestThreshold on separable pairs returns the gap between the classes and its midpoint', () => {
  const pairs = [pair(0.2, false), pair(0.35, false), pair(0.7, true), pair(0.9, true)];
  const best = bestThreshold(pairs);
  assert.equal(best.accuracy, 1);
  assert.equal(best.low, 0.35);
  assert.equal(best.high, 0.7);
  assert.equal(best.threshold, (0.35 + 0.7) / 2);
  assert.equal(confusionAt(pairs, best.threshold).accuracy, 1);
});

test('bestThreshold picks the widest of two separate best runs', () => {
  // One misplaced different pair at 0.8: thresholds in (0.3, 0.6] and (0.8, 0.85] both make one error.
  const pairs = [
    pair(0.1, false),
    pair(0.3, false),
    pair(0.6, true),
    pair(0.8, false),
    pair(0.85, true),
    pair(0.95, true),
  ];
  const best = bestThreshold(pairs);
  assert.equal(best.accuracy, 5 / 6);
  assert.deepEqual([best.low, best.high], [0.3, 0.6]);
});

test('bestThreshold merges adjacent runs split by a tied same/different score', () => {
  const pairs = [pair(0.1, false), pair(0.4, true), pair(0.4, false), pair(0.9, true)];
  // Below 0.4 or between 0.4 and 0.9 both give 3 of 4; the run spans (0.1, 0.9].
  const best = bestThreshold(pairs);
  assert.equal(best.accuracy, 0.75);
  assert.deepEqual([best.low, best.high], [0.1, 0.9]);
});

test('bestThreshold reaches the best accuracy found by brute force over a fine grid', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const pairs = noisyPairs(seed, 60);
    const best = bestThreshold(pairs);
    let brute = 0;
    for (let t = -1; t <= 1.0001; t += 0.001) brute = Math.max(brute, confusionAt(pairs, t).accuracy);
    assert.equal(best.accuracy, brute, `seed ${seed}`);
    assert.equal(confusionAt(pairs, best.threshold).accuracy, best.accuracy, `seed ${seed}: midpoint`);
    assert.equal(confusionAt(pairs, best.high).accuracy, best.accuracy, `seed ${seed}: high end is inside`);
  }
});

test('rocAuc equals the pairwise probability with ties counted half', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const pairs = noisyPairs(seed, 50);
    const pos = pairs.filter((p) => p.same);
    const neg = pairs.filter((p) => !p.same);
    let wins = 0;
    for (const p of pos) for (const n of neg) wins += p.score > n.score ? 1 : p.score === n.score ? 0.5 : 0;
    assert.ok(Math.abs(rocAuc(pairs) - wins / (pos.length * neg.length)) < 1e-12, `seed ${seed}`);
  }
  assert.equal(rocAuc([pair(0.1, false), pair(0.9, true)]), 1);
  assert.equal(rocAuc([pair(0.9, false), pair(0.1, true)]), 0);
  assert.ok(Number.isNaN(rocAuc([pair(0.5, true)])));
});

test('roundedInside rounds the midpoint but never leaves the best run', () => {
  assert.equal(roundedInside({ accuracy: 1, low: 0.5, high: 0.7, threshold: 0.6000004 }), 0.6);
  // A run narrower than the rounding step keeps the exact midpoint.
  const narrow = { accuracy: 1, low: 0.60011, high: 0.60014, threshold: 0.600125 };
  assert.equal(roundedInside(narrow), 0.600125);
});
