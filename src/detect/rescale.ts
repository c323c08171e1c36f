// Faces found on a shrunken copy of a photo (decodeImage's maxSide) carried back to the
// original's pixels. Coordinates put pixel centres at integers, so a point moves as
// (x + 0.5) * factor - 0.5; widths and heights simply scale.
import type { DetectedFace, Point } from '../domain/face.js';

export function rescaleFace(face: DetectedFace, fx: number, fy: number): DetectedFace {
  const point = ([x, y]: Point): Point => [(x + 0.5) * fx - 0.5, (y + 0.5) * fy - 0.5];
  const [x, y, w, h] = face.box;
  const [bx, by] = point([x, y]);
  return { box: [bx, by, w * fx, h * fy], score: face.score, landmarks: face.landmarks.map(point) };
}

/** Faces detected on a `from`-sized copy, in the coordinates of the `to`-sized original. */
export function rescaleFaces(
  faces: readonly DetectedFace[],
  from: { width: number; height: number },
  to: { width: number; height: number },
): DetectedFace[] {
  const fx = to.width / from.width,
    fy = to.height / from.height;
  return faces.map((f) => rescaleFace(f, fx, fy));
}
