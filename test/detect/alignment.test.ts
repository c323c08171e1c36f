import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Point } from '../../src/domain/face.js';
import {
  ARCFACE_TEMPLATE,
  LANDMARK_BOX_SCALE,
  applyAffine,
  arcfaceTemplate,
  boxWarp,
  invertAffine,
  landmarkBox,
  similarityTransform,
  templateWarp,
  type Affine,
} from '../../src/detect/alignment.js';

/** Rotation by `angle`, uniform `scale`, then translation. */
function similarity(angle: number, scale: number, tx: number, ty: number): Affine {
  const c = Math.cos(angle) * scale,
    s = Math.sin(angle) * scale;
  return [c, -s, tx, s, c, ty];
}

const sumSquares = (m: Affine, src: readonly Point[], dst: readonly Point[]) =>
  src.reduce((acc, p, i) => {
    const [x, y] = applyAffine(m, p);
    return acc + (x - dst[i]![0]) ** 2 + (y - dst[i]![1]) ** 2;
  }, 0);

test('similarityTransform recovers a known similarity exactly', () => {
  for (const [angle, scale, tx, ty] of [
    [0.3, 2.5, 100, -40],
    [-2.9, 0.37, -5, 800],
    [Math.PI, 1, 0, 0],
    [1e-3, 13, 3.5, 7.25],
  ] as const) {
    const truth = similarity(angle, scale, tx, ty);
    const src = ARCFACE_TEMPLATE.map((p) => [p[0] * 3 + 17, p[1] * 2.5 - 9] as Point); // not a similarity of the template
    const dst = src.map((p) => applyAffine(truth, p));
    const found = similarityTransform(src, dst);
    found.forEach((v, i) =>
      assert.ok(
        Math.abs(v - truth[i]!) < 1e-9 * Math.max(1, Math.abs(truth[i]!)),
        `coefficient ${i}: ${v} vs ${truth[i]}`,
      ),
    );
  }
});

test('similarityTransform is the least-squares optimum and never mirrors', () => {
  // Noisy correspondences: any nudge of the estimate must not lower the squared error.
  const truth = similarity(0.4, 1.7, 20, 30);
  const noise = [
    [0.8, -1.1],
    [-0.5, 0.3],
    [1.2, 0.9],
    [-0.7, -0.4],
    [0.2, 1.3],
  ];
  const src = ARCFACE_TEMPLATE.map((p) => [p[0], p[1]] as Point);
  const dst = src.map((p, i) => {
    const [x, y] = applyAffine(truth, p);
    return [x + noise[i]![0]!, y + noise[i]![1]!] as Point;
  });
  const best = similarityTransform(src, dst);
  const err = sumSquares(best, src, dst);
  assert.ok(err > 0, 'noise leaves a residual');
  for (const [da, ds, dx, dy] of [
    [1e-3, 0, 0, 0],
    [-1e-3, 0, 0, 0],
    [0, 1e-3, 0, 0],
    [0, -1e-3, 0, 0],
    [0, 0, 0.05, 0],
    [0, 0, 0, -0.05],
  ]) {
    const a = Math.atan2(best[3], best[0]) + da!,
      s = Math.hypot(best[0], best[3]) * (1 + ds!);
    assert.ok(sumSquares(similarity(a, s, best[2] + dx!, best[5] + dy!), src, dst) > err);
  }
  // Mirrored points: the best fit is still a rotation (positive determinant).
  const mirrored = src.map(([x, y]) => [-x, y] as Point);
  const m = similarityTransform(src, mirrored);
  assert.ok(m[0] * m[4] - m[1] * m[3] >= 0);
});

test('invertAffine undoes the transform', () => {
  const m: Affine = [1.3, -0.4, 12, 0.7, 2.1, -8];
  const inv = invertAffine(m);
  for (const p of [
    [0, 0],
    [100, -3],
    [-7.5, 42],
  ] as Point[]) {
    const [x, y] = applyAffine(inv, applyAffine(m, p));
    assert.ok(Math.abs(x - p[0]) < 1e-9 && Math.abs(y - p[1]) < 1e-9);
  }
  assert.throws(() => invertAffine([1, 2, 0, 2, 4, 0]), /not invertible/);
});

test('templateWarp sends the scaled template onto the five points', () => {
  const truth = similarity(-0.2, 4.2, 300, 120);
  const points = ARCFACE_TEMPLATE.map((p) => applyAffine(truth, [p[0] / 2, p[1] / 2]));
  // Output -> source: template x2 (a 224 chip) lands on the points.
  const toSource = templateWarp(points, 2);
  arcfaceTemplate(2).forEach((q, i) => {
    const [x, y] = applyAffine(toSource, q);
    assert.ok(Math.hypot(x - points[i]![0], y - points[i]![1]) < 1e-9);
  });
  assert.throws(() => templateWarp(points.slice(0, 4), 1), /5 landmarks/);
});

test('landmarkBox follows face-api alignDlib: square, centroid at 0.5/0.43, size from eye-mouth distance', () => {
  const points: Point[] = [
    [140, 200],
    [220, 196],
    [181, 250],
    [150, 290],
    [214, 288],
  ];
  const [x, y, w, h] = landmarkBox(points, 1);
  assert.equal(w, h);
  const mouth = [(150 + 214) / 2, (290 + 288) / 2];
  const dist = (Math.hypot(mouth[0]! - 140, mouth[1]! - 200) + Math.hypot(mouth[0]! - 220, mouth[1]! - 196)) / 2;
  assert.equal(w, Math.floor(dist / 0.45));
  const cx = (140 + 220 + mouth[0]!) / 3,
    cy = (200 + 196 + mouth[1]!) / 3;
  assert.ok(Math.abs(x + 0.5 * w - cx) <= 1 && Math.abs(y + 0.43 * w - cy) <= 1);
  // Twice the face, twice the box.
  const [, , w2] = landmarkBox(
    points.map(([px, py]) => [px * 2, py * 2] as Point),
    1,
  );
  assert.ok(Math.abs(w2 - 2 * w) <= 2);
  // The default corrects for the mouth centre taken from the corners, keeping the centroid.
  const [x3, y3, w3] = landmarkBox(points);
  assert.equal(w3, Math.floor((dist * LANDMARK_BOX_SCALE) / 0.45));
  assert.ok(Math.abs(x3 + 0.5 * w3 - cx) <= 1 && Math.abs(y3 + 0.43 * w3 - cy) <= 1);
});

test('boxWarp maps the chip onto the box as tf.image.resizeBilinear does', () => {
  const m = boxWarp([30, 40, 300, 300], 150);
  assert.deepEqual(applyAffine(m, [0, 0]), [30, 40]);
  assert.deepEqual(applyAffine(m, [150, 150]), [330, 340]);
});
