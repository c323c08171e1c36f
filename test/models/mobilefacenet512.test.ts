// faceplugin-mobilefacenet512 (the package's fr_feature.onnx): what the worker computes equals
// onnxruntime run directly on the same aligned chip, the chip is the ArcFace template's, the
// embeddings tell people apart, and an altered file is refused by name.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { ARCFACE_TEMPLATE, applyAffine, invertAffine, templateWarp } from '../../src/detect/alignment.js';
import { warpRgb } from '../../src/detect/resample.js';
import type { FivePoints } from '../../src/domain/face.js';
import { cosineSimilarity as cosine } from '../../src/domain/vector.js';
import type { FaceembedError } from '../../src/errors.js';
import { createLogger } from '../../src/logging/logger.js';
import { prepareSource } from '../../src/models/prepare.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { SOURCES, verifyChecksum } from '../../src/models/sources.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import { DATASET, DATASET_SKIP, REPO, sample } from '../helpers/paths.js';

const NAME = 'faceplugin-mobilefacenet512';
const spec = new ModelRegistry().get(NAME);
let service: EmbeddingService;
let session: ort.InferenceSession;

before(async () => {
  service = new EmbeddingService({ modelName: NAME, workers: 1, logger: createLogger('silent') });
  await service.ready();
  const file = await prepareSource(NAME, path.join(REPO, 'data/models'));
  session = await ort.InferenceSession.create(file.path);
});
after(async () => {
  await service.close();
  await session.release();
});

/** The model run directly: the chip as the package's code feeds it ((x - 127) / 128, NCHW), its channels BGR as the registry says. */
async function direct(chip: Uint8Array): Promise<Float32Array> {
  const n = 112 * 112;
  const input = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) input[c * n + i] = (chip[i * 3 + 2 - c]! - 127) / 128;
  const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, 112, 112]) });
  const v = out.output!.data as Float32Array;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

test('the registry entry: 512-D, 112 px NCHW BGR (x - 127) / 128, the ArcFace template at scale 1', () => {
  assert.equal(spec.dimensions, 512);
  assert.deepEqual(spec.input, {
    size: 112,
    layout: 'nchw',
    channelOrder: 'bgr',
    mean: [127, 127, 127],
    std: [128, 128, 128],
  });
  assert.deepEqual(spec.alignment, { kind: 'template', templateScale: 1 });
  assert.match(spec.licence, /MIT/);
  assert.match(spec.licence, /training data/);
});

test("the worker's embedding equals onnxruntime run directly on the same aligned chip", async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'faceembed-parity-'));
  for (const n of [1, 4]) {
    // Lossless and under the worker's 1024 px working size, so both sides see the same pixels.
    const file = path.join(tmp, `sample${n}.png`);
    await sharp(sample(n)).rotate().resize({ width: 1000 }).png().toFile(file);
    const got = await service.generateEmbedding(file, { detect: 'enforce' });
    assert.equal(got.dimensions, 512);
    assert.ok(Math.abs(Math.hypot(...got.embedding) - 1) < 1e-5, 'unit norm');
    const landmarks = got.face.landmarks as FivePoints;
    const { data, info } = await sharp(file).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const toSource = templateWarp(landmarks, 1);
    const chip = warpRgb({ data, width: info.width, height: info.height }, toSource, 112);
    // A least-squares similarity onto the template maps the points' centroid onto the template's.
    const toChip = invertAffine(toSource);
    const centroid = (pts: readonly (readonly number[])[]) =>
      [0, 1].map((k) => pts.reduce((s, p) => s + p[k]!, 0) / pts.length);
    const mapped = centroid(landmarks.map((p) => applyAffine(toChip, p)));
    const target = centroid(ARCFACE_TEMPLATE);
    assert.ok(Math.hypot(mapped[0]! - target[0]!, mapped[1]! - target[1]!) < 1e-6, 'centroid on the template');
    const want = await direct(chip);
    const maxDiff = Math.max(...want.map((v, i) => Math.abs(v - got.embedding[i]!)));
    assert.ok(maxDiff < 1e-5, `sample${n}: max abs difference ${maxDiff}`);
  }
});

test('same person scores above the threshold, different people below', { skip: DATASET_SKIP }, async () => {
  // master.csv: img20/img21 one person (Jeff Bezos), img1/img3 two people.
  const [a, b, c] = await service.generateEmbeddingsBatch(
    ['img20.jpg', 'img21.jpg', 'img3.jpg'].map((f) => path.join(DATASET, f)),
    { detect: 'enforce' },
  );
  const [d] = await service.generateEmbeddingsBatch([path.join(DATASET, 'img1.jpg')], { detect: 'enforce' });
  const same = cosine(a!.embedding, b!.embedding);
  const different = [cosine(a!.embedding, c!.embedding), cosine(d!.embedding, c!.embedding)];
  assert.ok(same >= spec.threshold, `same person ${same.toFixed(3)} >= ${spec.threshold}`);
  for (const s of different) assert.ok(s < spec.threshold, `different people ${s.toFixed(3)} < ${spec.threshold}`);
});

test('an altered or missing model file is a typed error naming the file and the sha256 it expected', async () => {
  const source = SOURCES[NAME]!;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'faceembed-checksum-'));
  const shipped = await prepareSource(NAME, path.join(tmp, 'models'));
  const altered = path.join(tmp, 'fr_feature.onnx');
  await copyFile(shipped.path, altered);
  await verifyChecksum(source, altered, true);
  await assert.rejects(
    verifyChecksum(source, altered),
    /expected 87aacdfe/,
    'the prepared copy is not the shipped file',
  );
  await writeFile(altered, 'not the weights');
  await assert.rejects(verifyChecksum(source, altered, true), (e: FaceembedError) => {
    assert.equal(e.type, 'ValidationError');
    assert.ok(e.message.includes(altered) && e.message.includes(source.preparedSha256!), e.message);
    return true;
  });
  await assert.rejects(verifyChecksum(source, path.join(tmp, 'gone.onnx')), (e: FaceembedError) => {
    assert.equal(e.type, 'FileNotFoundError');
    assert.ok(e.message.includes('gone.onnx') && e.message.includes(source.sha256!), e.message);
    return true;
  });
  // A prepared copy altered after `models prepare` is refused when a worker would load it.
  const prepared = await prepareSource(NAME, tmp);
  await writeFile(prepared.path, 'tampered');
  await assert.rejects(prepareSource(NAME, tmp), (e: FaceembedError) => e.type === 'ValidationError');
});
