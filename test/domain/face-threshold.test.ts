import { test } from 'node:test';
import assert from 'node:assert/strict';
import { thresholdForFace } from '../../src/domain/face-threshold.js';

const policy = {
  threshold: 0.44,
  sizeBands: [
    { belowWidth: 42, threshold: 0.3 },
    { belowWidth: 56, threshold: 0.33 },
  ],
};

test('a face narrower than a band takes the narrowest band that holds it; wider ones the model threshold', () => {
  assert.equal(thresholdForFace(policy, 30), 0.3);
  assert.equal(thresholdForFace(policy, 41.9), 0.3);
  assert.equal(thresholdForFace(policy, 42), 0.33);
  assert.equal(thresholdForFace(policy, 55), 0.33);
  assert.equal(thresholdForFace(policy, 56), 0.44);
  assert.equal(thresholdForFace(policy, 400), 0.44);
});

test('no width, no bands, or an explicit threshold: the plain answer', () => {
  assert.equal(thresholdForFace(policy, null), 0.44);
  assert.equal(thresholdForFace(policy, undefined), 0.44);
  assert.equal(thresholdForFace(policy, Number.NaN), 0.44);
  assert.equal(thresholdForFace({ threshold: 0.6 }, 20), 0.6);
  assert.equal(thresholdForFace(policy, 30, 0.9), 0.9);
});
