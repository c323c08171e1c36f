// The tight-crop decision on synthetic meshes: each rule rejects on its own, the band asks for a
// second pass, and the letterbox maps the network input back onto the image exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Point } from '../../src/domain/face.js';
import { applyAffine } from '../../src/detect/alignment.js';
import { MESH_POINTS, fivePoints, meshExtent } from '../../src/detect/facemesh-decode.js';
import { placeInto } from '../../src/detect/resample.js';
import {
  TIGHT_CROP,
  confirmTightCrop,
  judgeTightCrop,
  landmarkDrift,
  letterboxPlacement,
  measureMesh,
} from '../../src/detect/tight-crop.js';

const rotate = (points: Point[], deg: number, [cx, cy]: Point): Point[] => {
  const a = (deg * Math.PI) / 180;
  return points.map(([x, y]) => [
    cx + (x - cx) * Math.cos(a) - (y - cy) * Math.sin(a),
    cy + (x - cx) * Math.sin(a) + (y - cy) * Math.cos(a),
  ]);
};

/** 468 points filling the box [x1, y1, x2, y2] with the eye line level, then turned by `roll` degrees. */
function mesh([x1, y1, x2, y2]: [number, number, number, number], roll = 0): Point[] {
  let pts: Point[] = Array.from({ length: MESH_POINTS }, (_, i) => [(i % 26) / 25, Math.floor(i / 26) / 17]);
  const [eyeR, eyeL] = fivePoints(pts);
  pts = rotate(pts, (-Math.atan2(eyeL[1] - eyeR[1], eyeL[0] - eyeR[0]) * 180) / Math.PI, [0.5, 0.5]);
  const [ex1, ey1, ex2, ey2] = meshExtent(pts);
  pts = pts.map(([x, y]) => [x1 + ((x - ex1) / (ex2 - ex1)) * (x2 - x1), y1 + ((y - ey1) / (ey2 - ey1)) * (y2 - y1)]);
  return rotate(pts, roll, [(x1 + x2) / 2, (y1 + y2) / 2]);
}

test('letterbox placement: the input square maps onto the image, pixel edges on pixel edges', () => {
  const p = letterboxPlacement(111, 160, 192);
  assert.deepEqual([p.width, p.height, p.left, p.top], [133, 192, 29, 0]);
  const [x0, y0] = applyAffine(p.toImage, [p.left, p.top]);
  const [x1, y1] = applyAffine(p.toImage, [p.left + p.width, p.top + p.height]);
  assert.ok(Math.abs(x0 + 0.5) < 1e-9 && Math.abs(y0 + 0.5) < 1e-9, 'the top-left input edge is the image edge');
  assert.ok(Math.abs(x1 - 110.5) < 1e-9 && Math.abs(y1 - 159.5) < 1e-9, 'the bottom-right likewise');
  const wide = letterboxPlacement(1000, 400, 192);
  assert.deepEqual([wide.width, wide.height, wide.left, wide.top], [192, 77, 0, 57]);
});

test('placeInto: the resized image in a black square, scaled', () => {
  const out = placeInto(
    { data: Uint8Array.from([255, 0, 51, 0, 102, 255]), width: 2, height: 1 },
    1,
    2,
    4,
    new Float32Array(48),
    {
      scale: 1 / 255,
    },
  );
  const at = (x: number, y: number) =>
    Array.from(out.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)).map((v) => +v.toFixed(3));
  assert.deepEqual(at(1, 2), [1, 0, 0.2]);
  assert.deepEqual(at(2, 2), [0, 0.4, 1]);
  assert.equal(out.reduce((s, v) => s + v, 0).toFixed(3), '2.600');
  assert.throws(
    () => placeInto({ data: new Uint8Array(6), width: 2, height: 1 }, 3, 0, 4, new Float32Array(48)),
    /does not fit/,
  );
});

test('judgeTightCrop: a saturated score and a face filling the image; each rule rejects alone', () => {
  const size = 200;
  const full = mesh([40, 30, 160, 170]); // 0.60 x 0.70 of the side
  assert.equal(judgeTightCrop(full, 1, size, size).kind, 'tight');
  const m = measureMesh(full, 1, size, size);
  assert.ok(Math.abs(m.width - 0.6) < 1e-9 && Math.abs(m.height - 0.7) < 1e-9 && Math.abs(m.roll) < 1e-9);

  const unsure = judgeTightCrop(full, 1 - 1e-6, size, size);
  assert.deepEqual(unsure, { kind: 'not', reason: 'mesh score 1 - 1.0e-6' });
  assert.equal(judgeTightCrop(full, TIGHT_CROP.minScore, size, size).kind, 'tight', 'one float32 step below 1 counts');
  // The same face in an image twice as large: not a tight crop.
  const small = judgeTightCrop(full, 1, 2 * size, 2 * size);
  assert.deepEqual(small, { kind: 'not', reason: 'face 0.30 x 0.35 of the image' });
  // A tall image: the longest side decides.
  assert.equal(judgeTightCrop(full, 1, size, 2 * size).kind, 'not');
  assert.deepEqual(judgeTightCrop(mesh([40, 30, 160, 170], 30), 1, size, size).kind, 'not');
  assert.match(judgeTightCrop(mesh([40, 30, 160, 170], 30), 1, size, size).reason, /^roll 30 degrees$/);
  assert.deepEqual(judgeTightCrop(mesh([-150, 30, -30, 170]), 1, size, size), {
    kind: 'not',
    reason: 'eyes outside the image',
  });
});

test('judgeTightCrop: a rolled head, as the unlevelled pass reads it, needs a second pass', () => {
  const v = judgeTightCrop(mesh([40, 30, 160, 170], 12), 1, 200, 200);
  assert.equal(v.kind, 'confirm');
  assert.match(v.reason, /, roll 12 degrees$/);
});

test('judgeTightCrop: near the boundary a second pass is framed on the first mesh', () => {
  const band = mesh([53, 40, 147, 160]); // 0.47 x 0.60
  const v = judgeTightCrop(band, 1, 200, 200);
  assert.equal(v.kind, 'confirm');
  if (v.kind !== 'confirm') return;
  assert.deepEqual(v.region.center, [100, 100]);
  assert.ok(Math.abs(v.region.side - TIGHT_CROP.confirmSide * 120) < 1e-9);
  assert.deepEqual(v.region.keypoints, fivePoints(band).slice(0, 2));
});

test('landmarkDrift and confirmTightCrop: the same five points agree, a shifted fit does not', () => {
  const first = mesh([40, 30, 160, 170]);
  const [eyeR, eyeL] = fivePoints(first);
  const eyes = Math.hypot(eyeL[0] - eyeR[0], eyeL[1] - eyeR[1]);
  const shifted = first.map(([x, y]): Point => [x + 0.1 * eyes, y]);
  assert.equal(landmarkDrift(fivePoints(first), fivePoints(first)), 0);
  assert.ok(Math.abs(landmarkDrift(fivePoints(shifted), fivePoints(first)) - 0.1) < 1e-9);
  assert.equal(confirmTightCrop(first, first, 1).ok, true);
  const drifted = confirmTightCrop(first, shifted, 1);
  assert.deepEqual(drifted, { ok: false, reason: 'second mesh 0.10 eye distances away' });
  assert.deepEqual(confirmTightCrop(first, first, 0.9), { ok: false, reason: 'second mesh score 0.900' });
});
