import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAffine, type Affine } from '../../src/detect/alignment.js';
import {
  DLIB_FIT_POINTS,
  chipDetails,
  chipPlan,
  chipToImage,
  dlibFaceChipDetails,
  dlibFivePointTemplate,
  dlibTemplatePoint,
} from '../../src/detect/dlib-chip.js';
import { extractDlibChip, pyramidDown2, sampleBilinearTruncated } from '../../src/detect/dlib-resample.js';
import type { Point } from '../../src/domain/face.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} is not ${b} (±${eps})`);

/** Rotation by `angle`, uniform `scale`, then translation. */
function similarity(angle: number, scale: number, tx: number, ty: number): Affine {
  const c = Math.cos(angle) * scale,
    s = Math.sin(angle) * scale;
  return [c, -s, tx, s, c, ty];
}

test('dlib template points are the mean face placed in the padded square, as get_face_chip_details does', () => {
  // Point 30 (nose tip) is (0.490127, 0.515625) in the unit mean face: (0.25 + v) / 1.5 * 150.
  const [x, y] = dlibTemplatePoint(30, 150, 0.25);
  close(x, 74.0127, 1e-9);
  close(y, 76.5625, 1e-9);
  const [x0, y0] = dlibTemplatePoint(17, 200, 0);
  close(x0, 0.000213256 * 200);
  close(y0, 0.106454 * 200);
  assert.throws(() => dlibTemplatePoint(16, 150, 0.25), /17\.\.67/);
  assert.throws(() => dlibTemplatePoint(68, 150, 0.25), /17\.\.67/);
  // dlib fits 27..54 and 60..64: no eyebrows, no lower lip.
  assert.deepEqual(DLIB_FIT_POINTS, [...Array.from({ length: 28 }, (_, i) => 27 + i), 60, 61, 62, 63, 64]);
});

test('the five-point template: eye centres are the means of 36-41 and 42-47, nose 30, mouth corners 48 and 54', () => {
  const five = dlibFivePointTemplate(150, 0.25);
  const mean = (from: number) =>
    [0, 1].map(
      (c) =>
        Array.from({ length: 6 }, (_, i) => dlibTemplatePoint(from + i, 150, 0.25)[c]!).reduce((s, v) => s + v) / 6,
    );
  assert.deepEqual(five[0], mean(36));
  assert.deepEqual(five[1], mean(42));
  assert.deepEqual(five[2], dlibTemplatePoint(30, 150, 0.25));
  assert.deepEqual(five[3], dlibTemplatePoint(48, 150, 0.25));
  assert.deepEqual(five[4], dlibTemplatePoint(54, 150, 0.25));
  // The mean face is left-right symmetric about x = 0.490127 (to 5e-5 of its width).
  close(five[0][0] + five[1][0], 2 * 74.0127, 0.01);
  close(five[3][0] + five[4][0], 2 * 74.0127, 0.01);
  close(five[0][1], five[1][1], 0.01);
  // Eyes above the nose above the mouth, image-left eye first.
  assert.ok(five[0][0] < five[1][0] && five[0][1] < five[2][1] && five[2][1] < five[3][1]);
});

test('chipDetails recovers a known similarity as dlib states it: angle, rectangle of size*scale, centred on the chip centre', () => {
  const template = dlibFivePointTemplate(150, 0.25);
  for (const [angle, scale, tx, ty] of [
    [0, 1, 0, 0],
    [0.3, 2.5, 100, -40],
    [-0.7, 0.6, 12.5, 300],
  ] as const) {
    const truth = similarity(angle, scale, tx, ty);
    const details = chipDetails(
      template,
      template.map((p) => applyAffine(truth, p)),
      150,
    );
    close(details.angle, angle);
    close(details.rect.r - details.rect.l + 1, 150 * scale, 1e-9);
    close(details.rect.b - details.rect.t + 1, 150 * scale, 1e-9);
    const [cx, cy] = applyAffine(truth, [75, 75]);
    close((details.rect.l + details.rect.r) / 2, cx, 1e-9);
    close((details.rect.t + details.rect.b) / 2, cy, 1e-9);
    // dlib maps chip pixel 0 and 149 onto the rectangle's edges: the middle pixel 74.5 lands on
    // the fitted centre (75, 75), and one chip pixel spans 150/149 of the fitted scale.
    const toImage = chipToImage(details);
    const mid = applyAffine(toImage, [74.5, 74.5]);
    close(mid[0], cx, 1e-9);
    close(mid[1], cy, 1e-9);
    close(Math.hypot(toImage[0], toImage[3]), ((150 * scale - 1) / 149) * 1, 1e-9);
  }
});

test('dlibFaceChipDetails fits 68 landmarks on the 33 points dlib uses, and our five on the five-point template', () => {
  const truth = similarity(0.2, 1.7, 40, 25);
  const all68: Point[] = Array.from({ length: 68 }, (_, i) =>
    i >= 17 ? applyAffine(truth, dlibTemplatePoint(i, 150, 0.25)) : ([-1000, 5000] as Point),
  );
  // Eyebrows and lower lip moved far: dlib ignores them, so the fit stays exact.
  for (const i of [17, 20, 26, 55, 57, 59, 65, 67]) all68[i] = [9999, -9999];
  const d68 = dlibFaceChipDetails(all68, 150, 0.25);
  close(d68.angle, 0.2, 1e-9);
  close(d68.rect.r - d68.rect.l + 1, 150 * 1.7, 1e-9);
  const five = dlibFivePointTemplate(150, 0.25).map((p) => applyAffine(truth, p));
  const d5 = dlibFaceChipDetails(five, 150, 0.25);
  close(d5.angle, d68.angle, 1e-9);
  close(d5.rect.l, d68.rect.l, 1e-9);
  close(d5.rect.t, d68.rect.t, 1e-9);
  assert.throws(() => dlibFaceChipDetails(five.slice(0, 4), 150, 0.25), /68 or 5/);
  assert.throws(() => dlibFaceChipDetails(five, 150, -1), /padding/);
});

test('chipPlan halves the image once per 2x of shrink beyond 2x, as extract_image_chips picks its pyramid level', () => {
  const template = dlibFivePointTemplate(150, 0.25);
  const levelsAt = (scale: number) =>
    chipPlan(
      chipDetails(
        template,
        template.map((p) => applyAffine(similarity(0.1, scale, 500, 500), p)),
        150,
      ),
      4000,
      4000,
    ).levels;
  assert.equal(levelsAt(0.5), 0);
  assert.equal(levelsAt(1.9), 0);
  assert.equal(levelsAt(2.5), 1);
  assert.equal(levelsAt(5), 2);
  assert.equal(levelsAt(9), 3);
  // The crop is clipped to the image and rounded like dlib's drectangle -> rectangle.
  const plan = chipPlan(
    chipDetails(
      template,
      template.map((p) => applyAffine(similarity(0, 1, -30, -30), p)),
      150,
    ),
    100,
    80,
  );
  assert.deepEqual(plan.crop.slice(0, 2), [0, 0]);
  assert.deepEqual(plan.crop.slice(2), [99, 79]);
});

test('pyramidDown2: [1 4 6 4 1]^2 / 256 in integers, (n - 3) / 2 pixels a side, every other pixel from 2', () => {
  const w = 13,
    h = 11;
  const data = new Uint8Array(w * h * 3);
  // One bright pixel at (6, 6): down pixel (2, 2) sits on it with weight 6 * 6 / 256.
  data.set([255, 100, 7], (6 * w + 6) * 3);
  const down = pyramidDown2({ data, width: w, height: h });
  assert.equal(down.width, 5);
  assert.equal(down.height, 4);
  const at = (x: number, y: number) => [...down.data.subarray((y * 5 + x) * 3, (y * 5 + x) * 3 + 3)];
  assert.deepEqual(at(2, 2), [Math.floor((255 * 36) / 256), Math.floor((100 * 36) / 256), 0]);
  assert.deepEqual(at(1, 2), [Math.floor((255 * 6) / 256), Math.floor((100 * 6) / 256), 0]);
  assert.deepEqual(at(0, 0), [0, 0, 0]);
  // A flat image stays flat; 8 px or less gives an empty image, as dlib's does.
  const flat = pyramidDown2({ data: new Uint8Array(20 * 20 * 3).fill(200), width: 20, height: 20 });
  assert.ok(flat.data.every((v) => v === 200));
  assert.equal(pyramidDown2({ data: new Uint8Array(8 * 30 * 3), width: 8, height: 30 }).width, 0);
});

test('sampleBilinearTruncated truncates as dlib casts and is black unless all four neighbours are inside', () => {
  const image = { data: Uint8Array.from([0, 0, 0, 1, 1, 1, 10, 10, 10, 11, 11, 11]), width: 2, height: 2 };
  // Top row halfway between 0 and 1: 0.5 -> 0 (rounding would give 1); the centre 5.5 -> 5.
  const out = sampleBilinearTruncated(image, [0.5, 0, 0, 0, 0.5, 0], 2, 2);
  assert.deepEqual([...out], [0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 5]);
  // At x = 1 the right neighbour (x = 2) is outside: black, although x = 1 itself is a pixel.
  const edge = sampleBilinearTruncated(image, [1, 0, 0, 0, 1, 0.5], 2, 1);
  assert.deepEqual([...edge], [5, 5, 5, 0, 0, 0]);
});

test("extractDlibChip of an identity fit reproduces the image up to dlib's 150/149 stretch", () => {
  const size = 150;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) data.fill((x + 2 * y) % 256, (y * size + x) * 3, (y * size + x) * 3 + 3);
  const template = dlibFivePointTemplate(size, 0.25);
  const { pixels, toSource } = extractDlibChip(
    { data, width: size, height: size },
    chipDetails(template, template, size),
  );
  // The fitted square spans x = 0.5..149.5, so chip pixel u reads x = 0.5 + u: four neighbours' mean, truncated.
  close(toSource[0], 1, 1e-12);
  close(toSource[2], 0.5, 1e-12);
  const chipAt = (x: number, y: number) => pixels[(y * size + x) * 3]!;
  assert.equal(
    chipAt(10, 20),
    Math.floor((((10 + 40) % 256) + ((11 + 40) % 256) + ((10 + 42) % 256) + ((11 + 42) % 256)) / 4),
  );
  // The last column reads past the right edge: black.
  assert.equal(chipAt(149, 20), 0);
});
