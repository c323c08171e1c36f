// Face alignment maths: 2-D affine maps, the least-squares similarity transform (Umeyama) from
// five landmarks to the ArcFace template, and face-api's landmark box. The pixels are moved by
// resample.ts. Pure: no sharp, no onnxruntime.
import type { Box, FivePoints, Point } from '../domain/face.js';

/** x' = a*x + b*y + c, y' = d*x + e*y + f, stored as [a, b, c, d, e, f]. */
export type Affine = [number, number, number, number, number, number];

/** ArcFace's 112x112 five-point template (insightface), pixel centres at integers as cv2.warpAffine reads them. */
export const ARCFACE_TEMPLATE: Readonly<FivePoints> = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
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
  if (n < 2 || dst.length !== n)
    throw new Error(`Need matching point lists of length >= 2 (got ${n} and ${dst.length})`);
  let sx = 0,
    sy = 0,
    dx = 0,
    dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0];
    sy += src[i]![1];
    dx += dst[i]![0];
    dy += dst[i]![1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let norm = 0,
    re = 0,
    im = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - sx,
      py = src[i]![1] - sy;
    const qx = dst[i]![0] - dx,
      qy = dst[i]![1] - dy;
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
 * Our five points put the mouth centre at the corners' midpoint, higher than face-api's mean of
 * its 20 mouth points, so the eye-to-mouth distance comes out shorter: on the shared photos the
 * box was 0.958x face-api's (median, centres within 1% of the side). This factor undoes that.
 */
export const LANDMARK_BOX_SCALE = 1.045;

/**
 * face-api's descriptor chip (FaceLandmarks.alignDlib): a square whose side is the mean
 * eye-to-mouth distance / 0.45, placed at 0.5 / 0.43 of the side around the centroid of the two
 * eye centres and the mouth centre. With five points the mouth centre is the corners' midpoint.
 * Unlike face-api the box is not shifted or clipped at the image border (the warp pads with black).
 */
export function landmarkBox(points: readonly Point[], scale = LANDMARK_BOX_SCALE): Box {
  if (points.length !== 5) throw new Error(`The landmark box needs 5 landmarks, got ${points.length}`);
  const [e0, e1, , m0, m1] = points as FivePoints;
  const mouth: Point = [(m0[0] + m1[0]) / 2, (m0[1] + m1[1]) / 2];
  const dist = (Math.hypot(mouth[0] - e0[0], mouth[1] - e0[1]) + Math.hypot(mouth[0] - e1[0], mouth[1] - e1[1])) / 2;
  const size = Math.max(1, Math.floor((dist * scale) / 0.45));
  const cx = (e0[0] + e1[0] + mouth[0]) / 3;
  const cy = (e0[1] + e1[1] + mouth[1]) / 3;
  return [Math.floor(cx - 0.5 * size), Math.floor(cy - 0.43 * size), size, size];
}

/** Output -> source map resizing a square box to `size`, as tf.image.resizeBilinear does (no half-pixel offset). */
export function boxWarp(box: Box, size: number): Affine {
  const s = box[2] / size;
  return [s, 0, box[0], 0, box[3] / size, box[1]];
}
