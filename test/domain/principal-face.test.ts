// The principal-face rule and the plausible competitors, on boxes whose answer is known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Box } from '../../src/domain/face.js';
import {
  PRINCIPAL_POLICY,
  faceAtBox,
  plausibleFaces,
  principalIndex,
  rankFaces,
} from '../../src/domain/principal-face.js';

const image = { width: 250, height: 250 };
const face = (box: Box, score = 0.99) => ({ box, score });

test('a central face beats an equally large and an even larger face at the edge', () => {
  const central = face([75, 75, 100, 100]);
  const edge = face([0, 70, 110, 110]);
  assert.equal(principalIndex([edge, central], image), 1);
  assert.deepEqual(rankFaces([edge, central], image), [1, 0]);
});

test('at the same place a larger face wins, and a low-score face loses to a confident one', () => {
  assert.equal(principalIndex([face([95, 95, 60, 60]), face([75, 75, 100, 100])], image), 1);
  // Both off centre by the same distance, the same size: the confident one wins.
  assert.equal(principalIndex([face([10, 75, 100, 100], 0.4), face([140, 75, 100, 100], 0.98)], image), 1);
});

test('the rule holds at any resolution: boxes and image scaled together rank alike', () => {
  const faces = [face([0, 70, 110, 110]), face([75, 75, 100, 100], 0.6), face([160, 20, 80, 80])];
  const scaled = faces.map((f) => face(f.box.map((v) => v * 8) as Box, f.score));
  assert.deepEqual(rankFaces(scaled, { width: 2000, height: 2000 }), rankFaces(faces, image));
});

test('no face: -1; one face: itself', () => {
  assert.equal(principalIndex([], image), -1);
  assert.equal(principalIndex([face([0, 0, 30, 30], 0.3)], image), 0);
});

test('plausible competitors: confident and about as wide as the principal face', () => {
  const principal = face([75, 75, 100, 100]);
  const twin = face([170, 60, 80, 80], PRINCIPAL_POLICY.plausibleScore);
  const small = face([0, 0, 100 * PRINCIPAL_POLICY.plausibleWidth - 1, 50]);
  const unsure = face([0, 150, 100, 100], PRINCIPAL_POLICY.plausibleScore - 0.01);
  const out = plausibleFaces([small, twin, unsure, principal], image);
  assert.deepEqual(out, [principal, twin]);
  assert.deepEqual(plausibleFaces([principal], image), [principal]);
  assert.deepEqual(plausibleFaces([], image), []);
});

test('a named box finds the face it overlaps most (IoU >= 0.5), else none', () => {
  const faces = [face([0, 0, 100, 100]), face([120, 0, 100, 100])];
  assert.equal(faceAtBox(faces, [125, 5, 95, 100]), 1);
  assert.equal(faceAtBox(faces, [60, 0, 100, 100]), -1, 'IoU 0.25 with each');
  assert.equal(faceAtBox([], [0, 0, 10, 10]), -1);
});
