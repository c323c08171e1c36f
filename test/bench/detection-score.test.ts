import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchFaces, recallByWidth } from '../../bench/detection/score.js';
import type { Box } from '../../src/domain/face.js';

test('matching is one-to-one by best IoU; unmatched detections are false', () => {
  const truth: Box[] = [
    [0, 0, 100, 100],
    [200, 0, 50, 50],
    [400, 400, 30, 30],
  ];
  const found: Box[] = [
    [5, 5, 100, 100], // truth 0
    [0, 0, 90, 110], // also truth 0, weaker: false
    [205, 0, 45, 55], // truth 1
    [800, 800, 40, 40], // nothing
  ];
  const s = matchFaces(truth, found);
  assert.deepEqual(s.hit, [true, true, false]);
  assert.equal(s.falseDetections, 2);
  assert.equal(s.ious.length, 2);
});

test('recall is counted per width bin, bounds [lo, hi)', () => {
  const bins = recallByWidth([
    { width: 24, hit: true },
    { width: 31.9, hit: false },
    { width: 32, hit: true },
    { width: 150, hit: true },
  ]);
  const of = (lo: number, hi: number) => bins.find((b) => b.bin[0] === lo && b.bin[1] === hi)!;
  assert.deepEqual([of(24, 32).faces, of(24, 32).found], [2, 1]);
  assert.deepEqual([of(32, 48).faces, of(32, 48).found], [1, 1]);
  assert.deepEqual([of(40, 200).faces, of(40, 200).found], [1, 1]);
});
