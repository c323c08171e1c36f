import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mirrorRgb } from '../../src/detect/resample.js';
import { wantsFlip } from '../../src/inference/worker/embed-chip.js';

test('mirrorRgb swaps columns, keeps each pixel whole, and twice is the identity', () => {
  const size = 3;
  const chip = Uint8Array.from({ length: size * size * 3 }, (_, i) => i);
  const m = mirrorRgb(chip, size);
  // Row 0: pixels (0,1,2) become (2,1,0).
  assert.deepEqual([...m.subarray(0, 9)], [6, 7, 8, 3, 4, 5, 0, 1, 2]);
  assert.deepEqual(mirrorRgb(m, size), chip);
  assert.throws(() => mirrorRgb(chip, 4), /4x4/);
});

test('flip-averaging applies to upsampled chips only, unless always or never', () => {
  const shrink = [2, 0, 10, 0, 2, 10] as [number, number, number, number, number, number];
  const enlarge = [0.4, 0.3, 10, -0.3, 0.4, 10] as [number, number, number, number, number, number]; // scale 0.5, rotated
  assert.equal(wantsFlip('upsampled', shrink), false);
  assert.equal(wantsFlip('upsampled', enlarge), true);
  assert.equal(wantsFlip('always', shrink), true);
  assert.equal(wantsFlip('never', enlarge), false);
});
