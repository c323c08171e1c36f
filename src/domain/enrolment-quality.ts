// The enrolment quality gate and a person's enrolment strength. An enrolment photo is the
// reference every later match is scored against: a face too small, too blurred or turned too far
// costs same-person similarity on every session photo, so it is refused with the reason. The
// floors were measured on LFW dev (docs/enrolment.md "Enrolment quality": where a worse enrolment
// face starts to cost verification at the shipped threshold; bench/enrolment-quality.ts).
import type { FaceQuality } from './face-quality.js';

export type EnrolmentRefusal = 'face_too_small' | 'too_blurry' | 'pose';

export interface EnrolmentGate {
  /** Narrower faces (photo pixels) are refused. */
  minWidthPx: number;
  /** Blurrier faces (Laplacian variance of the 112 px aligned grey face) are refused. */
  minSharpness: number;
  /** Heads turned further (|yaw|, degrees) are refused. */
  maxYaw: number;
}

export const ENROLMENT_GATE: Readonly<EnrolmentGate> = Object.freeze({ minWidthPx: 48, minSharpness: 20, maxYaw: 40 });

export interface GateVerdict {
  reason: EnrolmentRefusal;
  message: string;
}

/** Why a face may not be enrolled, or undefined when it passes; unmeasured qualities pass. */
export function enrolmentRefusal(q: FaceQuality, gate: EnrolmentGate = ENROLMENT_GATE): GateVerdict | undefined {
  if (q.widthPx !== null && q.widthPx < gate.minWidthPx)
    return {
      reason: 'face_too_small',
      message: `The face is ${q.widthPx} px wide; enrolment needs ${gate.minWidthPx} px`,
    };
  if (q.sharpness !== null && q.sharpness < gate.minSharpness)
    return {
      reason: 'too_blurry',
      message: `The face is too blurred (sharpness ${q.sharpness}; enrolment needs ${gate.minSharpness})`,
    };
  if (q.yaw !== null && Math.abs(q.yaw) > gate.maxYaw)
    return {
      reason: 'pose',
      message: `The head is turned ${Math.abs(q.yaw)} degrees; enrolment needs ${gate.maxYaw} at most`,
    };
  return undefined;
}

export type WeakReason = 'no_photos' | 'one_photo' | 'low_quality';

export interface EnrolmentStrength {
  photos: number;
  strength: 'weak' | 'ok';
  reasons: WeakReason[];
}

/**
 * A person's enrolment: weak with fewer than two photos, or when fewer than two of them pass the
 * gate (faces enrolled before the gate, or from session faces). Unmeasured photos count as passing.
 */
export function enrolmentStrength(
  photos: readonly FaceQuality[],
  gate: EnrolmentGate = ENROLMENT_GATE,
): EnrolmentStrength {
  const reasons: WeakReason[] = [];
  if (photos.length === 0) reasons.push('no_photos');
  else if (photos.length === 1) reasons.push('one_photo');
  const good = photos.filter((q) => !enrolmentRefusal(q, gate)).length;
  if (photos.length > 0 && good < Math.min(2, photos.length)) reasons.push('low_quality');
  return { photos: photos.length, strength: reasons.length ? 'weak' : 'ok', reasons };
}
