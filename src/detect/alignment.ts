// Face alignment maths: 2-D affine maps, the least-squares similarity transform (Umeyama) from
// five landmarks to the ArcFace template, face-api's landmark box, and a bilinear warp of
// interleaved RGB. Pure: no sharp, no onnxruntime.
import type { Box, FivePoints, Point } from '../domain/face.js';

/** x' = a*x + b*y + c, y' = d*x + e*y + f, stored as [a, b, c, d, e, f]. */
export type Affine = [number, number, number, number, number, number];

/** Interleaved 8-bit RGB, row-major. */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/** ArcFace's 112x112 five-point template (insightface), pixel centres at integers as cv2.warpAffine reads them. */
export const ARCFACE_TEMPLATE: Readonly<FivePoints> = Object.freeze([
  [38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041],
]) as Readonly<FivePoints>;

export function applyAffine(m: Affine, [x, y]: Point): Point {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new Error('Affine transform is not invertible');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * Least-squares similarity (rotation, uniform scale, translation; no reflection) taking `src`
 * onto `dst`: Umeyama's estimate, which in 2-D is the complex regression dst = w*src + t.
 */
export function similarityTransform(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new Error(`Need matching point lists of length >= 2 (got ${n} and ${dst.length})`);
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0]; sy += src[i]![1]; dx += dst[i]![0]; dy += dst[i]![1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let norm = 0, re = 0, im = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - sx, py = src[i]![1] - sy;
    const qx = dst[i]![0] - dx, qy = dst[i]![1] - dy;
    norm += px * px + py * py;
    re += px * qx + py * qy;
    im += px * qy - py * qx;
  }
  if (norm < 1e-12) throw new Error('Source points coincide: no similarity transform');
  const a = re / norm;
  const b = im / norm;
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

/** The ArcFace template scaled for a model input (`templateScale` = input size / 112). */
export function arcfaceTemplate(templateScale: number): FivePoints {
  return ARCFACE_TEMPLATE.map(([x, y]) => [x * templateScale, y * templateScale]) as FivePoints;
}

/** Output -> source map that warps the five points onto the scaled ArcFace template. */
export function templateWarp(points: readonly Point[], templateScale: number): Affine {
  if (points.length !== 5) throw new Error(`Template alignment needs 5 landmarks, got ${points.length}`);
  return invertAffine(similarityTransform(points, arcfaceTemplate(templateScale)));
}

/**
 * face-api's descriptor chip (FaceLandmarks.alignDlib): a square whose side is the mean
 * eye-to-mouth distance / 0.45, placed at 0.5 / 0.43 of the side around the centroid of the two
 * eye centres and the mouth centre. With five points the mouth centre is the corners' midpoint.
 * Unlike face-api the box is not shifted or clipped at the image border (the warp pads with black).
 */
export function landmarkBox(points: readonly Point[]): Box {
  if (points.length !== 5) throw new Error(`The landmark box needs 5 landmarks, got ${points.length}`);
  const [e0, e1, , m0, m1] = points as FivePoints;
  const mouth: Point = [(m0[0] + m1[0]) / 2, (m0[1] + m1[1]) / 2];
  const dist = (Math.hypot(mouth[0] - e0[0], mouth[1] - e0[1]) + Math.hypot(mouth[0] - e1[0], mouth[1] - e1[1])) / 2;
  const size = Math.max(1, Math.floor(dist / 0.45));
  const cx = (e0[0] + e1[0] + mouth[0]) / 3;
  const cy = (e0[1] + e1[1] + mouth[1]) / 3;
  return [Math.floor(cx - 0.5 * size), Math.floor(cy - 0.43 * size), size, size];
}

/** Output -> source map resizing a square box to `size`, as tf.image.resizeBilinear does (no half-pixel offset). */
export function boxWarp(box: Box, size: number): Affine {
  const s = box[2] / size;
  return [s, 0, box[0], 0, box[3] / size, box[1]];
}

export interface WarpOptions {
  /** Average n x n bilinear taps per output pixel (anti-aliasing when shrinking a lot). Default 1. */
  taps?: number;
  /** Each output value is `pixel * scale + offset`, written to a Float32Array. */
  scale?: number;
  offset?: number;
}

/**
 * Samples `image` at `toSource(u, v)` for every output pixel (u, v): bilinear, black outside
 * the image. Writes interleaved RGB floats (`pixel * scale + offset`) into `out`.
 */
export function warpInto(image: RgbPixels, toSource: Affine, width: number, height: number, out: Float32Array, opts: WarpOptions = {}): Float32Array {
  const { data, width: w, height: h } = image;
  if (data.length < w * h * 3) throw new Error(`Image buffer holds ${data.length} bytes, expected ${w * h * 3}`);
  if (out.length < width * height * 3) throw new Error('Output buffer is too small');
  const taps = Math.max(1, Math.round(opts.taps ?? 1));
  const scale = (opts.scale ?? 1) / (taps * taps);
  const offset = opts.offset ?? 0;
  const [a, b, c, d, e, f] = toSource;
  let r = 0, g = 0, bl = 0;
  // One bilinear tap at (x, y), accumulated into r, g, bl; pixels outside the image count as black.
  const tap = (x: number, y: number) => {
    const x0 = Math.floor(x), y0 = Math.floor(y);
    const fx = x - x0, fy = y - y0;
    if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
      const i00 = (y0 * w + x0) * 3;
      const i10 = i00 + 3, i01 = i00 + w * 3, i11 = i01 + 3;
      const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
      r += data[i00]! * w00 + data[i10]! * w10 + data[i01]! * w01 + data[i11]! * w11;
      g += data[i00 + 1]! * w00 + data[i10 + 1]! * w10 + data[i01 + 1]! * w01 + data[i11 + 1]! * w11;
      bl += data[i00 + 2]! * w00 + data[i10 + 2]! * w10 + data[i01 + 2]! * w01 + data[i11 + 2]! * w11;
      return;
    }
    for (let k = 0; k < 4; k++) {
      const px = x0 + (k & 1), py = y0 + (k >> 1);
      if (px < 0 || py < 0 || px >= w || py >= h) continue;
      const wt = ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy);
      const i = (py * w + px) * 3;
      r += data[i]! * wt; g += data[i + 1]! * wt; bl += data[i + 2]! * wt;
    }
  };
  let o = 0;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      r = 0; g = 0; bl = 0;
      if (taps === 1) {
        tap(a * u + b * v + c, d * u + e * v + f);
      } else {
        for (let j = 0; j < taps; j++) {
          const vv = v + (j + 0.5) / taps - 0.5;
          for (let i = 0; i < taps; i++) {
            const uu = u + (i + 0.5) / taps - 0.5;
            tap(a * uu + b * vv + c, d * uu + e * vv + f);
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

/** Warps into a new size x size RGB chip of bytes. */
export function warpRgb(image: RgbPixels, toSource: Affine, size: number, opts: Pick<WarpOptions, 'taps'> = {}): Uint8Array {
  const floats = warpInto(image, toSource, size, size, new Float32Array(size * size * 3), opts);
  const out = new Uint8Array(floats.length);
  for (let i = 0; i < floats.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(floats[i]!)));
  return out;
}
