import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaceembedError } from '../../src/errors.js';
import { requireModelVersion, versionsOf } from '../../src/services/model-version.js';

const model = { name: 'faceplugin-mobilefacenet512', version: '0.0.1-87aacdfe5751' };

test('embeddings of the current version, or none, pass', () => {
  requireModelVersion(model, []);
  requireModelVersion(
    model,
    versionsOf([
      { faceCropId: 1, modelVersion: model.version },
      { faceCropId: 2, modelVersion: null },
    ]),
  );
});

test('any embedding of another version is a ConflictError naming the versions, the crops and the re-embed command', () => {
  const rows = [
    { faceCropId: 1, modelVersion: model.version },
    { faceCropId: 7, modelVersion: 'old' },
    { faceCropId: 9, modelVersion: 'old' },
  ];
  assert.throws(
    () => requireModelVersion(model, versionsOf(rows)),
    (e: FaceembedError) => {
      assert.equal(e.type, 'ConflictError');
      assert.equal(e.statusCode, 409);
      assert.deepEqual(e.details, {
        model: model.name,
        model_version: model.version,
        stale_versions: ['old'],
        stale_count: 2,
        face_crop_ids: [7, 9],
      });
      assert.match(e.message, /faceembed reembed --model faceplugin-mobilefacenet512 --job/);
      return true;
    },
  );
  // Counted versions (identification's gallery) refuse the same way.
  assert.throws(
    () => requireModelVersion(model, [{ version: 'old', count: 3 }]),
    (e: FaceembedError) => e.type === 'ConflictError',
  );
});
