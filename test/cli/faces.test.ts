// `faceembed faces` through the bin: the JSON the README documents, and --draw's picture.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { BIN, REPO, sample } from '../helpers/paths.js';

const exec = promisify(execFile);
const tmp = await mkdtemp(path.join(os.tmpdir(), 'faceembed-faces-cli-'));
after(() => rm(tmp, { recursive: true, force: true }));

const run = (args: string[]) =>
  exec(BIN, args, { cwd: REPO }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );

interface Face {
  box: [number, number, number, number];
  score: number;
  landmarks: [number, number][];
}

test('faces prints every face; --draw writes the photo with the boxes on it', async () => {
  const out = path.join(tmp, 'drawn.png');
  const { code, stdout } = await run(['faces', '--draw', out, sample(2)]);
  assert.equal(code, 0);
  const { faces } = JSON.parse(stdout) as { faces: Face[] };
  assert.ok(faces.length >= 1);
  for (const f of faces) {
    assert.deepEqual(Object.keys(f).sort(), ['box', 'landmarks', 'score']);
    assert.equal(f.landmarks.length, 5);
  }
  const src = await sharp(sample(2)).metadata();
  const { data, info } = await sharp(out).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [src.width, src.height]);
  // The middle of the first box's top edge is drawn green.
  const [x, y, w] = faces[0]!.box;
  const i = (Math.round(y) * info.width + Math.round(x + w / 2)) * 3;
  assert.ok(data[i + 1]! > 200 && data[i]! < 60 && data[i + 2]! < 60, `pixel ${data[i]},${data[i + 1]},${data[i + 2]}`);
});

test('faces --draw refuses an output it cannot encode, typed, exit 1', async () => {
  const { code, stdout } = await run(['faces', '--draw', path.join(tmp, 'x.gifx'), sample(2)]);
  assert.equal(code, 1);
  assert.equal((JSON.parse(stdout) as { error: { type: string } }).error.type, 'ValueError');
});
