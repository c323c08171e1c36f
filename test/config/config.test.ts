import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256Hex } from '../../src/config/api-keys.js';
import { loadConfig } from '../../src/config/config.js';
import type { FaceembedError } from '../../src/errors.js';

test('FACEEMBED_API_KEYS: KEY or NAME:KEY, bare keys named by position', () => {
  const { apiKeys } = loadConfig({ FACEEMBED_API_KEYS: ' plain , office:s3cret:with-colon ,kiosk:k2' }, '/tmp').http;
  assert.deepEqual(apiKeys, [
    { name: 'key-1', role: 'admin', groups: [], sha256: sha256Hex('plain') },
    { name: 'office', role: 'admin', groups: [], sha256: sha256Hex('s3cret:with-colon') },
    { name: 'kiosk', role: 'admin', groups: [], sha256: sha256Hex('k2') },
  ]);
  // Only digests are held: the key text itself is nowhere in the configuration.
  assert.ok(!JSON.stringify(apiKeys).includes('s3cret'));
  assert.deepEqual(loadConfig({}, '/tmp').http.apiKeys, []);
});

test('every invalid variable is reported at once', () => {
  assert.throws(
    () =>
      loadConfig(
        {
          FACEEMBED_API_KEYS: 'a:1,a:2,:k',
          FACEEMBED_WORKERS: '0',
          FACEEMBED_ISOLATION: 'threads',
          FACEEMBED_PORT: 'x',
        },
        '/tmp',
      ),
    (e: FaceembedError) => {
      const problems = (e.details?.problems ?? []) as string[];
      assert.equal(e.type, 'ValidationError');
      for (const name of ['FACEEMBED_API_KEYS', 'FACEEMBED_WORKERS', 'FACEEMBED_ISOLATION', 'FACEEMBED_PORT'])
        assert.ok(
          problems.some((p) => p.includes(name)),
          `${name} missing from ${JSON.stringify(problems)}`,
        );
      assert.equal(problems.filter((p) => p.includes('FACEEMBED_API_KEYS')).length, 2, JSON.stringify(problems));
      return true;
    },
  );
});

test('FACEEMBED_MAX_QUEUED_PHOTOS: 500 by default, a whole number from 0', () => {
  assert.equal(loadConfig({}, '/tmp').jobs.maxQueuedPhotos, 500);
  assert.equal(loadConfig({ FACEEMBED_MAX_QUEUED_PHOTOS: '0' }, '/tmp').jobs.maxQueuedPhotos, 0);
  for (const bad of ['-1', '2.5', 'many'])
    assert.throws(
      () => loadConfig({ FACEEMBED_MAX_QUEUED_PHOTOS: bad }, '/tmp'),
      (e: FaceembedError) => e.type === 'ValidationError' && String(e.message).includes('FACEEMBED_MAX_QUEUED_PHOTOS'),
    );
});
