import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_SCAN,
  containedShare,
  mergeCandidates,
  planScan,
  toPhoto,
  windowStarts,
  type ScanCandidate,
} from '../../src/detect/photo-scan.js';

test('windows start at 0, end flush with the image and overlap by at least window - stride', () => {
  assert.deepEqual(windowStarts(500, 640, 480), [0]);
  assert.deepEqual(windowStarts(640, 640, 480), [0]);
  for (const length of [641, 1000, 2000, 3000, 4000, 6000]) {
    const xs = windowStarts(length, 640, 480);
    assert.equal(xs[0], 0);
    assert.equal(xs.at(-1)! + 640, length);
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i - 1]! + 640 - xs[i]! >= 160, `overlap at ${length}`);
  }
});

test('the pyramid starts where a minFaceSize face is minFaceInWindow wide and ends in one window', () => {
  const levels = planScan(4000, 3000, { ...DEFAULT_SCAN, minFaceSize: 48, minFaceInWindow: 24 });
  assert.deepEqual([levels[0]!.width, levels[0]!.height], [2000, 1500]);
  const last = levels.at(-1)!;
  assert.ok(last.width <= 640 && last.height <= 640);
  assert.deepEqual(last.windows, [{ x: 0, y: 0 }]);
  for (let i = 1; i < levels.length; i++) assert.ok(Math.abs(levels[i - 1]!.width / levels[i]!.width - 3) < 0.01);
  // Windows tile every level: 4 x 3 windows over 2000 x 1500.
  assert.equal(levels[0]!.windows.length, 12);
  // Small faces never upscale the photo; a photo that fits one window is never shrunk.
  assert.equal(planScan(800, 600, { ...DEFAULT_SCAN, minFaceSize: 10 })[0]!.width, 800);
  assert.deepEqual(
    planScan(600, 400, { ...DEFAULT_SCAN, minFaceSize: 48 }).map((l) => l.width),
    [600],
  );
  assert.equal(planScan(1000, 750, { ...DEFAULT_SCAN, minFaceSize: 48 })[0]!.width, 640);
  assert.throws(() => planScan(800, 600, { ...DEFAULT_SCAN, minFaceSize: 0 }), RangeError);
});

test('window faces map to photo pixels and know when an inner window edge cut them', () => {
  const level = { width: 2000, height: 1500, windows: [] };
  const photo = { width: 4000, height: 3000 };
  const face = {
    rect: [10, 20, 50, 80] as [number, number, number, number],
    score: 0.9,
    landmarks: [[30, 40]] as [number, number][],
  };
  const [a] = toPhoto([face], { x: 480, y: 0 }, level, photo);
  assert.deepEqual(a!.rect, [(490 + 0.5) * 2 - 0.5, 40.5, 1060.5, 160.5]);
  assert.deepEqual(a!.landmarks[0], [1020.5, 80.5]);
  assert.equal(a!.cut, false);
  const edge = { ...face, rect: [1, 20, 50, 80] as [number, number, number, number] };
  assert.equal(toPhoto([edge], { x: 480, y: 0 }, level, photo)[0]!.cut, true, 'left edge inside the level');
  assert.equal(toPhoto([edge], { x: 0, y: 0 }, level, photo)[0]!.cut, false, 'left edge is the photo border');
  const bottom = { ...face, rect: [10, 600, 50, 640] as [number, number, number, number] };
  assert.equal(toPhoto([bottom], { x: 0, y: 0 }, level, photo)[0]!.cut, true);
  assert.equal(toPhoto([bottom], { x: 0, y: 860 }, level, photo)[0]!.cut, false);
});

const cand = (rect: [number, number, number, number], score: number, cut = false): ScanCandidate => ({
  rect,
  score,
  landmarks: [],
  cut,
});

test('a half face cut by a window gives way to the whole face even at low IoU; NMS removes duplicates', () => {
  const whole = cand([100, 100, 200, 220], 0.95);
  const half = cand([150, 100, 200, 220], 0.99, true); // IoU 0.5 x ... here 0.5; share inside whole = 1
  const shifted = cand([104, 102, 204, 222], 0.9); // duplicate of whole
  const other = cand([400, 100, 480, 200], 0.8);
  const cutAlone = cand([700, 100, 740, 200], 0.85, true); // nothing whole holds it: kept
  assert.equal(containedShare(half.rect, whole.rect), 1);
  const faces = mergeCandidates([half, whole, shifted, other, cutAlone], { width: 1000, height: 1000 });
  assert.deepEqual(
    faces.map((f) => f.box),
    [
      [100, 100, 100, 120],
      [700, 100, 40, 100],
      [400, 100, 80, 100],
    ],
  );
});

test('merged boxes are clipped to the photo', () => {
  const [face] = mergeCandidates([cand([-10, -5, 50, 60], 0.9)], { width: 40, height: 40 });
  assert.deepEqual(face!.box, [0, 0, 40, 40]);
});
