import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ScoreHistogram,
  openSetAt,
  openSetAtFar,
  tarAt,
  tarAtFar,
  tenFold,
  thresholdAtFar,
  type FoldedPair,
} from '../../bench/parts/lfw-metrics.js';

const fp = (score: number, same: boolean, fold: number): FoldedPair => ({ score, same, fold });

test('tenFold tests each fold at the best threshold of the others', () => {
  // Folds 0 and 1 separate (same >= 0.6, different <= 0.38); fold 2 has a same pair at 0.45 that
  // the threshold from folds 0-1 (midpoint of (0.38, 0.6]: 0.49) rejects.
  const pairs = [
    fp(0.9, true, 0),
    fp(0.6, true, 0),
    fp(0.38, false, 0),
    fp(0.1, false, 0),
    fp(0.8, true, 1),
    fp(0.7, true, 1),
    fp(0.3, false, 1),
    fp(0.2, false, 1),
    fp(0.9, true, 2),
    fp(0.45, true, 2),
    fp(0.35, false, 2),
    fp(0.0, false, 2),
  ];
  const r = tenFold(pairs);
  assert.equal(r.folds.length, 3);
  assert.ok(Math.abs(r.thresholds[2]! - 0.49) < 1e-12);
  assert.equal(r.folds[2], 0.75);
  // Fold 0 from folds 1-2: (0.35, 0.45] -> 0.4; fold 1 from folds 0 and 2: (0.38, 0.45] -> 0.415.
  assert.ok(Math.abs(r.thresholds[0]! - 0.4) < 1e-12);
  assert.ok(Math.abs(r.thresholds[1]! - 0.415) < 1e-12);
  assert.equal(r.folds[0], 1);
  assert.equal(r.folds[1], 1);
  const mean = (1 + 1 + 0.75) / 3;
  assert.ok(Math.abs(r.mean - mean) < 1e-12);
  const std = Math.sqrt(((1 - mean) ** 2 * 2 + (0.75 - mean) ** 2) / 3);
  assert.ok(Math.abs(r.std - std) < 1e-12);
  assert.throws(() => tenFold([fp(0.5, true, 0)]), RangeError);
});

test('ScoreHistogram counts scores at or above a threshold on the 0.001 grid exactly', () => {
  const h = new ScoreHistogram().addAll([0.1, 0.2, 0.2, 0.3, 0.30001, 0.2999, -1, 1, 5]);
  assert.equal(h.total, 9);
  assert.equal(h.atLeast(0.3), 4); // 0.3, 0.30001, 1, 5 (clamped to 1)
  assert.equal(h.atLeast(0.2), 7);
  assert.equal(h.atLeast(0.301), 2);
  assert.equal(h.atLeast(-1), 9);
  assert.equal(h.rateAtLeast(1), 2 / 9);
  const m = new ScoreHistogram().addAll([0.5, -0.5]);
  assert.ok(Math.abs(m.mean()) < 1e-4);
  assert.ok(Math.abs(m.std() - 0.5) < 1e-4);
});

test('thresholdAtFar picks the lowest grid threshold whose FAR is within the target', () => {
  // 1000 impostors at 0.000, 0.001, ..., 0.999: FAR(t) = (1000 - 1000 t) / 1000 on the grid.
  const scores = Array.from({ length: 1000 }, (_, i) => i / 1000);
  const h = new ScoreHistogram().addAll(scores);
  const at1e2 = thresholdAtFar(h, 1e-2);
  // At most 10 of 1000 may pass: t = 0.990 lets 0.990..0.999 (10) through.
  assert.equal(at1e2.threshold, 0.99);
  assert.equal(at1e2.falseAccepts, 10);
  assert.equal(at1e2.far, 0.01);
  // At most 1 may pass: 0.999 alone.
  assert.equal(thresholdAtFar(h, 1e-3).threshold, 0.999);
  // None may pass: just above the highest score.
  assert.equal(thresholdAtFar(h, 1e-4).threshold, 1);
  assert.equal(thresholdAtFar(h, 1e-4).falseAccepts, 0);
  // Ties: ten impostors at 0.8 and 990 at 0: a target of 5/1000 must step above the tie.
  const tied = new ScoreHistogram().addAll([...Array(10).fill(0.8), ...Array(990).fill(0)]);
  assert.equal(thresholdAtFar(tied, 5e-3).threshold, 0.801);
  assert.equal(thresholdAtFar(tied, 1e-2).threshold, 0.001);
});

test('tarAt and tarAtFar: same-person pairs accepted at the FAR threshold', () => {
  const impostors = new ScoreHistogram().addAll(Array.from({ length: 100 }, (_, i) => i / 200)); // 0 .. 0.495
  const genuine = [0.2, 0.45, 0.49, 0.5, 0.7, 0.9];
  assert.equal(tarAt(genuine, 0.5), 0.5);
  const r = tarAtFar(genuine, impostors, 0.01);
  // One impostor (0.495) may pass: the lowest 1e-5 grid threshold keeping 0.490 out is 0.49001.
  assert.ok(Math.abs(r.threshold - 0.49001) < 1e-9);
  assert.equal(r.falseAccepts, 1);
  assert.equal(r.tar, 0.5);
  const none = tarAtFar(genuine, impostors, 0.001);
  assert.ok(Math.abs(none.threshold - 0.49501) < 1e-9);
  assert.equal(none.falseAccepts, 0);
  assert.equal(none.tar, 0.5);
});

test('openSetAtFar: DIR counts correct top matches above the non-mated threshold', () => {
  const nonMated = [0.9, 0.5, 0.4, 0.3, 0.3, 0.2, 0.1, 0.1, 0.0, -0.1];
  const mated = [
    { score: 0.95, correct: true },
    { score: 0.6, correct: true },
    { score: 0.55, correct: false }, // wrong person: never counts
    { score: 0.45, correct: true },
    { score: 0.35, correct: true },
  ];
  // FAR 0.1: one non-mated probe (0.9) may pass, threshold = next score 0.5 (strictly above passes).
  const a = openSetAtFar(mated, nonMated, 0.1);
  assert.equal(a.threshold, 0.5);
  assert.equal(a.far, 0.1);
  assert.equal(a.dir, 2 / 5);
  // FAR 0.01: none may pass: threshold 0.9; only the 0.95 probe.
  const b = openSetAtFar(mated, nonMated, 0.01);
  assert.equal(b.threshold, 0.9);
  assert.equal(b.far, 0);
  assert.equal(b.dir, 1 / 5);
  // FAR 0.3: three may pass (0.9, 0.5, 0.4): threshold 0.3, tied 0.3s stay out.
  const c = openSetAtFar(mated, nonMated, 0.3);
  assert.equal(c.threshold, 0.3);
  assert.equal(c.far, 0.3);
  assert.equal(c.dir, 4 / 5);
  // At a given threshold, accepted at >= it (the service's rule).
  const d = openSetAt(mated, nonMated, 0.45, NaN, true);
  assert.equal(d.dir, 3 / 5);
  assert.equal(d.far, 0.2);
  assert.throws(() => openSetAtFar([], nonMated, 0.1), RangeError);
});
