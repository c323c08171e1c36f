// Scoring detections against pasted ground truth: one-to-one greedy matching by IoU, recall per
// face-width bin, false detections. Pure, so the benchmark's numbers are testable.
import { iou } from '../../src/detect/blazeface-decode.js';
import type { Box } from '../../src/domain/face.js';

/** Face-width bins (pixels, [lo, hi)) the issue reports recall in, and the two target bands. */
export const WIDTH_BINS: ReadonlyArray<readonly [number, number]> = [
  [24, 32],
  [32, 48],
  [48, 96],
  [96, 200],
  [30, 40],
  [40, 200],
];

/**
 * RetinaFace boxes are narrower and taller than the BlazeFace/FaceMesh boxes the truth comes from
 * (IoU ~0.6-0.75 on the same face): a detection counts when IoU >= 0.3 and it is the best free one.
 */
export const MATCH_IOU = 0.3;

const rect = ([x, y, w, h]: Box) => [x, y, x + w, y + h];

export interface Scored {
  /** Per truth face: matched or not. */
  hit: boolean[];
  falseDetections: number;
  /** IoU of each match. */
  ious: number[];
}

export function matchFaces(truth: readonly Box[], found: readonly Box[], minIou = MATCH_IOU): Scored {
  const pairs: { t: number; f: number; v: number }[] = [];
  truth.forEach((tb, t) =>
    found.forEach((fb, f) => {
      const v = iou(rect(tb), rect(fb));
      if (v >= minIou) pairs.push({ t, f, v });
    }),
  );
  pairs.sort((a, b) => b.v - a.v);
  const hit = truth.map(() => false);
  const used = found.map(() => false);
  const ious: number[] = [];
  for (const { t, f, v } of pairs) {
    if (hit[t] || used[f]) continue;
    hit[t] = true;
    used[f] = true;
    ious.push(v);
  }
  return { hit, falseDetections: used.filter((u) => !u).length, ious };
}

export interface BinRecall {
  bin: readonly [number, number];
  faces: number;
  found: number;
}

export function recallByWidth(faces: readonly { width: number; hit: boolean }[]): BinRecall[] {
  return WIDTH_BINS.map((bin) => {
    const inBin = faces.filter((f) => f.width >= bin[0] && f.width < bin[1]);
    return { bin, faces: inBin.length, found: inBin.filter((f) => f.hit).length };
  });
}
