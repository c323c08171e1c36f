import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttendanceRow } from '../../src/repositories/attendance.repository.js';
import { solveSession, solveSessionFaces } from '../../src/services/session-matching.js';

const unit = (...v: number[]) => {
  const n = Math.hypot(...v);
  return new Float32Array(v.map((x) => x / n));
};
const row = (id: number, personId: number, extra: Partial<AttendanceRow> = {}): AttendanceRow => ({
  id,
  sessionId: 1,
  personId,
  personName: `p${personId}`,
  status: 'absent',
  source: 'auto',
  similarity: null,
  faceCropId: null,
  updatedAt: '',
  ...extra,
});

// Two members: 10 looks most like face 100 and enough like 101; 20 only like 100 (greedy would
// give 100 to 10 and leave 20 out).
const galleries = new Map([
  [10, [unit(1, 0.1, 0)]],
  [20, [unit(1, -0.3, 0)]],
]);
const faces = [
  { faceCropId: 100, photoId: 1, embedding: unit(1, 0, 0) },
  { faceCropId: 101, photoId: 1, embedding: unit(1, 0.6, 0) },
];

test('one to one inside a photo: the member who can only match face 100 gets it', () => {
  const decisions = solveSession({ faces, galleries, rows: [row(1, 10), row(2, 20)], threshold: 0.9 });
  const got = Object.fromEntries(decisions.map((d) => [d.row.personId, d.next.faceCropId]));
  assert.deepEqual(got, { 10: 101, 20: 100 });
  assert.ok(decisions.every((d) => d.next.status === 'present' && d.next.similarity! >= 0.9));
});

test('below the threshold nobody is matched; unchanged rows give no decision', () => {
  assert.deepEqual(solveSession({ faces, galleries, rows: [row(1, 10), row(2, 20)], threshold: 0.9999 }), []);
});

test('manual rows are fixed: their person and their face stay out of the solve', () => {
  const manual = row(2, 20, { status: 'present', source: 'manual', faceCropId: 101 });
  const decisions = solveSession({ faces, galleries, rows: [row(1, 10), manual], threshold: 0.9 });
  assert.deepEqual(
    decisions.map((d) => [d.row.personId, d.next.faceCropId]),
    [[10, 100]],
  );
  const absentByHand = row(1, 10, { source: 'manual' });
  const only = solveSession({ faces, galleries, rows: [absentByHand, row(2, 20)], threshold: 0.9 });
  assert.deepEqual(
    only.map((d) => [d.row.personId, d.next.faceCropId]),
    [[20, 100]],
  );
});

test('a face already held is released when the solve moves it', () => {
  const held = row(1, 10, { status: 'present', faceCropId: 100, similarity: 0.99 });
  const decisions = solveSession({ faces, galleries, rows: [held, row(2, 20)], threshold: 0.9 });
  assert.deepEqual(decisions.map((d) => [d.row.personId, d.next.faceCropId]).sort(), [
    [10, 101],
    [20, 100],
  ]);
});

test("a face's own threshold (its size band) decides for that face only", () => {
  // At 0.95 only face 100 can match (member 10 at 0.995, member 20 at 0.958): one member present.
  // Face 101 (member 10 at 0.905) with a band threshold of 0.9 may match too, and the one-to-one
  // solve then gives 101 to member 10 and 100 to member 20.
  const rows = [row(1, 10), row(2, 20)];
  const plain = solveSession({ faces, galleries, rows, threshold: 0.95 });
  assert.deepEqual(Object.fromEntries(plain.map((d) => [d.row.personId, d.next.faceCropId])), { 10: 100 });
  const small = faces.map((f) => (f.faceCropId === 101 ? { ...f, threshold: 0.9 } : f));
  const banded = solveSession({ faces: small, galleries, rows, threshold: 0.95 });
  assert.deepEqual(Object.fromEntries(banded.map((d) => [d.row.personId, d.next.faceCropId])), { 10: 101, 20: 100 });
  const strict = faces.map((f) => ({ ...f, threshold: 0.9999 }));
  assert.deepEqual(solveSession({ faces: strict, galleries, rows, threshold: 0.5 }), []);
});

// Member 10 in two photos: face 100 (photo 1, 0.995 to 10, 0.958 to 20) and face 200 (photo 2,
// 1.0 to 10). Over the whole session face 100 would go to 20; per photo it answers 10.
const twoPhotos = [
  { faceCropId: 100, photoId: 1, embedding: unit(1, 0, 0) },
  { faceCropId: 200, photoId: 2, embedding: unit(1, 0.1, 0) },
];
const answers = (m: { faceCropId: number; personId: number }[]) => m.map((x) => [x.faceCropId, x.personId]);

test('several photos: one-to-one in each, every matched face answers its member, the row holds the best', () => {
  const { decisions, matches } = solveSessionFaces({
    faces: twoPhotos,
    galleries,
    rows: [row(1, 10), row(2, 20)],
    threshold: 0.9,
  });
  assert.deepEqual(answers(matches), [
    [100, 10],
    [200, 10],
  ]);
  assert.deepEqual(
    decisions.map((d) => [d.row.personId, d.next.status, d.next.faceCropId]),
    [[10, 'present', 200]],
  );
  assert.ok(Math.abs(decisions[0]!.next.similarity! - 1) < 1e-6);
});

test('the answer does not depend on the order faces come in; ties keep the earliest face', () => {
  const twin = { faceCropId: 300, photoId: 3, embedding: unit(1, 0.1, 0) };
  const rows = [row(1, 10), row(2, 20)];
  const forward = solveSessionFaces({ faces: [...twoPhotos, twin], galleries, rows, threshold: 0.9 });
  const backward = solveSessionFaces({ faces: [twin, ...twoPhotos].reverse(), galleries, rows, threshold: 0.9 });
  assert.deepEqual(backward, forward);
  assert.deepEqual(answers(forward.matches), [
    [100, 10],
    [200, 10],
    [300, 10],
  ]);
  assert.equal(forward.decisions[0]!.next.faceCropId, 200);
});

test('a row set by hand stays as it is; a member present by hand still answers faces of other photos', () => {
  // 10 assigned face 100 by hand: photo 1 is theirs through it; face 200 (photo 2) answers them too.
  const assigned = row(1, 10, { status: 'present', source: 'manual', faceCropId: 100, similarity: 0.5 });
  const third = { faceCropId: 101, photoId: 1, embedding: unit(1, 0.1, 0) };
  const { decisions, matches } = solveSessionFaces({
    faces: [...twoPhotos, third],
    galleries,
    rows: [assigned, row(2, 20)],
    threshold: 0.9,
  });
  // Face 101 is most like 10, but 10 is placed in photo 1 already: it goes to 20 (0.924).
  assert.deepEqual(answers(matches), [
    [101, 20],
    [200, 10],
  ]);
  assert.deepEqual(
    decisions.map((d) => [d.row.personId, d.next.faceCropId]),
    [[20, 101]],
  );
  // Absent by hand: out of the solve, their faces left to others or unknown.
  const absent = row(1, 10, { source: 'manual' });
  const out = solveSessionFaces({ faces: twoPhotos, galleries, rows: [absent, row(2, 20)], threshold: 0.9 });
  assert.deepEqual(answers(out.matches), [
    [100, 20],
    [200, 20],
  ]);
});

test('faces given by hand besides the held one are fixed and place their member in that photo', () => {
  const assigned = row(1, 10, { status: 'present', source: 'manual', faceCropId: 200, similarity: 1 });
  const third = { faceCropId: 101, photoId: 1, embedding: unit(1, 0.1, 0) };
  const { decisions, matches } = solveSessionFaces({
    faces: [...twoPhotos, third],
    galleries,
    rows: [assigned, row(2, 20)],
    manualFaces: [{ faceCropId: 100, personId: 10 }],
    threshold: 0.9,
  });
  assert.deepEqual(answers(matches), [[101, 20]]);
  assert.deepEqual(
    decisions.map((d) => [d.row.personId, d.next.faceCropId]),
    [[20, 101]],
  );
});

// Ann enrolled as e; photo 1 holds a clear face of hers (0.958), photo 2 one below the threshold
// against e (0.857) but 0.969 against the photo-1 face, photo 3 one like photo 2's face only.
const cross = {
  galleries: new Map([[10, [unit(1, 0, 0)]]]),
  rows: [row(1, 10)],
  threshold: 0.9,
};
const clear = { faceCropId: 100, photoId: 1, embedding: unit(1, 0.3, 0) };
const weak = { faceCropId: 200, photoId: 2, embedding: unit(1, 0.6, 0) };
const beyond = { faceCropId: 300, photoId: 3, embedding: unit(1, 0.9, 0) };

test("a member's clear face in another photo is a template: once, whatever the photos' order", () => {
  const matched = (faces: { faceCropId: number; photoId: number; embedding: Float32Array }[]) =>
    solveSessionFaces({ ...cross, faces }).matches.map((m) => m.faceCropId);
  assert.deepEqual(matched([weak]), []);
  assert.deepEqual(matched([clear, weak]), [100, 200]);
  // The same faces with the photos numbered the other way round.
  assert.deepEqual(
    matched([
      { ...clear, photoId: 2 },
      { ...weak, photoId: 1 },
    ]),
    [100, 200],
  );
  // Photo 3's face scores 0.824 with e and face 100, 0.943 were face 200 a template too: a third pass
  // would take it, the solve stops after the second.
  assert.deepEqual(matched([clear, weak, beyond]), [100, 200]);
  // A face in the same photo is no template: one photo holds a member once.
  assert.deepEqual(matched([clear, { ...weak, photoId: 1 }]), [100]);
});
