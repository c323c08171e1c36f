// The enrolment gate's verdicts and a person's enrolment strength, at and around each floor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENROLMENT_GATE, enrolmentRefusal, enrolmentStrength } from '../../src/domain/enrolment-quality.js';
import { UNKNOWN_QUALITY, type FaceQuality } from '../../src/domain/face-quality.js';

const good: FaceQuality = { widthPx: 120, sharpness: 300, yaw: 5, roll: 1 };

test('each floor refuses with its reason; at the floor a face passes; unmeasured passes', () => {
  const g = ENROLMENT_GATE;
  assert.equal(enrolmentRefusal(good), undefined);
  assert.equal(enrolmentRefusal({ ...good, widthPx: g.minWidthPx }), undefined);
  assert.equal(enrolmentRefusal({ ...good, widthPx: g.minWidthPx - 0.1 })?.reason, 'face_too_small');
  assert.equal(enrolmentRefusal({ ...good, sharpness: g.minSharpness - 0.1 })?.reason, 'too_blurry');
  assert.equal(enrolmentRefusal({ ...good, yaw: -(g.maxYaw + 1) })?.reason, 'pose');
  assert.equal(enrolmentRefusal({ ...good, yaw: g.maxYaw })?.reason, undefined);
  assert.match(enrolmentRefusal({ ...good, widthPx: 20 })!.message, /20 px/);
  assert.equal(enrolmentRefusal(UNKNOWN_QUALITY), undefined);
});

test('strength: weak with no photo, one photo, or fewer than two that pass; ok otherwise', () => {
  const blurred = { ...good, sharpness: 1 };
  assert.deepEqual(enrolmentStrength([]), { photos: 0, strength: 'weak', reasons: ['no_photos'] });
  assert.deepEqual(enrolmentStrength([good]), { photos: 1, strength: 'weak', reasons: ['one_photo'] });
  assert.deepEqual(enrolmentStrength([blurred]), {
    photos: 1,
    strength: 'weak',
    reasons: ['one_photo', 'low_quality'],
  });
  assert.deepEqual(enrolmentStrength([good, blurred]), { photos: 2, strength: 'weak', reasons: ['low_quality'] });
  assert.deepEqual(enrolmentStrength([good, UNKNOWN_QUALITY]), { photos: 2, strength: 'ok', reasons: [] });
  assert.deepEqual(enrolmentStrength([good, good, blurred]), { photos: 3, strength: 'ok', reasons: [] });
});
