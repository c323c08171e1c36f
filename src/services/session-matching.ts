// The automatic half of attendance. Inside each photo, one-to-one: a member at most once per
// photo and a face at most one member, among pairs at or above the face's threshold: as many
// pairs as possible, and among those the greatest total similarity (weights 1 + similarity).
// Across photos a member is present when matched in any of them; every matched face answers its
// member, and the member's row holds the best of those faces (highest similarity, then the
// earliest face).
// Two passes, so the answer does not depend on the order photos arrive in: pass 1 solves every
// photo against the enrolment faces only; pass 2 solves every photo again with each member's
// faces that pass 1 matched clearly (not for review) in the session's OTHER photos added to their
// enrolment faces, scored by the same rule (never below the enrolment faces' own score) and held
// to the same threshold: a member seen in one photo is then recognised in another where their
// enrolment alone fell short. No further pass.
// Rows set by hand (or by a cluster's enrolment) are fixed: the solve never changes them, and
// the faces they hold (and other faces given by hand) are theirs. A member set absent by hand is
// out of the solve; one set present still answers their faces in the photos where no face given
// by hand places them already.
import { maxWeightAssignment } from '../domain/assignment.js';
import { needsReview, UNKNOWN_QUALITY, type FaceQuality } from '../domain/face-quality.js';
import { personScore } from '../domain/person-score.js';
import { cosineSimilarity } from '../domain/vector.js';
import type { AttendanceChange, AttendanceRow } from '../repositories/attendance.repository.js';

export interface MatchFace {
  faceCropId: number;
  /** The photo the face was cut from: the one-to-one rule holds inside it. */
  photoId: number;
  embedding: Float32Array | null;
  /** This face's own threshold (domain/face-threshold.ts, by its width); unset: the input's. */
  threshold?: number;
  /** For the review rule: only faces matched clearly stand in for their member in other photos. */
  quality?: FaceQuality;
}

export interface MatchInput {
  faces: readonly MatchFace[];
  /** Enrolled embeddings per person. */
  galleries: ReadonlyMap<number, readonly Float32Array[]>;
  rows: readonly AttendanceRow[];
  /** Faces given by hand besides those the rows hold: fixed, like the rows. */
  manualFaces?: readonly { faceCropId: number; personId: number }[];
  threshold: number;
}

/** A face the solve gave to a member. */
export interface AutoMatch {
  faceCropId: number;
  personId: number;
  similarity: number;
}

export interface AutoDecision {
  row: AttendanceRow;
  next: AttendanceChange;
}

export interface SessionSolution {
  /** The automatic rows whose state changes, with their new state. */
  decisions: AutoDecision[];
  /** Every face the solve gave to a member, in face order. */
  matches: AutoMatch[];
}

/** A person's score against a face (personScore over their enrolled faces); null without any. */
export function gallerySimilarity(face: Float32Array, gallery: readonly Float32Array[] | undefined): number | null {
  return personScore((gallery ?? []).filter((g) => g.length === face.length).map((g) => cosineSimilarity(face, g)));
}

/** One-to-one inside each photo, each face against the open members scored by `score`. */
function solvePhotos(
  byPhoto: ReadonlyMap<number, MatchFace[]>,
  members: readonly AttendanceRow[],
  placed: ReadonlySet<string>,
  threshold: (f: MatchFace) => number,
  score: (f: MatchFace, personId: number) => number | null,
): AutoMatch[] {
  const matches: AutoMatch[] = [];
  for (const [photoId, faces] of byPhoto) {
    const open = members.filter((m) => !placed.has(`${photoId}:${m.personId}`));
    const weights = faces.map((f) =>
      open.map((m) => {
        const s = score(f, m.personId!);
        return s !== null && s >= threshold(f) ? 1 + s : 0;
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
  return matches;
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
  const byHand = [
    ...input.rows.flatMap((r) =>
      r.source !== 'auto' && r.faceCropId !== null ? [{ faceCropId: r.faceCropId, personId: r.personId }] : [],
    ),
    ...(input.manualFaces ?? []),
  ];
  const heldFaces = new Set(byHand.map((f) => f.faceCropId));
  const photoOf = new Map(input.faces.map((f) => [f.faceCropId, f.photoId]));
  // Members a face given by hand already places in its photo.
  const placed = new Set(byHand.map((f) => `${photoOf.get(f.faceCropId)}:${f.personId}`));
  const members = input.rows.filter((r) => r.personId !== null && (r.source === 'auto' || r.status === 'present'));

  const byPhoto = new Map<number, MatchFace[]>();
  for (const f of input.faces) {
    if (f.embedding === null || heldFaces.has(f.faceCropId)) continue;
    byPhoto.set(f.photoId, [...(byPhoto.get(f.photoId) ?? []), f]);
  }
  const threshold = (f: MatchFace) => f.threshold ?? input.threshold;
  const enrolled = (f: MatchFace, personId: number) => gallerySimilarity(f.embedding!, input.galleries.get(personId));
  const first = solvePhotos(byPhoto, members, placed, threshold, enrolled);

  // Pass 2: a member's clear pass-1 faces are extra templates in the session's other photos.
  const seen = new Map<number, MatchFace[]>();
  const faceById = new Map(input.faces.map((f) => [f.faceCropId, f]));
  for (const m of first) {
    const face = faceById.get(m.faceCropId)!;
    if (needsReview(face.quality ?? UNKNOWN_QUALITY, m.similarity, threshold(face))) continue;
    seen.set(m.personId, [...(seen.get(m.personId) ?? []), face]);
  }
  const matches = solvePhotos(byPhoto, members, placed, threshold, (f, personId) => {
    const own = enrolled(f, personId);
    const others = (seen.get(personId) ?? []).filter((t) => t.photoId !== f.photoId).map((t) => t.embedding!);
    if (others.length === 0) return own;
    const all = gallerySimilarity(f.embedding!, [...(input.galleries.get(personId) ?? []), ...others]);
    // The session's faces add evidence, never take it away: a match pass 1 allowed stays allowed.
    return own === null ? all : Math.max(own, all ?? own);
  });
  matches.sort((a, b) => a.faceCropId - b.faceCropId);

  // Each member's best face: highest similarity, then the earliest face (matches are in face order).
  const best = new Map<number, AutoMatch>();
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
