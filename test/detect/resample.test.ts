import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAffine, type Affine } from '../../src/detect/alignment.js';
import { resizeAreaInto, warpInto, warpRgb, type RgbPixels } from '../../src/detect/resample.js';

/** Red = x, green = y, blue = 200: bilinear sampling of a linear pattern is exact. */
function gradient(width: number, height: number): RgbPixels {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x, y, 200], (y * width + x) * 3);
  }
  return { data, width, height };
}

test('identity warp copies the image', () => {
  const img = gradient(40, 30);
  for (let i = 0; i < img.data.length; i += 7) img.data[i] = (i * 31) % 256; // not only linear
  const out = warpRgb({ ...img, width: 40, height: 30 }, [1, 0, 0, 0, 1, 0], 30);
  for (let y = 0; y < 30; y++) {
    for (let x = 0; x < 30; x++) {
      for (let c = 0; c < 3; c++) assert.equal(out[(y * 30 + x) * 3 + c], img.data[(y * 40 + x) * 3 + c]);
    }
  }
});

test('rotated, scaled warp of a linear pattern samples exactly where the affine map points', () => {
  const img = gradient(200, 200);
  const a = 0.5,
    s = 1.3;
  const m: Affine = [Math.cos(a) * s, -Math.sin(a) * s, 80, Math.sin(a) * s, Math.cos(a) * s, 20];
  const size = 64;
  const out = warpInto(img, m, size, size, new Float32Array(size * size * 3));
  let checked = 0;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const [x, y] = applyAffine(m, [u, v]);
      if (x < 0 || y < 0 || x > 199 || y > 199) continue;
      const i = (v * size + u) * 3;
      assert.ok(
        Math.abs(out[i]! - x) < 1e-3 && Math.abs(out[i + 1]! - y) < 1e-3,
        `(${u},${v}) -> ${out[i]},${out[i + 1]} expected ${x},${y}`,
      );
      assert.ok(Math.abs(out[i + 2]! - 200) < 1e-3);
      checked++;
    }
  }
  assert.ok(checked > size * size * 0.8);
});

test('warp is black outside the image and averages taps without bias', () => {
  const img = gradient(50, 50);
  const out = warpInto(img, [1, 0, -100, 0, 1, -100], 10, 10, new Float32Array(300));
  assert.ok(out.every((v) => v === 0));
  // Half a pixel past the left edge: half the edge pixel, half black (both code paths).
  for (const taps of [1, 2]) {
    const edge = warpInto(img, [1, 0, -0.5, 0, 1, 10], 2, 1, new Float32Array(6), { taps });
    assert.ok(Math.abs(edge[1]! - 5) < 1e-9 && Math.abs(edge[2]! - 100) < 1e-9, `taps ${taps}: ${Array.from(edge)}`);
  }
  // Taps average a linear pattern to its value at the pixel centre; scale/offset apply after.
  const m: Affine = [2, 0, 5, 0, 2, 5];
  const one = warpInto(img, m, 16, 16, new Float32Array(16 * 16 * 3), { scale: 1 / 127.5, offset: -1 });
  const nine = warpInto(img, m, 16, 16, new Float32Array(16 * 16 * 3), { taps: 3, scale: 1 / 127.5, offset: -1 });
  one.forEach((v, i) => assert.ok(Math.abs(v - nine[i]!) < 1e-5));
  assert.ok(Math.abs(one[0]! - (5 / 127.5 - 1)) < 1e-6);
});

test('resizeAreaInto averages each footprint and pads with black', () => {
  // A 1-pixel checkerboard shrunk by 2 is uniform grey.
  const w = 64,
    h = 32;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.fill((x + y) % 2 ? 255 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
  // Output pixel u centred on source x = 2u + 0.5; rows 16..31 of the output lie below the image.
  const out = resizeAreaInto(
    { data, width: w, height: h },
    [2, 0, 0.5, 0, 2, 0.5],
    32,
    32,
    new Float32Array(32 * 32 * 3),
  );
  for (let v = 0; v < 32; v++) {
    for (let u = 0; u < 32; u++) {
      const expected = v < 16 ? 127.5 : 0;
      assert.ok(Math.abs(out[(v * 32 + u) * 3]! - expected) < 1e-3, `(${u},${v}) = ${out[(v * 32 + u) * 3]}`);
    }
  }
  // Fractional footprints: a ramp of whole-pixel steps averages to within 0.05 of its value at the
  // footprint centre (a half-pixel misplacement would be off by 0.5 or more).
  const ramp = gradient(250, 250);
  const s = 2.5;
  const r = resizeAreaInto(ramp, [s, 0, 0.75, 0, s, 0.75], 100, 100, new Float32Array(100 * 100 * 3));
  for (const u of [0, 1, 37, 98])
    assert.ok(Math.abs(r[(50 * 100 + u) * 3]! - (s * u + 0.75)) <= 0.051, `column ${u}: ${r[(50 * 100 + u) * 3]}`);
  assert.throws(() => resizeAreaInto(ramp, [0.5, 0, 0, 0, 0.5, 0], 10, 10, new Float32Array(300)), /only shrinks/);
});
