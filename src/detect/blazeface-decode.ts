// BlazeFace (the 256x256 model shipped by @vladmandic/human) before and after the network:
// letterboxing, anchors, box and keypoint decoding, sigmoid scores, NMS, and the enlarged
// square box that the mesh model is cropped from. Follows Human's src/face/blazeface.ts and
// facemeshutil.ts (generateAnchors, scaleBoxCoordinates, enlargeBox, squarifyBox).
import type { Point } from '../domain/face.js';
import type { Affine } from './alignment.js';

export const BLAZEFACE_SIZE = 256;
/** Six keypoints: two eyes (image-left first on an upright face), nose, mouth, two ears. */
export const BLAZEFACE_KEYPOINTS = 6;
/** Values per anchor: logit, box (cx, cy, w, h), 6 keypoints x 2. */
const ROW = 1 + 4 + BLAZEFACE_KEYPOINTS * 2;

/** Anchor centres in input pixels: strides 16 (2 per cell) then 32 (6 per cell), 896 in all. */
export function generateAnchors(inputSize = BLAZEFACE_SIZE): Float32Array {
  const specs = [
    { stride: inputSize / 16, count: 2 },
    { stride: inputSize / 8, count: 6 },
  ];
  const out: number[] = [];
  for (const { stride, count } of specs) {
    const cells = Math.floor((inputSize + stride - 1) / stride);
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let n = 0; n < count; n++) out.push(stride * (gx + 0.5), stride * (gy + 0.5));
      }
    }
  }
  return Float32Array.from(out);
}

/**
 * The square network input for an image: the whole image scaled to fit, centred, padded with
 * black. Returns the output -> source map (pixel centres at integers on both sides) and the
 * input -> image map used to bring decoded coordinates back.
 */
export function letterbox(
  width: number,
  height: number,
  inputSize = BLAZEFACE_SIZE,
): { toSource: Affine; toImage: Affine } {
  const s = Math.max(width, height) / inputSize;
  const padX = (inputSize - width / s) / 2;
  const padY = (inputSize - height / s) / 2;
  // Network coordinates are continuous (0..inputSize spans the square, pixel u covers [u, u+1));
  // image coordinates put pixel centres at integers, as the warp and the 5-point template do.
  const toImage: Affine = [s, 0, -padX * s - 0.5, 0, s, -padY * s - 0.5];
  // Output pixel u is sampled at its centre, network coordinate u + 0.5.
  const toSource: Affine = [s, 0, toImage[2] + 0.5 * s, 0, s, toImage[5] + 0.5 * s];
  return { toSource, toImage };
}

export interface RawOutput {
  data: Float32Array;
  dims: readonly number[];
}

/**
 * The model's four outputs (scores and regressors for the 512 stride-16 anchors and the 384
 * stride-32 anchors), told apart by shape, merged into 896 rows of 17 values in anchor order.
 */
export function mergeOutputs(outputs: readonly RawOutput[], anchorCount: number): Float32Array {
  if (outputs.length === 1 && outputs[0]!.data.length === anchorCount * ROW) return outputs[0]!.data;
  const lastDim = (o: RawOutput) => o.dims[o.dims.length - 1] ?? 0;
  const scores = outputs.filter((o) => lastDim(o) === 1).sort((x, y) => y.data.length - x.data.length);
  const regs = outputs.filter((o) => lastDim(o) === ROW - 1).sort((x, y) => y.data.length - x.data.length);
  const total = scores.reduce((n, o) => n + o.data.length, 0);
  if (
    scores.length !== regs.length ||
    scores.length === 0 ||
    total !== anchorCount ||
    scores.some((o, i) => regs[i]!.data.length !== o.data.length * (ROW - 1))
  ) {
    throw new Error(`Unexpected BlazeFace outputs: ${outputs.map((o) => `[${o.dims.join(',')}]`).join(' ')}`);
  }
  const rows = new Float32Array(anchorCount * ROW);
  let r = 0;
  scores.forEach((s, k) => {
    const reg = regs[k]!.data;
    for (let i = 0; i < s.data.length; i++, r++) {
      rows[r * ROW] = s.data[i]!;
      rows.set(reg.subarray(i * (ROW - 1), (i + 1) * (ROW - 1)), r * ROW + 1);
    }
  });
  return rows;
}

export interface Candidate {
  /** [x1, y1, x2, y2] in network input pixels. */
  rect: [number, number, number, number];
  score: number;
  keypoints: Point[];
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Every anchor scoring at least `minScore`, decoded to input pixels (offsets are relative to the anchor centre). */
export function decodeCandidates(rows: Float32Array, anchors: Float32Array, minScore: number): Candidate[] {
  const out: Candidate[] = [];
  const n = anchors.length / 2;
  // Compare logits first: exp() only for the few anchors that pass.
  const minLogit = Math.log(minScore / (1 - minScore));
  for (let i = 0; i < n; i++) {
    const o = i * ROW;
    const logit = rows[o]!;
    if (!(logit >= minLogit)) continue;
    const ax = anchors[i * 2]!,
      ay = anchors[i * 2 + 1]!;
    const cx = rows[o + 1]! + ax,
      cy = rows[o + 2]! + ay;
    const hw = rows[o + 3]! / 2,
      hh = rows[o + 4]! / 2;
    const keypoints: Point[] = [];
    for (let k = 0; k < BLAZEFACE_KEYPOINTS; k++)
      keypoints.push([rows[o + 5 + k * 2]! + ax, rows[o + 6 + k * 2]! + ay]);
    out.push({ rect: [cx - hw, cy - hh, cx + hw, cy + hh], score: sigmoid(logit), keypoints });
  }
  return out;
}

export function iou(a: readonly number[], b: readonly number[]): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression, as tf.image.nonMaxSuppression: best first, drop overlaps above `iouThreshold`. */
export function nonMaxSuppression<T extends { rect: readonly number[]; score: number }>(
  items: readonly T[],
  iouThreshold: number,
  maxCount: number,
): T[] {
  const sorted = [...items].sort((x, y) => y.score - x.score);
  const kept: T[] = [];
  for (const item of sorted) {
    if (kept.length >= maxCount) break;
    if (kept.every((k) => iou(k.rect, item.rect) <= iouThreshold)) kept.push(item);
  }
  return kept;
}

export interface FaceRegion {
  /** Centre and side of the square region (image pixels) the mesh model is cropped from. */
  center: Point;
  side: number;
  score: number;
  /** BlazeFace keypoints in image pixels. */
  keypoints: Point[];
}

/** Maps a candidate to image pixels and enlarges it (Human's detector scale 1.4) to a square. */
export function toFaceRegion(c: Candidate, toImage: Affine, enlarge = 1.4): FaceRegion {
  const [s, , tx, , , ty] = toImage;
  const map = ([x, y]: Point): Point => [x * s + tx, y * s + ty];
  const [x1, y1] = map([c.rect[0], c.rect[1]]);
  const [x2, y2] = map([c.rect[2], c.rect[3]]);
  return {
    center: [(x1 + x2) / 2, (y1 + y2) / 2],
    side: Math.max(x2 - x1, y2 - y1) * enlarge,
    score: c.score,
    keypoints: c.keypoints.map(map),
  };
}

export interface DecodeOptions {
  minScore: number;
  iouThreshold: number;
  maxFaces: number;
}

/** Network outputs -> face regions in image pixels, best first. */
export function decodeBlazeface(
  outputs: readonly RawOutput[],
  anchors: Float32Array,
  toImage: Affine,
  opts: DecodeOptions,
): FaceRegion[] {
  const rows = mergeOutputs(outputs, anchors.length / 2);
  const kept = nonMaxSuppression(decodeCandidates(rows, anchors, opts.minScore), opts.iouThreshold, opts.maxFaces);
  return kept.map((c) => toFaceRegion(c, toImage));
}
