// The automatic half of attendance. Inside each photo, one-to-one: a member at most once per
// photo and a face at most one member, among pairs at or above the face's threshold: as many
// pairs as possible, and among those the greatest total similarity (weights 1 + similarity).
// Across photos a member is present when matched in any of them; every matched face answers its
// member, and the member's row holds the best of those faces (highest similarity, then the
// earliest face). Photos are solved independently, so the answer does not depend on the order
// they arrive in.
// Rows set by hand (or by a cluster's enrolment) are fixed: the solve never changes them, and
// the faces they hold are theirs. A member set absent by hand is out of the solve; one set
// present still answers their faces in the photos where their held face is not.
import { maxWeightAssignment } from '../domain/assignment.js';
import { personScore } from '../domain/person-score.js';
import { cosineSimilarity } from '../domain/vector.js';
import type { AttendanceChange, AttendanceRow } from '../repositories/attendance.repository.js';
import type { FaceMatch } from '../repositories/session-match.repository.js';

export interface MatchFace {
  faceCropId: number;
  /** The photo the face was cut from: the one-to-one rule holds inside it. */
  photoId: number;
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

export interface SessionSolution {
  /** The automatic rows whose state changes, with their new state. */
  decisions: AutoDecision[];
  /** Every face the solve gave to a member, in face order. */
  matches: FaceMatch[];
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
  return solveSessionFaces(input).decisions;
}

/** The whole solve: the rows' decisions and the answer of every matched face. */
export function solveSessionFaces(input: MatchInput): SessionSolution {
  const fixed = input.rows.filter((r) => r.source !== 'auto');
  const heldFaces = new Set(fixed.map((r) => r.faceCropId).filter((id) => id !== null));
  const photoOf = new Map(input.faces.map((f) => [f.faceCropId, f.photoId]));
  // Members a fixed row already places in a photo (through the face it holds there).
  const placed = new Set(
    fixed
      .filter((r) => r.faceCropId !== null && r.personId !== null)
      .map((r) => `${photoOf.get(r.faceCropId!)}:${r.personId}`),
  );
  const members = input.rows.filter((r) => r.personId !== null && (r.source === 'auto' || r.status === 'present'));

  const byPhoto = new Map<number, MatchFace[]>();
  for (const f of input.faces) {
    if (f.embedding === null || heldFaces.has(f.faceCropId)) continue;
    byPhoto.set(f.photoId, [...(byPhoto.get(f.photoId) ?? []), f]);
  }
  const matches: FaceMatch[] = [];
  for (const [photoId, faces] of byPhoto) {
    const open = members.filter((m) => !placed.has(`${photoId}:${m.personId}`));
    const weights = faces.map((f) =>
      open.map((m) => {
        const s = gallerySimilarity(f.embedding!, input.galleries.get(m.personId!));
        return s !== null && s >= (f.threshold ?? input.threshold) ? 1 + s : 0;
      }),
    );
    maxWeightAssignment(weights).forEach((m, i) => {
      if (m >= 0)
        matches.push({
          faceCropId: faces[i]!.faceCropId,
          personId: open[m]!.personId!,
          similarity: weights[i]![m]! - 1,
        });
    });
  }
  matches.sort((a, b) => a.faceCropId - b.faceCropId);

  // Each member's best face: highest similarity, then the earliest face (matches are in face order).
  const best = new Map<number, FaceMatch>();
  for (const m of matches) {
    const held = best.get(m.personId);
    if (!held || m.similarity > held.similarity) best.set(m.personId, m);
  }
  const decisions: AutoDecision[] = [];
  for (const row of input.rows) {
    if (row.source !== 'auto' || row.personId === null) continue;
    const hit = best.get(row.personId);
    const next: AttendanceChange = hit
      ? { status: 'present', source: 'auto', similarity: hit.similarity, faceCropId: hit.faceCropId }
      : { status: 'absent', source: 'auto', similarity: null, faceCropId: null };
    if (!same(row, next)) decisions.push({ row, next });
  }
  return { decisions, matches };
}
