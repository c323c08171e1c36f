// The media settings: the key from a file or a variable (hex or base64, 32 bytes, never both,
// never echoed in a message), the sweep's grace period and interval.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { workerMediaKey } from '../../src/config/media-key.js';
import type { FaceembedError } from '../../src/errors.js';

const refused = (env: Record<string, string>, pattern: RegExp, secret?: string) =>
  assert.throws(
    () => loadConfig(env, '/tmp'),
    (e: FaceembedError) => {
      assert.equal(e.type, 'ValidationError');
      assert.match(e.message, pattern);
      if (secret) assert.ok(!e.message.includes(secret), 'the key is not echoed');
      return true;
    },
  );

test('media key: hex or base64 from the variable or a file, the same 32 bytes', async () => {
  const key = randomBytes(32);
  const hex = key.toString('hex');
  assert.equal(loadConfig({}, '/tmp').media.key, undefined);
  assert.equal(loadConfig({ FACEEMBED_MEDIA_KEY: hex.toUpperCase() }, '/tmp').media.key, hex);
  assert.equal(loadConfig({ FACEEMBED_MEDIA_KEY: key.toString('base64') }, '/tmp').media.key, hex);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-key-'));
  try {
    await writeFile(path.join(dir, 'media.key'), `${hex}\n`);
    assert.equal(loadConfig({ FACEEMBED_MEDIA_KEY_FILE: 'media.key' }, dir).media.key, hex);
    refused({ FACEEMBED_MEDIA_KEY_FILE: path.join(dir, 'none.key') }, /cannot read/);
    refused({ FACEEMBED_MEDIA_KEY_FILE: path.join(dir, 'media.key'), FACEEMBED_MEDIA_KEY: hex }, /not both/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const short = randomBytes(16).toString('hex');
  refused({ FACEEMBED_MEDIA_KEY: short }, /32 bytes/, short);
  refused({ FACEEMBED_MEDIA_KEY: 'correct horse battery staple' }, /32 bytes/, 'horse');
  assert.deepEqual(workerMediaKey({ FACEEMBED_MEDIA_KEY: hex }), key);
  assert.equal(workerMediaKey({}), undefined);
});

test('media sweep: 600 s grace and an hourly interval by default', () => {
  assert.deepEqual(
    { ...loadConfig({}, '/tmp').media },
    { key: undefined, sweepGraceMs: 600_000, sweepIntervalMs: 3_600_000 },
  );
  const set = loadConfig({ FACEEMBED_MEDIA_SWEEP_GRACE_S: '0', FACEEMBED_MEDIA_SWEEP_INTERVAL_S: '0' }, '/tmp').media;
  assert.deepEqual([set.sweepGraceMs, set.sweepIntervalMs], [0, 0]);
  refused({ FACEEMBED_MEDIA_SWEEP_GRACE_S: '-1' }, /FACEEMBED_MEDIA_SWEEP_GRACE_S/);
});
