// The MobileFaceNet graph given a batch axis (models/onnx/batch-axis.ts) computes what the shipped
// fixed-batch graph computes: the same chips, one at a time through the shipped file and as one
// [N, 3, 112, 112] tensor through the prepared one.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { fetchPackageFiles } from '../../src/models/npm-fetch.js';
import { prepareSource } from '../../src/models/prepare.js';
import { SOURCES } from '../../src/models/sources.js';
import { REPO, sample } from '../helpers/paths.js';

const NAME = 'faceplugin-mobilefacenet512';
const SIDE = 112;

/** Six sample photos squeezed to 112 px, as the network's NCHW input, (x - 127) / 128. */
async function chips(): Promise<Float32Array> {
  const n = SIDE * SIDE;
  const out = new Float32Array(6 * 3 * n);
  for (let k = 0; k < 6; k++) {
    const rgb = await sharp(sample(k + 1))
      .resize(SIDE, SIDE, { fit: 'fill' })
      .removeAlpha()
      .raw()
      .toBuffer();
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[k * 3 * n + c * n + i] = (rgb[i * 3 + c]! - 127) / 128;
  }
  return out;
}

test('the prepared graph takes a batch and answers what the shipped graph answers one chip at a time', async (t) => {
  const source = SOURCES[NAME]!;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'faceembed-batch-axis-'));
  try {
    const shippedDir = await fetchPackageFiles(source.tarball!, source.files, tmp);
    const shipped = await ort.InferenceSession.create(path.join(shippedDir, source.files[0]!));
    const prepared = await ort.InferenceSession.create(
      (await prepareSource(NAME, path.join(REPO, 'data/models'))).path,
    );
    const input = await chips();
    const per = 3 * SIDE * SIDE;
    const batch = new ort.Tensor('float32', input, [6, 3, SIDE, SIDE]);
    // Without the edit a batch is refused: the shipped graph declares 1.
    await assert.rejects(shipped.run({ input: batch }));
    const together = (await prepared.run({ input: batch })).output!.data as Float32Array;
    assert.equal(together.length, 6 * 512);
    let maxDiff = 0;
    for (let k = 0; k < 6; k++) {
      const one = new ort.Tensor('float32', input.slice(k * per, (k + 1) * per), [1, 3, SIDE, SIDE]);
      const alone = (await shipped.run({ input: one })).output!.data as Float32Array;
      for (let j = 0; j < 512; j++) maxDiff = Math.max(maxDiff, Math.abs(alone[j]! - together[k * 512 + j]!));
    }
    t.diagnostic(`max |shipped - batched| = ${maxDiff.toExponential(2)}`);
    assert.ok(maxDiff < 1e-4, `max |shipped - batched| = ${maxDiff}`);
    await Promise.all([shipped.release(), prepared.release()]);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
