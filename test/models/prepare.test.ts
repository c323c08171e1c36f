// Model preparation: versioned file names, no-op re-runs, and concurrent preparers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { prepareSource } from '../../src/models/prepare.js';
import { SOURCES } from '../../src/models/sources.js';
import { BIN, REPO } from '../helpers/paths.js';

const exec = promisify(execFile);
const sha = async (f: string) =>
  createHash('sha256')
    .update(await readFile(f))
    .digest('hex');

test('two processes preparing into one directory at once leave complete, identical files and no temp files', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-prepare-'));
  const env = { ...process.env, FACEEMBED_MODELS_DIR: dir };
  await Promise.all([1, 2].map(() => exec(BIN, ['models', 'prepare', '--quiet'], { cwd: REPO, env })));
  const files = (await readdir(dir)).sort();
  assert.equal(files.length, Object.keys(SOURCES).length, files.join(', '));
  for (const f of files) {
    assert.match(f, /^[a-z0-9-]+-\d+\.\d+\.\d+-[0-9a-f]{12}-r\d+\.onnx$/);
    const session = await ort.InferenceSession.create(path.join(dir, f));
    assert.ok(session.inputNames.length > 0);
    await session.release();
  }
  // A third run, in this process, finds everything and writes nothing.
  const before = await Promise.all(files.map((f) => sha(path.join(dir, f))));
  for (const id of Object.keys(SOURCES)) {
    const prepared = await prepareSource(id, dir);
    assert.equal(prepared.created, false, id);
  }
  assert.deepEqual(await Promise.all(files.map((f) => sha(path.join(dir, f)))), before);
});
