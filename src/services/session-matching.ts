// The automatic half of attendance: over all of a session's faces and the roster members not
// decided by hand, one-to-one, among pairs at or above the model's threshold only: as many
// pairs as possible, and among those the greatest total similarity (weights 1 + similarity).
// Manual rows are fixed: their person and their face are out of the solve, so nothing
// automatic ever overwrites them.
import { maxWeightAssignment } from '../domain/assignment.js';
import { personScore } from '../domain/person-score.js';
import { cosineSimilarity } from '../domain/vector.js';
import type { AttendanceChange, AttendanceRow } from '../repositories/attendance.repository.js';

export interface MatchFace {
  faceCropId: number;
  embedding: Float32Array | null;
  /** This face's own threshold (domain/face-threshold.ts, by its width); unset: the input's. */
  threshold?: number;
}

export interface MatchInput {
  faces: readonly MatchFace[];
  /** Enrolled embeddings per person. */
  galleries: ReadonlyMap<number, readonly Float32Array[]>;
  rows: readonly AttendanceRow[];
  threshold: number;
}

export interface AutoDecision {
  row: AttendanceRow;
  next: AttendanceChange;
}

/** A person's score against a face (personScore over their enrolled faces); null without any. */
export function gallerySimilarity(face: Float32Array, gallery: readonly Float32Array[] | undefined): number | null {
  return personScore((gallery ?? []).filter((g) => g.length === face.length).map((g) => cosineSimilarity(face, g)));
}

const same = (row: AttendanceRow, next: AttendanceChange): boolean =>
  row.status === next.status &&
  row.faceCropId === next.faceCropId &&
  (row.similarity === null) === (next.similarity === null) &&
  (row.similarity === null || next.similarity === null || Math.abs(row.similarity - next.similarity) < 1e-6);

/** The automatic rows whose state changes, with their new state. */
export function solveSession(input: MatchInput): AutoDecision[] {
  // Set by hand or by a cluster's enrolment: fixed.
  const manual = input.rows.filter((r) => r.source !== 'auto');
  const heldFaces = new Set(manual.map((r) => r.faceCropId).filter((id) => id !== null));
  const members = input.rows.filter((r) => r.source === 'auto' && r.personId !== null);
  const faces = input.faces.filter((f) => f.embedding !== null && !heldFaces.has(f.faceCropId));

  const weights = faces.map((f) =>
    members.map((m) => {
      const s = gallerySimilarity(f.embedding!, input.galleries.get(m.personId!));
      return s !== null && s >= (f.threshold ?? input.threshold) ? 1 + s : 0;
    }),
  );
  const assigned = maxWeightAssignment(weights);
  const faceOf = new Map<number, { faceCropId: number; similarity: number }>();
  assigned.forEach((m, f) => {
    if (m >= 0) faceOf.set(m, { faceCropId: faces[f]!.faceCropId, similarity: weights[f]![m]! - 1 });
  });

  const out: AutoDecision[] = [];
  members.forEach((row, m) => {
    const hit = faceOf.get(m);
    const next: AttendanceChange = hit
      ? { status: 'present', source: 'auto', similarity: hit.similarity, faceCropId: hit.faceCropId }
      : { status: 'absent', source: 'auto', similarity: null, faceCropId: null };
    if (!same(row, next)) out.push({ row, next });
  });
  return out;
}
