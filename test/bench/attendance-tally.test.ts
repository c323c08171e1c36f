import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addTallies, emptyTally, labelFaces, tallySession, wrongFaces } from '../../bench/parts/attendance-tally.js';
import { namedFaceIndex } from '../../bench/parts/roster-enrolment.js';

const placed = [
  { identity: 'ann', box: [100, 100, 50, 50] as [number, number, number, number] },
  { identity: 'bob', box: [300, 100, 50, 50] as [number, number, number, number] },
  { identity: 'zed', box: [500, 100, 50, 50] as [number, number, number, number] },
];
const roster = new Set(['ann', 'bob', 'cat']);

test('labelFaces: a detected face is the placed face it overlaps, else background', () => {
  const truth = labelFaces(
    [
      { face_crop_id: 1, box: [102, 98, 48, 52] },
      { face_crop_id: 2, box: [305, 105, 50, 50] },
      { face_crop_id: 3, box: [500, 100, 50, 50] },
      { face_crop_id: 4, box: [130, 130, 50, 50] }, // IoU with ann 0.22: someone next to her
      { face_crop_id: 5, box: [900, 900, 30, 30] },
    ],
    placed,
    roster,
  );
  assert.deepEqual(truth.get(1), { kind: 'member', identity: 'ann' });
  assert.deepEqual(truth.get(2), { kind: 'member', identity: 'bob' });
  assert.deepEqual(truth.get(3), { kind: 'stranger', identity: 'zed' });
  assert.deepEqual(truth.get(4), { kind: 'background' });
  assert.deepEqual(truth.get(5), { kind: 'background' });
});

test('tallySession counts found, absent marked present, wrong faces by kind, review and unknowns', () => {
  const truth = labelFaces(
    [
      { face_crop_id: 1, box: [100, 100, 50, 50] },
      { face_crop_id: 2, box: [300, 100, 50, 50] },
      { face_crop_id: 3, box: [500, 100, 50, 50] },
      { face_crop_id: 4, box: [900, 900, 30, 30] },
      { face_crop_id: 5, box: [1200, 900, 30, 30] },
      // Second photo: ann again.
      { face_crop_id: 6, box: [101, 100, 50, 50] },
    ],
    placed,
    roster,
  );
  // Persons: 10 ann, 11 bob, 12 cat (absent).
  const identityOf = new Map([
    [10, 'ann'],
    [11, 'bob'],
    [12, 'cat'],
  ]);
  const t = emptyTally();
  tallySession(
    t,
    {
      attendance: [
        { person_id: 10, status: 'present', face_crop_id: 1 },
        { person_id: 11, status: 'present', face_crop_id: 3 }, // bob holds the stranger's face
        { person_id: 12, status: 'present', face_crop_id: 4 }, // absent cat holds a background face
      ],
      faces: [
        { face_crop_id: 1, person_id: 10, status: 'matched' },
        { face_crop_id: 2, person_id: null, status: 'unknown' },
        { face_crop_id: 3, person_id: 11, status: 'review' },
        { face_crop_id: 4, person_id: 12, status: 'matched' },
        { face_crop_id: 5, person_id: null, status: 'unknown' },
        { face_crop_id: 6, person_id: 11, status: 'review' }, // ann's face answered as bob
      ],
      unknownFaceIds: [2, 5],
    },
    truth,
    identityOf,
    new Set(['ann', 'bob']),
    6,
  );
  assert.equal(t.sessions, 1);
  assert.equal(t.labelledPlaced, 6);
  assert.equal(t.labelledDetected, 4);
  assert.equal(t.backgroundDetected, 2);
  assert.deepEqual([t.present, t.found, t.absent, t.absentMarkedPresent], [2, 1, 1, 1]);
  assert.deepEqual([t.memberAsOther, t.strangerAsMember, t.backgroundAsMember], [1, 1, 1]);
  assert.equal(wrongFaces(t), 3);
  assert.deepEqual([t.matches, t.flagged], [4, 2]);
  assert.deepEqual([t.unknownMembers, t.unknownStrangers, t.unknownBackground], [1, 0, 1]);
  const sum = addTallies(emptyTally(), t);
  addTallies(sum, t);
  assert.equal(sum.found, 2);
  assert.equal(sum.sessions, 2);
});

test('namedFaceIndex picks the refusal box that is the labelled face, -1 when none overlaps', () => {
  const boxes = [
    [0, 0, 40, 40],
    [100, 100, 50, 50],
    [200, 0, 40, 40],
  ];
  assert.equal(namedFaceIndex(boxes, [98, 102, 52, 50]), 1);
  assert.equal(namedFaceIndex(boxes, [600, 600, 10, 10]), -1);
});
