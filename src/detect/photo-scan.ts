// Whole-photo detection geometry: which scales (a pyramid) and which overlapping 640x640
// windows a photo is scanned with, and how the faces found in the windows are merged into one
// list in the photo's pixels. Pure maths; the worker runs the network on each window.
import type { DetectedFace, Point } from '../domain/face.js';
import { nonMaxSuppression } from './blazeface-decode.js';
import type { WindowFace } from './retinaface-decode.js';

export interface ScanOptions {
  /** Face width (photo pixels) the finest level is sized for; smaller faces may still be found. */
  minFaceSize: number;
  /** Face width the finest level gives a minFaceSize face in the window (RetinaFace mnet.25 finds ~22 px reliably alone). */
  minFaceInWindow: number;
  window: number;
  /** Step between windows; window - stride is the overlap a face must fit in to be seen whole. */
  stride: number;
  /** Each coarser level is this many times smaller: big faces are found whole on a coarse level. */
  levelRatio: number;
}

// The finest level is 0.8 of the photo (a 24 px face ~19 px in the window) with a 96 px overlap:
// 35 windows at 12 MP instead of 55 at full resolution with 160 px. Every 24-32 px face was still
// found (docs/detection.md). Faces of 70-130 px then come from the coarser level, whose boxes
// and points are less exact: FaceMesh refits every face on the full-resolution pixels
// (FaceDetector.refineFaces), which is what makes this scan match a face's box in its tile alone.
export const DEFAULT_SCAN: Readonly<ScanOptions> = Object.freeze({
  minFaceSize: 24,
  minFaceInWindow: 19.2,
  window: 640,
  stride: 544,
  levelRatio: 3,
});

export interface ScanWindow {
  x: number;
  y: number;
}

export interface ScanLevel {
  /** Level size: the photo resized by ~scale (exact per-axis factors are width/photo width). */
  width: number;
  height: number;
  windows: ScanWindow[];
}

/** Window origins along one axis: evenly spread, the first at 0 and the last flush with the end. */
export function windowStarts(length: number, window: number, stride: number): number[] {
  if (length <= window) return [0];
  const n = Math.ceil((length - window) / stride) + 1;
  return Array.from({ length: n }, (_, i) => Math.round((i * (length - window)) / (n - 1)));
}

/**
 * The pyramid for a width x height photo: the finest level makes a minFaceSize face
 * minFaceInWindow wide (never upscaling, never below one window), each next level levelRatio
 * times smaller, down to the first level that fits in one window.
 */
export function planScan(width: number, height: number, opts: ScanOptions = DEFAULT_SCAN): ScanLevel[] {
  if (!(opts.minFaceSize > 0)) throw new RangeError(`minFaceSize must be positive, got ${opts.minFaceSize}`);
  // A photo that fits one window at full size is scanned at full size: the same cost, finer faces.
  let scale = Math.min(1, Math.max(opts.minFaceInWindow / opts.minFaceSize, opts.window / Math.max(width, height)));
  const levels: ScanLevel[] = [];
  for (;;) {
    const w = Math.max(1, Math.round(width * scale)),
      h = Math.max(1, Math.round(height * scale));
    const xs = windowStarts(w, opts.window, opts.stride),
      ys = windowStarts(h, opts.window, opts.stride);
    levels.push({ width: w, height: h, windows: ys.flatMap((y) => xs.map((x) => ({ x, y }))) });
    if (w <= opts.window && h <= opts.window) return levels;
    scale /= opts.levelRatio;
  }
}

/** A face in photo pixels, remembering whether its window cut it (it touches an inner window edge). */
export interface ScanCandidate {
  rect: [number, number, number, number];
  score: number;
  landmarks: Point[];
  cut: boolean;
}

/** Within this many window pixels of an inner edge a box counts as cut by the window. */
const EDGE_MARGIN = 3;

/** Maps one window's faces from window pixels to photo pixels (pixel centres at integers). */
export function toPhoto(
  faces: readonly WindowFace[],
  win: ScanWindow,
  level: ScanLevel,
  photo: { width: number; height: number },
  window = DEFAULT_SCAN.window,
): ScanCandidate[] {
  const fx = photo.width / level.width,
    fy = photo.height / level.height;
  const px = (x: number) => (x + win.x + 0.5) * fx - 0.5;
  const py = (y: number) => (y + win.y + 0.5) * fy - 0.5;
  const inner = {
    left: win.x > 0,
    top: win.y > 0,
    right: win.x + window < level.width,
    bottom: win.y + window < level.height,
  };
  return faces.map((f) => {
    const [x0, y0, x1, y1] = f.rect;
    const cut =
      (inner.left && x0 <= EDGE_MARGIN) ||
      (inner.top && y0 <= EDGE_MARGIN) ||
      (inner.right && x1 >= window - EDGE_MARGIN) ||
      (inner.bottom && y1 >= window - EDGE_MARGIN);
    return {
      rect: [px(x0), py(y0), px(x1), py(y1)],
      score: f.score,
      landmarks: f.landmarks.map(([x, y]): Point => [px(x), py(y)]),
      cut,
    };
  });
}

/** Share of `a`'s area that lies inside `b`. */
export function containedShare(a: readonly number[], b: readonly number[]): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  const area = (a[2]! - a[0]!) * (a[3]! - a[1]!);
  return w > 0 && h > 0 && area > 0 ? (w * h) / area : 0;
}

export interface MergeOptions {
  iouThreshold: number;
  /** A cut box loses to an uncut box holding at least this share of it. */
  cutContained: number;
}

export const DEFAULT_MERGE: Readonly<MergeOptions> = Object.freeze({ iouThreshold: 0.4, cutContained: 0.6 });

/**
 * One list from every window and level: half faces cut by a window edge give way to the whole
 * face found elsewhere (their IoU with it is only ~0.3, too low for NMS), then a global NMS.
 * Boxes are clipped to the photo; most confident first.
 */
export function mergeCandidates(
  candidates: readonly ScanCandidate[],
  photo: { width: number; height: number },
  opts: MergeOptions = DEFAULT_MERGE,
): DetectedFace[] {
  return mergedIndices(candidates, opts).map((i) => clipToPhoto(candidates[i]!, photo));
}

/** Which candidates mergeCandidates keeps (their indices, most confident first). */
export function mergedIndices(candidates: readonly ScanCandidate[], opts: MergeOptions = DEFAULT_MERGE): number[] {
  const whole = candidates.filter((c) => !c.cut);
  const kept = candidates
    .map((c, index) => ({ ...c, index }))
    .filter((c) => !c.cut || !whole.some((w) => containedShare(c.rect, w.rect) >= opts.cutContained));
  return nonMaxSuppression(kept, opts.iouThreshold, Infinity).map((c) => c.index);
}

/** A candidate as a face: its box clipped to the photo. */
export function clipToPhoto(c: ScanCandidate, photo: { width: number; height: number }): DetectedFace {
  const x0 = Math.max(0, c.rect[0]),
    y0 = Math.max(0, c.rect[1]);
  const x1 = Math.min(photo.width, c.rect[2]),
    y1 = Math.min(photo.height, c.rect[3]);
  return { box: [x0, y0, Math.max(0, x1 - x0), Math.max(0, y1 - y0)], score: c.score, landmarks: c.landmarks };
}

/** Two faces refitted onto one face (FaceMesh boxes overlapping by IoU > 0.5): the more confident kept. */
export function dropRefitDuplicates(faces: readonly DetectedFace[]): DetectedFace[] {
  const withRects = faces.map((f) => {
    const [x, y, w, h] = f.box;
    return { ...f, rect: [x, y, x + w, y + h] };
  });
  return nonMaxSuppression(withRects, 0.5, Infinity).map(({ box, score, landmarks }) => ({ box, score, landmarks }));
}

/** The `max` largest faces (by box area), largest first. */
export function largestFirst(faces: readonly DetectedFace[], max: number): DetectedFace[] {
  return [...faces].sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]).slice(0, max);
}
