// The quality maths and the review rule: pose from five points, Laplacian variance, and which
// matches a person should confirm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { laplacianVariance } from '../../src/detect/face-sharpness.js';
import { needsReview, poseFromLandmarks, qualityRank, UNKNOWN_QUALITY } from '../../src/domain/face-quality.js';
import type { FivePoints } from '../../src/domain/face.js';

const frontal: FivePoints = [
  [38, 52],
  [74, 52],
  [56, 72],
  [42, 92],
  [70, 92],
];

test('a frontal, level face has yaw and roll 0; a nose towards one eye is a turned head; a tilted eye line is roll', () => {
  const level = poseFromLandmarks(frontal);
  assert.ok(Math.abs(level.yaw) < 1e-9 && Math.abs(level.roll) < 1e-9);
  const turned = poseFromLandmarks([frontal[0], frontal[1], [65, 72], frontal[3], frontal[4]]);
  assert.ok(turned.yaw > 20 && turned.yaw < 35, String(turned.yaw)); // atan(2 * 0.25) = 26.6 degrees
  const mirrored = poseFromLandmarks([frontal[0], frontal[1], [47, 72], frontal[3], frontal[4]]);
  assert.ok(Math.abs(mirrored.yaw + turned.yaw) < 1e-9);
  const tilted = poseFromLandmarks([
    [38, 52],
    [74, 88],
    [40, 80],
    [30, 100],
    [50, 110],
  ]);
  assert.ok(Math.abs(tilted.roll - 45) < 1e-9);
});

test('the Laplacian variance is 0 on a flat image and grows with edges', () => {
  const flat = new Float32Array(16 * 16).fill(100);
  assert.equal(laplacianVariance(flat, 16, 16), 0);
  const stripes = Float32Array.from({ length: 16 * 16 }, (_, i) => (i % 2 ? 200 : 0));
  const soft = Float32Array.from({ length: 16 * 16 }, (_, i) => (i % 2 ? 120 : 80));
  assert.ok(laplacianVariance(stripes, 16, 16) > laplacianVariance(soft, 16, 16));
  assert.ok(laplacianVariance(soft, 16, 16) > 0);
});

test('review: a close call or a small face; a clear match on a good face is not', () => {
  const policy = { minWidthPx: 36, minSharpness: 10, margin: 0.01 };
  const good = { widthPx: 80, sharpness: 50, yaw: 0, roll: 0 };
  assert.equal(needsReview(good, 0.96, 0.932, policy), false);
  assert.equal(needsReview(good, 0.935, 0.932, policy), true);
  assert.equal(needsReview({ ...good, widthPx: 30 }, 0.99, 0.932, policy), true);
  assert.equal(needsReview({ ...good, sharpness: 5 }, 0.99, 0.932, policy), true);
  // Unknown quality (a crop not cut from a photo) is judged by the similarity alone.
  assert.equal(needsReview(UNKNOWN_QUALITY, 0.99, 0.932, policy), false);
});

test('quality rank: larger, sharper and more frontal faces first', () => {
  const base = { widthPx: 60, sharpness: 100, yaw: 0, roll: 0 };
  assert.ok(qualityRank({ ...base, widthPx: 120 }) > qualityRank(base));
  assert.ok(qualityRank({ ...base, sharpness: 300 }) > qualityRank(base));
  assert.ok(qualityRank({ ...base, yaw: 40 }) < qualityRank(base));
});
