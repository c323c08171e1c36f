// Is an image a tight crop, one face filling it? Then the worker skips BlazeFace: FaceMesh runs on
// the whole image (letterboxed into its input; libvips shrinks a large one) and its points align
// the face. FaceMesh fits a face to whatever frame it is given, so a high score and wide-spread
// points are needed but not enough: on a head-and-shoulders portrait it still spreads a confident
// mesh over the frame, a little too big and off by 10-20% of the eye distance. This module owns
// the decision; the thresholds come from the shared deepface-unit photos (TIGHT_CROP).
import type { FivePoints, Point } from '../domain/face.js';
import type { Affine } from './alignment.js';
import type { FaceRegion } from './blazeface-decode.js';
import { MESH_SIZE, fivePoints, meshExtent } from './facemesh-decode.js';

/**
 * Measured with FaceMesh on the whole image, on the 64 deepface-unit photos, their 160 px low-res
 * copies, face crops cut from them with 10-25% margins (160 px and native size), and crops of the
 * tilted, posed heads in face-api's demo photos:
 * - every deepface-unit crop BlazeFace finds a face in scored 1.0 (float32 saturated); of the
 *   full portraits five did, three of them close-ups whose whole-image mesh was as good as
 *   BlazeFace's. The highest unsaturated portrait: 1 - 1.2e-7, two float32 steps below 1. Half
 *   the demo photos' turned or tilted heads did not saturate (they go to BlazeFace).
 * - mesh width >= 0.471 and height >= 0.594 of the image's longest side on every 25%-margin crop;
 *   the saturated portraits whose mesh was off (0.08-0.12 eye distances from BlazeFace's) were at
 *   most 0.443 wide.
 * - the whole-image pass is not levelled and reads a rolled face as less rolled than it is (a
 *   head turned 34 degrees read 15); past a true ~20 degrees its points were off by 0.08-0.24 eye
 *   distances, and such heads read >= 13 degrees.
 * - so below `sureWidth` or past `sureRoll` a second pass, framed on the first mesh and levelled
 *   by its eyes, must land within `maxDrift`: upright crops drifted <= 0.051 eye distances,
 *   meshes that were off >= 0.064. A crop pasted into a 2-7x larger image never saturated the score.
 * Eye distance over image size overlapped (0.17-0.22 on portraits, 0.20-0.27 on crops): not used.
 */
export const TIGHT_CROP = Object.freeze({
  /** Saturated: 1.0 or the float32 step below it. */
  minScore: 1 - 2 ** -24,
  minWidth: 0.455,
  minHeight: 0.58,
  sureWidth: 0.5,
  /** Degrees of roll, as the whole-image pass reads it. */
  sureRoll: 8,
  maxRoll: 20,
  maxDrift: 0.06,
  /** Side of the second pass's square over the first mesh's larger extent (BlazeFace's regions: 1.23-1.45, median 1.32). */
  confirmSide: 1.33,
});

/** Where an image sits inside the square network input when letterboxed (aspect kept, centred, black around). */
export interface Placement {
  /** Size of the resized image inside the square. */
  width: number;
  height: number;
  left: number;
  top: number;
  /** Input coordinates (continuous, 0..size) -> image pixels (centres at integers). */
  toImage: Affine;
}

export function letterboxPlacement(width: number, height: number, size = MESH_SIZE): Placement {
  const s = Math.max(width, height) / size;
  const w = Math.min(size, Math.max(1, Math.round(width / s)));
  const h = Math.min(size, Math.max(1, Math.round(height / s)));
  const left = Math.floor((size - w) / 2);
  const top = Math.floor((size - h) / 2);
  // The exact scale of each axis after rounding: input pixel u covers image [u*sx, (u+1)*sx).
  const sx = width / w;
  const sy = height / h;
  return { width: w, height: h, left, top, toImage: [sx, 0, -left * sx - 0.5, 0, sy, -top * sy - 0.5] };
}

export interface MeshMeasures {
  score: number;
  /** Extent of the 468 points over the image's longest side. */
  width: number;
  height: number;
  /** Angle of the eye line, degrees (0: level, the person's right eye on the image's left). */
  roll: number;
  eyesInside: boolean;
}

export function measureMesh(mesh: readonly Point[], score: number, width: number, height: number): MeshMeasures {
  const [x1, y1, x2, y2] = meshExtent(mesh);
  const long = Math.max(width, height);
  const [eyeR, eyeL] = fivePoints(mesh);
  const inside = ([x, y]: Point) => x >= 0 && y >= 0 && x <= width - 1 && y <= height - 1;
  return {
    score,
    width: (x2 - x1) / long,
    height: (y2 - y1) / long,
    roll: (Math.atan2(eyeL[1] - eyeR[1], eyeL[0] - eyeR[0]) * 180) / Math.PI,
    eyesInside: inside(eyeR) && inside(eyeL),
  };
}

export type TightCropVerdict =
  | { kind: 'tight'; reason: string }
  /** Near the boundary: a second FaceMesh pass on `region` must agree (confirmTightCrop). */
  | { kind: 'confirm'; reason: string; region: FaceRegion }
  | { kind: 'not'; reason: string };

const f2 = (v: number) => v.toFixed(2);
/** A score near 1 as its distance from 1 (0.9999999 and 0.99999988 differ here). */
const scoreText = (score: number) => (score > 0.999 ? `1 - ${(1 - score).toExponential(1)}` : score.toFixed(3));

/** The verdict on the whole-image mesh of a `width` x `height` image. */
export function judgeTightCrop(mesh: readonly Point[], score: number, width: number, height: number): TightCropVerdict {
  const m = measureMesh(mesh, score, width, height);
  const size = `face ${f2(m.width)} x ${f2(m.height)} of the image`;
  if (!(m.score >= TIGHT_CROP.minScore)) return { kind: 'not', reason: `mesh score ${scoreText(m.score)}` };
  if (!m.eyesInside) return { kind: 'not', reason: 'eyes outside the image' };
  if (Math.abs(m.roll) > TIGHT_CROP.maxRoll) return { kind: 'not', reason: `roll ${m.roll.toFixed(0)} degrees` };
  if (m.width < TIGHT_CROP.minWidth || m.height < TIGHT_CROP.minHeight) return { kind: 'not', reason: size };
  if (m.width >= TIGHT_CROP.sureWidth && Math.abs(m.roll) <= TIGHT_CROP.sureRoll)
    return { kind: 'tight', reason: size };
  const why = Math.abs(m.roll) > TIGHT_CROP.sureRoll ? `${size}, roll ${m.roll.toFixed(0)} degrees` : size;
  return { kind: 'confirm', reason: why, region: confirmRegion(mesh) };
}

/** The second pass's square: centred on the first mesh, the side BlazeFace's region would have, levelled by the eyes. */
export function confirmRegion(mesh: readonly Point[]): FaceRegion {
  const [x1, y1, x2, y2] = meshExtent(mesh);
  const [eyeR, eyeL] = fivePoints(mesh);
  return {
    center: [(x1 + x2) / 2, (y1 + y2) / 2],
    side: TIGHT_CROP.confirmSide * Math.max(x2 - x1, y2 - y1),
    score: 1,
    keypoints: [eyeR, eyeL],
  };
}

/** Mean distance between two fits' five points, in eye distances of the second. */
export function landmarkDrift(first: FivePoints, second: FivePoints): number {
  const eyes = Math.hypot(second[1][0] - second[0][0], second[1][1] - second[0][1]);
  const sum = first.reduce((s, p, i) => s + Math.hypot(p[0] - second[i]![0], p[1] - second[i]![1]), 0);
  return eyes > 0 ? sum / 5 / eyes : Infinity;
}

/** Whether the second pass confirms the first: as sure a face, at the same five points. */
export function confirmTightCrop(
  first: readonly Point[],
  second: readonly Point[],
  secondScore: number,
): { ok: boolean; reason: string } {
  if (!(secondScore >= TIGHT_CROP.minScore))
    return { ok: false, reason: `second mesh score ${scoreText(secondScore)}` };
  const drift = landmarkDrift(fivePoints(first), fivePoints(second));
  return { ok: drift <= TIGHT_CROP.maxDrift, reason: `second mesh ${f2(drift)} eye distances away` };
}
