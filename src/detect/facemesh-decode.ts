// FaceMesh (192x192, 468 points, from @vladmandic/human) around the network: the crop taken
// from a BlazeFace region, the 468 points mapped back to the image, and the five points used
// for alignment. Human crops the region axis-aligned (rotation off by default); here the crop is
// also turned so the eyes are level, as MediaPipe does, which costs nothing in an affine warp.
import type { Box, FivePoints, Point } from '../domain/face.js';
import type { Affine } from './alignment.js';
import type { FaceRegion } from './blazeface-decode.js';

export const MESH_SIZE = 192;
export const MESH_POINTS = 468;

/** Mesh indices (Human's facemeshcoords.ts meshAnnotations): the eye contours, the nose tip, the mouth corners. */
const RIGHT_EYE = [246, 161, 160, 159, 158, 157, 173, 33, 7, 163, 144, 145, 153, 154, 155, 133];
const LEFT_EYE = [466, 388, 387, 386, 385, 384, 398, 263, 249, 390, 373, 374, 380, 381, 382, 362];
/** dlib's nose tip (face-api point 30) sits between mesh points 1 (lower) and 4 (higher): measured on the shared photos. */
const NOSE_TIP = [1, 4];
const MOUTH_RIGHT = 61;
const MOUTH_LEFT = 291;

/**
 * Mesh input coordinates (continuous, 0..192) -> image pixels: the square region, turned by the
 * roll of the line through the two BlazeFace eye keypoints.
 */
export function meshCropTransform(region: FaceRegion, rotate = true): Affine {
  const [e0, e1] = region.keypoints;
  const angle = rotate && e0 && e1 ? Math.atan2(e1[1] - e0[1], e1[0] - e0[0]) : 0;
  const s = region.side / MESH_SIZE;
  const cos = Math.cos(angle) * s,
    sin = Math.sin(angle) * s;
  const half = MESH_SIZE / 2;
  const [cx, cy] = region.center;
  return [cos, -sin, cx - cos * half + sin * half, sin, cos, cy - sin * half - cos * half];
}

/** Output pixel -> source map for warping the crop: crop pixel u is sampled at its centre u + 0.5. */
export function meshCropSampling(toImage: Affine): Affine {
  const [a, b, c, d, e, f] = toImage;
  return [a, b, c + 0.5 * (a + b), d, e, f + 0.5 * (d + e)];
}

/** The 468 (x, y, z) outputs, in crop coordinates, mapped to image pixels (z dropped). */
export function mapMesh(raw: Float32Array, toImage: Affine): Point[] {
  if (raw.length < MESH_POINTS * 3)
    throw new Error(`FaceMesh returned ${raw.length} values, expected ${MESH_POINTS * 3}`);
  const [a, b, c, d, e, f] = toImage;
  const out: Point[] = [];
  for (let i = 0; i < MESH_POINTS; i++) {
    const x = raw[i * 3]!,
      y = raw[i * 3 + 1]!;
    out.push([a * x + b * y + c, d * x + e * y + f]);
  }
  return out;
}

function mean(mesh: readonly Point[], indices: readonly number[]): Point {
  let x = 0,
    y = 0;
  for (const i of indices) {
    x += mesh[i]![0];
    y += mesh[i]![1];
  }
  return [x / indices.length, y / indices.length];
}

/**
 * The five alignment points: right-eye centre, left-eye centre (the person's right eye is on the
 * image's left in an upright photo), nose tip, right and left mouth corners. The order is
 * anatomical, so a rolled or upside-down face still maps onto the template without a mirror.
 */
export function fivePoints(mesh: readonly Point[]): FivePoints {
  if (mesh.length < MESH_POINTS) throw new Error(`Expected ${MESH_POINTS} mesh points, got ${mesh.length}`);
  return [mean(mesh, RIGHT_EYE), mean(mesh, LEFT_EYE), mean(mesh, NOSE_TIP), mesh[MOUTH_RIGHT]!, mesh[MOUTH_LEFT]!];
}

/** [x1, y1, x2, y2] around the mesh (not clipped to the image). */
export function meshExtent(mesh: readonly Point[]): [number, number, number, number] {
  let x1 = Infinity,
    y1 = Infinity,
    x2 = -Infinity,
    y2 = -Infinity;
  for (const [x, y] of mesh) {
    if (x < x1) x1 = x;
    if (y < y1) y1 = y;
    if (x > x2) x2 = x;
    if (y > y2) y2 = y;
  }
  return [x1, y1, x2, y2];
}

/** Tight box [x, y, w, h] around the mesh, clipped to the image. */
export function meshBox(mesh: readonly Point[], width: number, height: number): Box {
  const [ex1, ey1, ex2, ey2] = meshExtent(mesh);
  const x1 = Math.max(0, ex1),
    y1 = Math.max(0, ey1);
  const x2 = Math.min(width, ex2),
    y2 = Math.min(height, ey2);
  return [x1, y1, Math.max(0, x2 - x1), Math.max(0, y2 - y1)];
}

/**
 * A second crop centred on the first mesh (the middle of its extent, as Human's
 * calculateFaceBox) with the same side, turned by the mesh's own eye line.
 */
export function regionFromMesh(mesh: readonly Point[], previous: FaceRegion): FaceRegion {
  const [x1, y1, x2, y2] = meshExtent(mesh);
  const [eyeR, eyeL] = fivePoints(mesh);
  return {
    center: [(x1 + x2) / 2, (y1 + y2) / 2],
    side: previous.side,
    score: previous.score,
    keypoints: [eyeR, eyeL],
  };
}

/**
 * The FaceMesh crop around a whole-photo detector's face: centred on its box, `sideScale` times
 * its longer side, turned by the line through its two eye landmarks (image-left eye first).
 */
export function regionFromBox(
  face: { box: Box; landmarks: readonly Point[]; score: number },
  sideScale: number,
): FaceRegion {
  const [x, y, w, h] = face.box;
  const [e0, e1] = face.landmarks;
  return {
    center: [x + w / 2, y + h / 2],
    side: sideScale * Math.max(w, h),
    score: face.score,
    keypoints: e0 && e1 ? [e0, e1] : [],
  };
}
