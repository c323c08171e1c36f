// dlib's chip pixels, as extract_image_chip makes them (dlib 19.24): the chip's crop of the image,
// halved by pyramid_down<2> (a 5x5 [1 4 6 4 1] filter in integers, every other row and column
// kept) as often as the plan says, then sampled bilinearly; a sample whose 2x2 neighbours are
// not all inside is black, and values are truncated to bytes (dlib's static_cast), not rounded.
import { chipPlan, chipToImage, type ChipDetails } from './dlib-chip.js';
import type { Affine } from './alignment.js';
import type { RgbPixels } from './resample.js';

/** The inclusive rectangle [left, top, right, bottom] of `image` as its own image. */
export function cropRgb(image: RgbPixels, [l, t, r, b]: readonly [number, number, number, number]): RgbPixels {
  const width = r - l + 1,
    height = b - t + 1;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const src = ((t + y) * image.width + l) * 3;
    data.set(image.data.subarray(src, src + width * 3), y * width * 3);
  }
  return { data, width, height };
}

/** pyramid_down<2> on RGB: ((h - 3) / 2) x ((w - 3) / 2) pixels; an image of 8 px or less on a side gives an empty one. */
export function pyramidDown2(image: RgbPixels): RgbPixels {
  const { data, width: w, height: h } = image;
  if (w <= 8 || h <= 8) return { data: new Uint8Array(0), width: 0, height: 0 };
  const tw = Math.floor((w - 3) / 2),
    oh = Math.floor((h - 3) / 2);
  // Row filter at every row (sums up to 16 * 255, exact in integers).
  const temp = new Uint16Array(h * tw * 3);
  for (let y = 0; y < h; y++) {
    const row = y * w * 3;
    for (let x = 0; x < tw; x++) {
      const i = row + x * 6;
      const o = (y * tw + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const k = i + ch;
        temp[o + ch] = data[k]! + 4 * data[k + 3]! + 6 * data[k + 6]! + 4 * data[k + 9]! + data[k + 12]!;
      }
    }
  }
  const out = new Uint8Array(oh * tw * 3);
  const line = tw * 3;
  for (let dy = 0; dy < oh; dy++) {
    const r = 2 * dy + 2;
    for (let i = 0; i < line; i++) {
      const sum =
        temp[(r - 2) * line + i]! +
        4 * temp[(r - 1) * line + i]! +
        6 * temp[r * line + i]! +
        4 * temp[(r + 1) * line + i]! +
        temp[(r + 2) * line + i]!;
      out[dy * line + i] = Math.floor(sum / 256);
    }
  }
  return { data: out, width: tw, height: oh };
}

/** interpolate_bilinear + transform_image: rows x cols RGB bytes sampled at `toSource`, truncated, black where the 2x2 leaves the image. */
export function sampleBilinearTruncated(image: RgbPixels, toSource: Affine, rows: number, cols: number): Uint8Array {
  const { data, width: w, height: h } = image;
  const out = new Uint8Array(rows * cols * 3);
  const [a, b, c, d, e, f] = toSource;
  for (let v = 0; v < rows; v++) {
    for (let u = 0; u < cols; u++) {
      const x = a * u + b * v + c,
        y = d * u + e * v + f;
      const left = Math.floor(x),
        top = Math.floor(y);
      if (!(left >= 0 && top >= 0 && left + 1 < w && top + 1 < h)) continue;
      const lr = x - left,
        tb = y - top;
      const tl = (top * w + left) * 3,
        bl = tl + w * 3;
      const o = (v * cols + u) * 3;
      // dlib's expression, in its order, so doubles round alike before the truncation.
      for (let ch = 0; ch < 3; ch++) {
        out[o + ch] =
          (1 - tb) * ((1 - lr) * data[tl + ch]! + lr * data[tl + 3 + ch]!) +
          tb * ((1 - lr) * data[bl + ch]! + lr * data[bl + 3 + ch]!);
      }
    }
  }
  return out;
}

/** dlib's chip of `details` from `image`, and where its pixels sit in the image (chip -> image pixels). */
export function extractDlibChip(image: RgbPixels, details: ChipDetails): { pixels: Uint8Array; toSource: Affine } {
  const plan = chipPlan(details, image.width, image.height);
  let level = cropRgb(image, plan.crop);
  for (let k = 0; k < plan.levels; k++) level = pyramidDown2(level);
  return {
    pixels: sampleBilinearTruncated(level, plan.toLevel, details.rows, details.cols),
    toSource: chipToImage(details),
  };
}
