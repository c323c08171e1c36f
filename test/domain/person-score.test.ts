import assert from 'node:assert/strict';
import { test } from 'node:test';
import { personScore } from '../../src/domain/person-score.js';

test('a person scores the mean of their two best similarities, their only one, or null', () => {
  assert.equal(personScore([0.5, 0.9, 0.7]), 0.8);
  assert.equal(personScore([0.6]), 0.6);
  assert.equal(personScore([]), null);
  assert.equal(personScore([0.9, 0.9]), 0.9);
});
