import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Point } from '../../src/domain/face.js';
import { applyAffine } from '../../src/detect/alignment.js';
import type { FaceRegion } from '../../src/detect/blazeface-decode.js';
import {
  MESH_POINTS,
  fivePoints,
  mapMesh,
  meshBox,
  meshCropSampling,
  meshCropTransform,
  regionFromMesh,
} from '../../src/detect/facemesh-decode.js';
import { rescaleFace } from '../../src/detect/rescale.js';

const close = (a: Point, b: Point, eps = 1e-9) => Math.hypot(a[0] - b[0], a[1] - b[1]) < eps;

function region(angle: number): FaceRegion {
  const eye = 30;
  return {
    center: [400, 300],
    side: 192 * 1.5,
    score: 0.9,
    keypoints: [
      [400 - eye * Math.cos(angle), 280 - eye * Math.sin(angle)],
      [400 + eye * Math.cos(angle), 280 + eye * Math.sin(angle)],
    ],
  };
}

test('mesh crop: the square region, turned so the eye line is level', () => {
  const upright = meshCropTransform(region(0));
  assert.ok(close(applyAffine(upright, [0, 0]), [400 - 144, 300 - 144]));
  assert.ok(close(applyAffine(upright, [192, 192]), [400 + 144, 300 + 144]));
  // Rolled 30 degrees: the crop's x axis runs along the eyes and its centre stays put.
  const a = Math.PI / 6;
  const rolled = meshCropTransform(region(a));
  assert.ok(close(applyAffine(rolled, [96, 96]), [400, 300]));
  const [x0, y0] = applyAffine(rolled, [96, 96]);
  const [x1, y1] = applyAffine(rolled, [97, 96]);
  assert.ok(Math.abs(Math.atan2(y1 - y0, x1 - x0) - a) < 1e-12);
  assert.ok(Math.abs(Math.hypot(x1 - x0, y1 - y0) - 1.5) < 1e-12);
  assert.ok(close(applyAffine(meshCropTransform(region(a), false), [0, 0]), [256, 156]), 'rotation can be turned off');
  // Crop pixel u is sampled at its centre.
  assert.ok(close(applyAffine(meshCropSampling(rolled), [10, 20]), applyAffine(rolled, [10.5, 20.5])));
});

test('mapMesh, fivePoints, meshBox and regionFromMesh on a mesh mapped from crop coordinates', () => {
  // A synthetic mesh: point i sits at (i % 26 * 7, floor(i / 26) * 10) in crop units.
  const raw = new Float32Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) raw.set([(i % 26) * 7, Math.floor(i / 26) * 10, 5], i * 3);
  const toImage = meshCropTransform(region(0.2));
  const mesh = mapMesh(raw, toImage);
  assert.equal(mesh.length, MESH_POINTS);
  assert.ok(close(mesh[27]!, applyAffine(toImage, [7, 10]), 1e-4));

  const five = fivePoints(mesh);
  assert.equal(five.length, 5);
  // The nose point is the mean of mesh points 1 and 4; mouth corners are points 61 and 291.
  assert.ok(close(five[2], [(mesh[1]![0] + mesh[4]![0]) / 2, (mesh[1]![1] + mesh[4]![1]) / 2]));
  assert.deepEqual(five[3], mesh[61]);
  assert.deepEqual(five[4], mesh[291]);

  const [x, y, w, h] = meshBox(mesh, 10_000, 10_000);
  for (const [px, py] of mesh) assert.ok(px >= x - 1e-9 && px <= x + w + 1e-9 && py >= y - 1e-9 && py <= y + h + 1e-9);
  const clipped = meshBox(mesh, 400, 300);
  assert.ok(clipped[0] + clipped[2] <= 400 && clipped[1] + clipped[3] <= 300);

  const next = regionFromMesh(mesh, region(0.2));
  assert.ok(close(next.center, [x + w / 2, y + h / 2], 1e-6));
  assert.equal(next.side, region(0.2).side);
  assert.deepEqual(next.keypoints, [five[0], five[1]]);
  assert.throws(() => mapMesh(new Float32Array(10), toImage), /expected 1404/);
});

test('rescaleFace maps pixel centres from a shrunken copy back to the original', () => {
  const face = {
    box: [10, 20, 30, 40] as [number, number, number, number],
    score: 0.7,
    landmarks: [
      [0, 0],
      [9.5, 4.5],
    ] as Point[],
  };
  const big = rescaleFace(face, 2, 4);
  assert.deepEqual(big.landmarks, [
    [0.5, 1.5],
    [19.5, 19.5],
  ]);
  assert.deepEqual(big.box, [20.5, 81.5, 60, 160]);
  assert.equal(big.score, 0.7);
});
