// How good a stored face is to look at and to trust: its width in photo pixels, the sharpness
// of the aligned face (variance of its Laplacian), and the head's pose from the five points.
// The review rule is the one owner of "a match a person should confirm": a face below the
// quality floor, or a match within the margin above its threshold. Floor and margin were
// chosen by measurement (docs/attendance.md "Review").
import type { FivePoints } from './face.js';

export interface FaceQuality {
  widthPx: number | null;
  sharpness: number | null;
  /** Degrees; 0 is frontal, the sign says which way the head turns. */
  yaw: number | null;
  /** Degrees of the eye line from horizontal. */
  roll: number | null;
}

export const UNKNOWN_QUALITY: FaceQuality = Object.freeze({ widthPx: null, sharpness: null, yaw: null, roll: null });

export interface ReviewPolicy {
  /** Faces narrower than this (photo pixels) are reviewed. */
  minWidthPx: number;
  /** Faces blurrier than this (Laplacian variance of the 112 px aligned grey face) are reviewed. */
  minSharpness: number;
  /** A match below threshold + margin is reviewed. */
  margin: number;
}

/**
 * Chosen on bench:attendance's real-identity classes at the shipped thresholds (half of the
 * classes; reported on the other half): within the budget of 10% of matches flagged at 30-50 px
 * and at 60-100 px, a margin of 0.03 flagged the most wrong matches with the fewest right ones
 * (0.06 flagged 14% at 30-50 px); a width or sharpness floor only added right ones.
 */
export const REVIEW_POLICY: ReviewPolicy = Object.freeze({ minWidthPx: 0, minSharpness: 0, margin: 0.03 });

/** Yaw and roll from the five points: the nose's place between the eyes, once the eye line is level. */
export function poseFromLandmarks(points: Readonly<FivePoints>): { yaw: number; roll: number } {
  const [e0, e1, nose] = points;
  const dx = e1[0] - e0[0];
  const dy = e1[1] - e0[1];
  const eyeDistance = Math.hypot(dx, dy);
  const roll = (Math.atan2(dy, dx) * 180) / Math.PI;
  if (eyeDistance === 0) return { yaw: 0, roll };
  // Nose position along the eye line, 0 at one eye and 1 at the other (0.5 frontal). With the
  // nose tip about half the eye distance in front of the eyes, tan(yaw) = 2 * (t - 0.5).
  const t = ((nose[0] - e0[0]) * dx + (nose[1] - e0[1]) * dy) / (eyeDistance * eyeDistance);
  return { yaw: (Math.atan(2 * (t - 0.5)) * 180) / Math.PI, roll };
}

/** Orders faces best first (enrolment picks, a cluster's representative): larger, sharper, more frontal. */
export function qualityRank(q: FaceQuality): number {
  const size = Math.min(q.widthPx ?? 0, 160) / 160;
  const sharp = Math.min(q.sharpness ?? 0, 400) / 400;
  const frontal = Math.cos((Math.min(Math.abs(q.yaw ?? 0), 90) * Math.PI) / 180);
  return size * (0.5 + 0.5 * sharp) * frontal;
}

/** True when an automatic match should be confirmed by a person. */
export function needsReview(
  q: FaceQuality,
  similarity: number,
  threshold: number,
  policy: ReviewPolicy = REVIEW_POLICY,
): boolean {
  if (similarity < threshold + policy.margin) return true;
  if (q.widthPx !== null && q.widthPx < policy.minWidthPx) return true;
  return q.sharpness !== null && q.sharpness < policy.minSharpness;
}
