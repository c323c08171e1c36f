// The face a photo stands for, and the faces that could dispute it. One owner of the policy:
// crops, enrolment and identify-by-photo all ask here. The rule (InsightFace's ranking plus the
// detector's confidence), each term a fraction of the image so it holds at any resolution:
//   rank = (area - POSITION_WEIGHT * offset^2) / image area + SCORE_WEIGHT * score
// where offset is the distance of the box centre from the image centre. A central face beats an
// equally large face at the edge, and a low-score edge face loses to a confident one. The
// weights and the plausibility floors were chosen by measurement (docs/enrolment.md "The face a
// photo stands for": bench/principal-face.ts).
import type { Box } from './face.js';

export interface RankedFace {
  box: Box;
  score: number;
}

export interface PrincipalPolicy {
  /** Weight of the squared centre offset against the face's area (InsightFace: 2). */
  positionWeight: number;
  /** Weight of the detector's score (0..1) against the area terms (fractions of the image). */
  scoreWeight: number;
  /** A competitor needs at least this detector score to be plausible. */
  plausibleScore: number;
  /** ... and at least this fraction of the principal face's width. */
  plausibleWidth: number;
}

export const PRINCIPAL_POLICY: Readonly<PrincipalPolicy> = Object.freeze({
  positionWeight: 2,
  scoreWeight: 0.5,
  plausibleScore: 0.9,
  plausibleWidth: 0.8,
});

export interface ImageSize {
  width: number;
  height: number;
}

export function principalRank(face: RankedFace, image: ImageSize, policy: PrincipalPolicy = PRINCIPAL_POLICY): number {
  const [x, y, w, h] = face.box;
  const dx = x + w / 2 - image.width / 2;
  const dy = y + h / 2 - image.height / 2;
  const imageArea = Math.max(1, image.width * image.height);
  return (w * h - policy.positionWeight * (dx * dx + dy * dy)) / imageArea + policy.scoreWeight * face.score;
}

/** Indices of `faces`, the principal face first; ties keep the detector's order. */
export function rankFaces(
  faces: readonly RankedFace[],
  image: ImageSize,
  policy: PrincipalPolicy = PRINCIPAL_POLICY,
): number[] {
  const ranks = faces.map((f) => principalRank(f, image, policy));
  return faces.map((_, i) => i).sort((a, b) => ranks[b]! - ranks[a]! || a - b);
}

/** The index of the principal face, or -1 when there is none. */
export function principalIndex(
  faces: readonly RankedFace[],
  image: ImageSize,
  policy: PrincipalPolicy = PRINCIPAL_POLICY,
): number {
  return faces.length ? rankFaces(faces, image, policy)[0]! : -1;
}

/**
 * The faces that could be the one the photo stands for, the principal first: the principal face
 * and every other face that is confident and about as wide. Two or more make the photo ambiguous.
 */
export function plausibleFaces<F extends RankedFace>(
  faces: readonly F[],
  image: ImageSize,
  policy: PrincipalPolicy = PRINCIPAL_POLICY,
): F[] {
  const order = rankFaces(faces, image, policy);
  if (order.length === 0) return [];
  const principal = faces[order[0]!]!;
  return order
    .map((i) => faces[i]!)
    .filter(
      (f) =>
        f === principal || (f.score >= policy.plausibleScore && f.box[2] >= policy.plausibleWidth * principal.box[2]),
    );
}

export function boxIou(a: Box, b: Box): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/** A named box must overlap its detected face at least this much (IoU). */
export const NAMED_BOX_MIN_IOU = 0.5;

/** The index of the face that best overlaps `box`, or -1 when none reaches NAMED_BOX_MIN_IOU. */
export function faceAtBox(faces: readonly RankedFace[], box: Box): number {
  let best = -1;
  let bestIou = NAMED_BOX_MIN_IOU;
  faces.forEach((f, i) => {
    const v = boxIou(f.box, box);
    if (v >= bestIou) {
      best = i;
      bestIou = v;
    }
  });
  return best;
}
