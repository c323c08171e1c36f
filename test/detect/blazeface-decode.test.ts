import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAffine } from '../../src/detect/alignment.js';
import {
  BLAZEFACE_SIZE,
  decodeBlazeface,
  decodeCandidates,
  generateAnchors,
  iou,
  letterbox,
  mergeOutputs,
  nonMaxSuppression,
  toFaceRegion,
} from '../../src/detect/blazeface-decode.js';

test('anchors: 512 on the 16-pixel grid (2 per cell) then 384 on the 32-pixel grid (6 per cell)', () => {
  const a = generateAnchors(256);
  assert.equal(a.length / 2, 896);
  assert.deepEqual([a[0], a[1], a[2], a[3], a[4], a[5]], [8, 8, 8, 8, 24, 8]);
  assert.deepEqual([a[1022], a[1023]], [248, 248]);
  assert.deepEqual([a[1024], a[1025]], [16, 16]);
  assert.deepEqual([a[1024 + 12], a[1024 + 13]], [48, 16]);
  assert.deepEqual([a[1790], a[1791]], [240, 240]);
});

test('letterbox fits the image in the square, centred, and maps back to pixel centres', () => {
  const { toSource, toImage } = letterbox(640, 320);
  // The network square 0..256 spans the image width; the image's vertical middle is at 128.
  assert.deepEqual(applyAffine(toImage, [0, 128]), [-0.5, 159.5]);
  assert.deepEqual(applyAffine(toImage, [256, 128]), [639.5, 159.5]);
  // Top padding: network rows 0..64 lie above the image.
  assert.ok(Math.abs(applyAffine(toImage, [0, 64])[1] + 0.5) < 1e-9);
  // Output pixel u is sampled at network coordinate u + 0.5.
  assert.deepEqual(applyAffine(toSource, [10, 70]), applyAffine(toImage, [10.5, 70.5]));
});

/** One anchor row: logit, box offsets, six keypoint offsets. */
function row(logit: number, box: number[], keypoints: number[]): number[] {
  return [logit, ...box, ...keypoints];
}

test('decodeCandidates: offsets are relative to the anchor, scores pass through a sigmoid', () => {
  const anchors = generateAnchors(BLAZEFACE_SIZE);
  const rows = new Float32Array(896 * 17).fill(-10); // every logit far below threshold
  const target = 600; // a stride-32 anchor
  const [ax, ay] = [anchors[target * 2]!, anchors[target * 2 + 1]!];
  rows.set(row(2, [3, -4, 40, 50], [-10, -8, 10, -8, 0, 2, 0, 12, -20, 0, 20, 0]), target * 17);
  const found = decodeCandidates(rows, anchors, 0.5);
  assert.equal(found.length, 1);
  const c = found[0]!;
  assert.ok(Math.abs(c.score - 1 / (1 + Math.exp(-2))) < 1e-12);
  assert.deepEqual(c.rect, [ax + 3 - 20, ay - 4 - 25, ax + 3 + 20, ay - 4 + 25]);
  assert.deepEqual(c.keypoints[0], [ax - 10, ay - 8]);
  assert.deepEqual(c.keypoints[5], [ax + 20, ay]);
  assert.equal(decodeCandidates(rows, anchors, 0.9).length, 0, 'sigmoid(2) = 0.88 is below 0.9');
});

test('mergeOutputs puts the 512 stride-16 anchors first, whatever order the outputs come in', () => {
  const out = (n: number, d: number, base: number) => ({
    data: Float32Array.from({ length: n * d }, (_, i) => base + i),
    dims: [1, n, d],
  });
  const rows = mergeOutputs([out(384, 16, 5000), out(512, 1, 100), out(384, 1, 900), out(512, 16, 20000)], 896);
  assert.equal(rows.length, 896 * 17);
  assert.deepEqual(Array.from(rows.subarray(0, 3)), [100, 20000, 20001]);
  assert.deepEqual(Array.from(rows.subarray(511 * 17, 511 * 17 + 2)), [611, 20000 + 511 * 16]);
  assert.deepEqual(Array.from(rows.subarray(512 * 17, 512 * 17 + 2)), [900, 5000]);
  assert.throws(() => mergeOutputs([out(512, 1, 0), out(512, 16, 0)], 896), /Unexpected BlazeFace outputs/);
});

test('nonMaxSuppression keeps the best of overlapping boxes, all separate ones, up to the limit', () => {
  const items = [
    { rect: [0, 0, 10, 10], score: 0.7 },
    { rect: [1, 1, 11, 11], score: 0.9 }, // overlaps the first (IoU 0.68)
    { rect: [50, 50, 60, 60], score: 0.6 },
    { rect: [8, 8, 18, 18], score: 0.5 }, // touches the best only a little (IoU 9/191)
  ];
  assert.ok(Math.abs(iou(items[0]!.rect, items[1]!.rect) - 81 / 119) < 1e-12);
  assert.deepEqual(
    nonMaxSuppression(items, 0.3, 10).map((i) => i.score),
    [0.9, 0.6, 0.5],
  );
  assert.deepEqual(
    nonMaxSuppression(items, 0.04, 10).map((i) => i.score),
    [0.9, 0.6],
  );
  assert.deepEqual(
    nonMaxSuppression(items, 0.3, 2).map((i) => i.score),
    [0.9, 0.6],
  );
  assert.equal(iou([0, 0, 1, 1], [2, 2, 3, 3]), 0);
});

test('toFaceRegion and decodeBlazeface: image pixels, enlarged 1.4x and squared', () => {
  const { toImage } = letterbox(512, 256); // 2 image pixels per network unit, 64 units of padding on top
  const region = toFaceRegion(
    {
      rect: [100, 100, 140, 120],
      score: 0.8,
      keypoints: [
        [110, 105],
        [130, 105],
      ],
    },
    toImage,
  );
  assert.deepEqual(region.center, [239.5, 91.5]);
  assert.equal(region.side, 80 * 1.4);
  assert.deepEqual(region.keypoints[1], [259.5, 81.5]);

  const anchors = generateAnchors();
  const rows = new Float32Array(896 * 17).fill(-10);
  rows.set(row(3, [0, 0, 30, 30], new Array(12).fill(0)), 100 * 17);
  rows.set(row(1, [1, 1, 30, 30], new Array(12).fill(0)), 101 * 17); // same anchor centre: suppressed
  const faces = decodeBlazeface([{ data: rows, dims: [1, 896, 17] }], anchors, toImage, {
    minScore: 0.5,
    iouThreshold: 0.3,
    maxFaces: 5,
  });
  assert.equal(faces.length, 1);
  assert.ok(faces[0]!.score > 0.95);
});
