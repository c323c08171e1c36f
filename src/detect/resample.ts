// Moving pixels: a bilinear affine warp of interleaved RGB (alignment chips, mesh crops) and an
// area-averaging resize (the detector's letterboxed input when a photo shrinks several times
// and plain bilinear sampling would alias). Output pixel centres map to source pixel centres,
// both at integer coordinates, as cv2.warpAffine reads a matrix.
import type { Affine } from './alignment.js';

/** Interleaved 8-bit RGB, row-major. */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

function checkSizes(image: RgbPixels, out: { length: number }, width: number, height: number): void {
  if (image.data.length < image.width * image.height * 3)
    throw new Error(`Image buffer holds ${image.data.length} bytes, expected ${image.width * image.height * 3}`);
  if (out.length < width * height * 3) throw new Error('Output buffer is too small');
}

export interface WarpOptions {
  /** Average n x n bilinear taps per output pixel (anti-aliasing when shrinking a lot). Default 1. */
  taps?: number;
  /** Each output value is `pixel * scale + offset`. */
  scale?: number;
  offset?: number;
}

/**
 * Samples `image` at `toSource(u, v)` for every output pixel (u, v): bilinear, black outside
 * the image. Writes interleaved RGB (`pixel * scale + offset`) into `out`; a Uint8ClampedArray
 * rounds and clamps to bytes on write.
 */
export function warpInto<T extends Float32Array | Uint8ClampedArray>(
  image: RgbPixels,
  toSource: Affine,
  width: number,
  height: number,
  out: T,
  opts: WarpOptions = {},
): T {
  checkSizes(image, out, width, height);
  const { data, width: w, height: h } = image;
  const taps = Math.max(1, Math.round(opts.taps ?? 1));
  const scale = (opts.scale ?? 1) / (taps * taps);
  const offset = opts.offset ?? 0;
  const [a, b, c, d, e, f] = toSource;
  const stride = w * 3;
  // Sub-pixel offsets of the taps inside one output pixel.
  const sub = Float64Array.from({ length: taps }, (_, k) => (k + 0.5) / taps - 0.5);
  if (taps === 1) return warpOneTap(data, w, h, toSource, width, height, out, scale, offset);
  const edge = new Float64Array(3);
  let o = 0;
  // One function with local accumulators: a helper or a closure per tap measured 1.5-2x slower.
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      let r = 0,
        g = 0,
        bl = 0;
      for (let j = 0; j < taps; j++) {
        const vv = v + sub[j]!;
        // Step along the row rather than multiply per tap.
        let x = a * (u + sub[0]!) + b * vv + c;
        let y = d * (u + sub[0]!) + e * vv + f;
        const dx = a / taps,
          dy = d / taps;
        for (let i = 0; i < taps; i++, x += dx, y += dy) {
          const x0 = Math.floor(x),
            y0 = Math.floor(y);
          const fx = x - x0,
            fy = y - y0;
          if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
            const i00 = y0 * stride + x0 * 3;
            const i01 = i00 + stride;
            const w00 = (1 - fx) * (1 - fy),
              w10 = fx * (1 - fy),
              w01 = (1 - fx) * fy,
              w11 = fx * fy;
            r += data[i00]! * w00 + data[i00 + 3]! * w10 + data[i01]! * w01 + data[i01 + 3]! * w11;
            g += data[i00 + 1]! * w00 + data[i00 + 4]! * w10 + data[i01 + 1]! * w01 + data[i01 + 4]! * w11;
            bl += data[i00 + 2]! * w00 + data[i00 + 5]! * w10 + data[i01 + 2]! * w01 + data[i01 + 5]! * w11;
          } else if (x0 >= -1 && y0 >= -1 && x0 < w && y0 < h) {
            borderSample(data, w, h, x0, y0, fx, fy, edge);
            r += edge[0]!;
            g += edge[1]!;
            bl += edge[2]!;
          }
        }
      }
      out[o++] = r * scale + offset;
      out[o++] = g * scale + offset;
      out[o++] = bl * scale + offset;
    }
  }
  return out;
}

/**
 * Bilinear sample of a point whose 2x2 neighbourhood crosses the image border: the neighbours
 * outside count as black. Writes RGB into `rgb` (rare, so a call here costs nothing measurable).
 */
function borderSample(
  data: Uint8Array,
  w: number,
  h: number,
  x0: number,
  y0: number,
  fx: number,
  fy: number,
  rgb: Float64Array,
): void {
  rgb.fill(0);
  for (let k = 0; k < 4; k++) {
    const px = x0 + (k & 1),
      py = y0 + (k >> 1);
    if (px < 0 || py < 0 || px >= w || py >= h) continue;
    const wt = (k & 1 ? fx : 1 - fx) * (k >> 1 ? fy : 1 - fy);
    const idx = (py * w + px) * 3;
    rgb[0] = rgb[0]! + data[idx]! * wt;
    rgb[1] = rgb[1]! + data[idx + 1]! * wt;
    rgb[2] = rgb[2]! + data[idx + 2]! * wt;
  }
}

/** warpInto with one tap per pixel: the common case, stepping the source point along each row. */
function warpOneTap<T extends Float32Array | Uint8ClampedArray>(
  data: Uint8Array,
  w: number,
  h: number,
  m: Affine,
  width: number,
  height: number,
  out: T,
  scale: number,
  offset: number,
): T {
  const [a, b, c, d, e, f] = m;
  const stride = w * 3;
  const edge = new Float64Array(3);
  let o = 0;
  for (let v = 0; v < height; v++) {
    let x = b * v + c,
      y = e * v + f;
    for (let u = 0; u < width; u++, x += a, y += d, o += 3) {
      const x0 = Math.floor(x),
        y0 = Math.floor(y);
      const fx = x - x0,
        fy = y - y0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        const i00 = y0 * stride + x0 * 3;
        const i01 = i00 + stride;
        const w00 = (1 - fx) * (1 - fy) * scale,
          w10 = fx * (1 - fy) * scale,
          w01 = (1 - fx) * fy * scale,
          w11 = fx * fy * scale;
        out[o] = data[i00]! * w00 + data[i00 + 3]! * w10 + data[i01]! * w01 + data[i01 + 3]! * w11 + offset;
        out[o + 1] = data[i00 + 1]! * w00 + data[i00 + 4]! * w10 + data[i01 + 1]! * w01 + data[i01 + 4]! * w11 + offset;
        out[o + 2] = data[i00 + 2]! * w00 + data[i00 + 5]! * w10 + data[i01 + 2]! * w01 + data[i01 + 5]! * w11 + offset;
        continue;
      }
      edge.fill(0);
      if (x0 >= -1 && y0 >= -1 && x0 < w && y0 < h) borderSample(data, w, h, x0, y0, fx, fy, edge);
      out[o] = edge[0]! * scale + offset;
      out[o + 1] = edge[1]! * scale + offset;
      out[o + 2] = edge[2]! * scale + offset;
    }
  }
  return out;
}

/** Warps into a new size x size RGB chip of bytes (rounded, clamped). */
export function warpRgb(
  image: RgbPixels,
  toSource: Affine,
  size: number,
  opts: Pick<WarpOptions, 'taps'> = {},
): Uint8Array {
  const out = warpInto(image, toSource, size, size, new Uint8ClampedArray(size * size * 3), opts);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  /** `maxCount` weights per output pixel. */
  weights: Float32Array;
  maxCount: number;
}

/** For each output pixel along one axis, the source pixels its footprint covers and their shares. */
function areaWeights(outSize: number, scale: number, shift: number, inSize: number): AxisWeights {
  const maxCount = Math.ceil(scale) + 1;
  const start = new Int32Array(outSize),
    count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxCount);
  for (let u = 0; u < outSize; u++) {
    // Output pixel u spans [u - 0.5, u + 0.5) around its centre; source pixel k spans [k - 0.5, k + 0.5).
    const lo = scale * (u - 0.5) + shift + 0.5;
    const hi = lo + scale;
    const k0 = Math.max(0, Math.floor(lo)),
      k1 = Math.min(inSize, Math.ceil(hi));
    start[u] = k0;
    count[u] = Math.max(0, k1 - k0);
    for (let k = k0; k < k1; k++) weights[u * maxCount + k - k0] = (Math.min(hi, k + 1) - Math.max(lo, k)) / scale;
  }
  return { start, count, weights, maxCount };
}

/**
 * Axis-aligned shrink (`toSource` = [sx, 0, tx, 0, sy, ty], sx and sy >= 1) averaging every
 * source pixel under each output pixel; the area outside the image counts as black.
 * Writes `pixel * scale + offset`, separably: rows first, then columns.
 */
export function resizeAreaInto(
  image: RgbPixels,
  toSource: Affine,
  width: number,
  height: number,
  out: Float32Array,
  opts: Omit<WarpOptions, 'taps'> = {},
): Float32Array {
  checkSizes(image, out, width, height);
  const [sx, b, tx, d, sy, ty] = toSource;
  if (b !== 0 || d !== 0 || sx < 1 || sy < 1) throw new Error('resizeAreaInto only shrinks along the axes');
  const { data, width: w, height: h } = image;
  const cols = areaWeights(width, sx, tx, w);
  const rows = areaWeights(height, sy, ty, h);
  const scale = opts.scale ?? 1,
    offset = opts.offset ?? 0;
  // Only the source rows some output row reads are resized horizontally.
  const needed = new Uint8Array(h);
  let firstRow = h,
    lastRow = 0;
  for (let v = 0; v < height; v++) {
    if (rows.count[v]! === 0) continue;
    firstRow = Math.min(firstRow, rows.start[v]!);
    lastRow = Math.max(lastRow, rows.start[v]! + rows.count[v]!);
    needed.fill(1, rows.start[v]!, rows.start[v]! + rows.count[v]!);
  }
  const tmp = new Float32Array(Math.max(0, lastRow - firstRow) * width * 3);
  for (let y = firstRow; y < lastRow; y++) {
    if (!needed[y]) continue;
    const src = y * w * 3;
    let t = (y - firstRow) * width * 3;
    for (let u = 0; u < width; u++) {
      let r = 0,
        g = 0,
        bl = 0;
      const n = cols.count[u]!,
        wo = u * cols.maxCount;
      let i = src + cols.start[u]! * 3;
      for (let k = 0; k < n; k++, i += 3) {
        const wt = cols.weights[wo + k]!;
        r += data[i]! * wt;
        g += data[i + 1]! * wt;
        bl += data[i + 2]! * wt;
      }
      tmp[t++] = r;
      tmp[t++] = g;
      tmp[t++] = bl;
    }
  }
  const line = width * 3;
  for (let v = 0; v < height; v++) {
    const o = v * line;
    const n = rows.count[v]!,
      wo = v * rows.maxCount;
    if (n === 0) {
      out.fill(offset, o, o + line);
      continue;
    }
    // Scale folded into the row weights; the first row assigns, the others add.
    let t = (rows.start[v]! - firstRow) * line;
    let wt = rows.weights[wo]! * scale;
    for (let i = 0; i < line; i++) out[o + i] = tmp[t + i]! * wt + offset;
    for (let k = 1; k < n; k++) {
      t += line;
      wt = rows.weights[wo + k]! * scale;
      for (let i = 0; i < line; i++) out[o + i] = out[o + i]! + tmp[t + i]! * wt;
    }
  }
  return out;
}

/** A size x size interleaved RGB chip mirrored left to right (for flip-averaged embeddings). */
export function mirrorRgb(chip: Uint8Array, size: number): Uint8Array {
  if (chip.length !== size * size * 3) throw new Error(`Expected a ${size}x${size} RGB chip, got ${chip.length} bytes`);
  const out = new Uint8Array(chip.length);
  for (let y = 0; y < size; y++) {
    const row = y * size * 3;
    for (let x = 0; x < size; x++) {
      const s = row + x * 3,
        d = row + (size - 1 - x) * 3;
      out[d] = chip[s]!;
      out[d + 1] = chip[s + 1]!;
      out[d + 2] = chip[s + 2]!;
    }
  }
  return out;
}

/**
 * `image` copied into a black `size` x `size` network input at (left, top), each value
 * `pixel * scale + offset` (the letterbox libvips has already resized).
 */
export function placeInto(
  image: RgbPixels,
  left: number,
  top: number,
  size: number,
  out: Float32Array,
  opts: Omit<WarpOptions, 'taps'> = {},
): Float32Array {
  checkSizes(image, out, size, size);
  const { data, width, height } = image;
  if (left < 0 || top < 0 || left + width > size || top + height > size)
    throw new Error(`A ${width}x${height} image does not fit a ${size} square at ${left},${top}`);
  const scale = opts.scale ?? 1,
    offset = opts.offset ?? 0;
  out.fill(offset, 0, size * size * 3);
  const line = width * 3;
  for (let y = 0; y < height; y++) {
    const src = y * line;
    const dst = ((top + y) * size + left) * 3;
    for (let i = 0; i < line; i++) out[dst + i] = data[src + i]! * scale + offset;
  }
  return out;
}
