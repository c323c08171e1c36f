// Which cosine threshold decides "same person" for a face of a given size: the one owner of that
// policy (sessions, identification and the benchmarks ask it). Small faces are upsampled into
// the model's input and their same-person similarities fall, so a model may carry thresholds
// per face-width band, calibrated on dev pairs shrunk to known widths (bench/accuracy.ts).

/** Faces narrower than `belowWidth` pixels (their box in the photo they were found in) use `threshold`. */
export interface SizeBand {
  belowWidth: number;
  threshold: number;
  /** The false-accept rate on calibration impostors at which `threshold` was chosen, when known. */
  far?: number;
}

export interface ThresholdPolicy {
  /** The model's threshold for faces of full enrolment size. */
  threshold: number;
  /** Narrowest band first; a face wider than every band takes `threshold`. */
  sizeBands?: readonly SizeBand[];
}

/**
 * The threshold for a face `faceWidth` pixels wide; with no width known (a stored crop without
 * a box) or no bands, the model's own. An explicit threshold from the caller overrides all.
 */
export function thresholdForFace(
  policy: ThresholdPolicy,
  faceWidth: number | null | undefined,
  explicit?: number,
): number {
  if (explicit !== undefined) return explicit;
  if (faceWidth === null || faceWidth === undefined || !Number.isFinite(faceWidth)) return policy.threshold;
  for (const band of policy.sizeBands ?? []) if (faceWidth < band.belowWidth) return band.threshold;
  return policy.threshold;
}
