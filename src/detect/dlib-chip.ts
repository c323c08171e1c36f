// dlib's face chip, the one its face recognition ResNet (our facenet) was trained and evaluated
// on: get_face_chip_details(shape, 150, 0.25) + extract_image_chip (dlib 19.24,
// dlib/image_transforms/interpolation.h). The landmarks are fitted by a least-squares similarity
// onto dlib's mean face shape placed in a padded square; the chip is that square, sampled
// bilinearly from an image pyramid level (pyramid_down<2>) when it shrinks the face more than 2x.
// Here: the geometry (which source pixels the chip reads). dlib-resample.ts moves the pixels.
import type { FivePoints, Point } from '../domain/face.js';
import { similarityTransform, type Affine } from './alignment.js';

/** dlib's mean face shape: points 17..67 of the 68-point (iBUG 300-W) markup, in a unit square. */
const MEAN_FACE_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127,
  0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606,
  0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985, 0.428858, 0.490127,
  0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127,
  0.552157, 0.689874, 0.553364, 0.490127, 0.42689,
];
const MEAN_FACE_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352,
  0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852,
  0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405,
  0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792,
  0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182,
];

/** The 68-point indices dlib fits: 17..67 without the eyebrows (17-26) and the lower lip (55-59, 65-67). */
export const DLIB_FIT_POINTS: readonly number[] = Object.freeze(
  Array.from({ length: 51 }, (_, i) => i + 17).filter((i) => !(i <= 26 || (i >= 55 && i <= 59) || i >= 65)),
);

/** Mean-face point `index` (17..67) where get_face_chip_details places it in a `size` chip with `padding`. */
export function dlibTemplatePoint(index: number, size: number, padding: number): Point {
  const k = index - 17;
  if (!Number.isInteger(index) || k < 0 || k >= MEAN_FACE_X.length)
    throw new RangeError(`dlib's mean face has points 17..67, not ${index}`);
  return [
    ((padding + MEAN_FACE_X[k]!) / (2 * padding + 1)) * size,
    ((padding + MEAN_FACE_Y[k]!) / (2 * padding + 1)) * size,
  ];
}

const meanOf = (points: readonly Point[]): Point => [
  points.reduce((s, p) => s + p[0], 0) / points.length,
  points.reduce((s, p) => s + p[1], 0) / points.length,
];

/**
 * Our five points on dlib's template: eye centres = the means of points 36-41 and 42-47, nose tip
 * 30, mouth corners 48 and 54 (the placement is linear, so the mean of placed points is the placed mean).
 */
export function dlibFivePointTemplate(size: number, padding: number): FivePoints {
  const at = (i: number) => dlibTemplatePoint(i, size, padding);
  const range = (from: number) => Array.from({ length: 6 }, (_, i) => at(from + i));
  return [meanOf(range(36)), meanOf(range(42)), at(30), at(48), at(54)];
}

/** dlib's drectangle: inclusive edges, so its width is right - left + 1. */
export interface DRect {
  l: number;
  t: number;
  r: number;
  b: number;
}

/** dlib's chip_details: the chip is `rect` (in image pixels) turned by `angle` about its centre, sampled to rows x cols. */
export interface ChipDetails {
  rect: DRect;
  angle: number;
  rows: number;
  cols: number;
}

const area = (r: DRect) => (r.t > r.b || r.l > r.r ? 0 : (r.r - r.l + 1) * (r.b - r.t + 1));
const centre = (r: DRect): Point => [(r.l + r.r) / 2, (r.t + r.b) / 2];

function rotateAbout([cx, cy]: Point, [x, y]: Point, angle: number): Point {
  const c = Math.cos(angle),
    s = Math.sin(angle);
  const dx = x - cx,
    dy = y - cy;
  return [c * dx - s * dy + cx, s * dx + c * dy + cy];
}

/** chip_details(chip_points, img_points, dims): the similarity taking the chip points onto the image points, as a turned rectangle. */
export function chipDetails(chipPoints: readonly Point[], imagePoints: readonly Point[], size: number): ChipDetails {
  const [a, , tx, d, , ty] = similarityTransform(chipPoints, imagePoints);
  const angle = Math.atan2(d, a);
  const scale = Math.hypot(a, d);
  // centered_drect(tform(size/2, size/2), size*scale, size*scale): width and height shrink by 1 first.
  const cx = a * (size / 2) - d * (size / 2) + tx;
  const cy = d * (size / 2) + a * (size / 2) + ty;
  const half = (size * scale - 1) / 2;
  return { rect: { l: cx - half, t: cy - half, r: cx + half, b: cy + half }, angle, rows: size, cols: size };
}

/**
 * get_face_chip_details for 68 dlib landmarks (the points dlib fits, DLIB_FIT_POINTS) or for our
 * five points (eye centres, nose tip, mouth corners) fitted to the same template's five.
 */
export function dlibFaceChipDetails(points: readonly Point[], size: number, padding: number): ChipDetails {
  if (!(size > 0) || !(padding >= 0)) throw new RangeError(`Invalid chip size ${size} or padding ${padding}`);
  if (points.length === 68) {
    const idx = DLIB_FIT_POINTS;
    return chipDetails(
      idx.map((i) => dlibTemplatePoint(i, size, padding)),
      idx.map((i) => points[i]!),
      size,
    );
  }
  if (points.length === 5) return chipDetails(dlibFivePointTemplate(size, padding), points, size);
  throw new RangeError(`dlib's chip needs 68 or 5 landmarks, got ${points.length}`);
}

/** pyramid_down<2>'s point map, which dlib uses to place a rectangle on the next level. */
const pointDown = ([x, y]: Point): Point => [x / 2 - 1.25, y / 2 - 0.75];

function rectDown(r: DRect): DRect {
  const [l, t] = pointDown([r.l, r.t]);
  const [rr, b] = pointDown([r.r, r.b]);
  return { l: Math.min(l, rr), t: Math.min(t, b), r: Math.max(l, rr), b: Math.max(t, b) };
}

/** How extract_image_chips reads one chip: from which crop of the image, how many pyramid levels down, by which map. */
export interface ChipPlan {
  /** The image region the pyramid is built on, inclusive integer edges [left, top, right, bottom]. */
  crop: [number, number, number, number];
  /** Times the crop is halved by pyramid_down<2> before sampling (0: the crop itself). */
  levels: number;
  /** Chip pixel -> pixel of that level (pixel centres at integers). */
  toLevel: Affine;
}

/** extract_image_chips' choice of crop, pyramid depth and sampling map for one chip in a `width` x `height` image. */
export function chipPlan(details: ChipDetails, width: number, height: number): ChipPlan {
  const { rect, angle, rows, cols } = details;
  const pixels = rows * cols;
  // Depth: halve while the chip would still be sampled at more than 2x shrink; each level needs a wider border.
  let grow = 2;
  let down = rectDown(rect);
  while (area(down) > pixels) {
    down = rectDown(down);
    grow = grow * 2 + 2;
  }
  const c = centre(rect);
  const corners = (
    [
      [rect.l, rect.t],
      [rect.r, rect.t],
      [rect.l, rect.b],
      [rect.r, rect.b],
    ] as Point[]
  ).map((p) => rotateAbout(c, p, angle));
  const xs = corners.map((p) => p[0]),
    ys = corners.map((p) => p[1]);
  // grow_rect(rot_rect, grow).intersect(image), rounded as dlib's drectangle -> rectangle (floor(x + 0.5)).
  const round = (v: number) => Math.floor(v + 0.5);
  const crop: [number, number, number, number] = [
    round(Math.max(Math.min(...xs) - grow, 0)),
    round(Math.max(Math.min(...ys) - grow, 0)),
    round(Math.min(Math.max(...xs) + grow, width - 1)),
    round(Math.min(Math.max(...ys) + grow, height - 1)),
  ];
  if (crop[0] > crop[2] || crop[1] > crop[3]) throw new RangeError('The face chip lies outside the image');
  let local: DRect = { l: rect.l - crop[0], t: rect.t - crop[1], r: rect.r - crop[0], b: rect.b - crop[1] };
  let levels = 0;
  while (area(rectDown(local)) > pixels) {
    levels++;
    local = rectDown(local);
  }
  // Chip corners (0,0), (cols-1,0), (0,rows-1) onto the turned rectangle's corners on that level.
  return { crop, levels, toLevel: chipToImage({ ...details, rect: local }) };
}

/** Chip pixel -> image pixel as the chip's corners sit on its turned rectangle (the pyramid aside). */
export function chipToImage(details: ChipDetails): Affine {
  const { rect, angle, rows, cols } = details;
  const c = centre(rect);
  const [tl, tr, bl] = (
    [
      [rect.l, rect.t],
      [rect.r, rect.t],
      [rect.l, rect.b],
    ] as Point[]
  ).map((p) => rotateAbout(c, p, angle)) as [Point, Point, Point];
  return [
    (tr[0] - tl[0]) / (cols - 1),
    (bl[0] - tl[0]) / (rows - 1),
    tl[0],
    (tr[1] - tl[1]) / (cols - 1),
    (bl[1] - tl[1]) / (rows - 1),
    tl[1],
  ];
}
