// The rebuilt ONNX network must give face-api's own descriptors: same chips through face-api
// computeFaceDescriptor on tfjs-wasm and through our model on onnxruntime-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import {
  buildFaceapiRecognitionOnnx,
  FACEAPI_RECOGNITION_INPUT,
} from '../../src/models/convert/faceapi-recognition.js';

const require = createRequire(import.meta.url);
const FACEAPI_DIR = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
const MODEL_DIR = path.join(FACEAPI_DIR, 'model');
const WASM_DIR = `${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
const SIZE = FACEAPI_RECOGNITION_INPUT.size;

/** Square crops (left, top, side) around the most confident face of each demo photo. */
const CROPS: readonly [string, number, number, number][] = [
  ['sample1.jpg', 370, 343, 264],
  ['sample2.jpg', 1411, 141, 266],
  ['sample3.jpg', 535, 315, 298],
  ['sample4.jpg', 615, 40, 284],
  ['sample5.jpg', 748, 98, 233],
  ['sample6.jpg', 592, 305, 338],
];

interface Chip {
  name: string;
  rgb: Uint8Array;
}

async function photoChip([file, left, top, side]: (typeof CROPS)[number]): Promise<Chip> {
  const rgb = await sharp(path.join(FACEAPI_DIR, 'demo', file))
    .extract({ left, top, width: side, height: side })
    .resize(SIZE, SIZE)
    .removeAlpha()
    .raw()
    .toBuffer();
  assert.equal(rgb.length, SIZE * SIZE * 3);
  return { name: `${file}@${left},${top},${side}`, rgb: new Uint8Array(rgb) };
}

/** mulberry32: a small seeded PRNG so the noise chip is the same on every run. */
function noiseChip(seed: number): Chip {
  let s = seed >>> 0;
  const rgb = new Uint8Array(SIZE * SIZE * 3);
  for (let i = 0; i < rgb.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    rgb[i] = ((t ^ (t >>> 14)) >>> 0) % 256;
  }
  return { name: `noise(seed=${seed})`, rgb };
}

function normalise(rgb: Uint8Array): Float32Array {
  const { mean, std } = FACEAPI_RECOGNITION_INPUT;
  return Float32Array.from(rgb, (v, i) => (v - mean[i % 3]!) / std[i % 3]!);
}

async function faceapiDescriptor(rgb: Uint8Array): Promise<Float32Array> {
  const input = tf.tensor3d(rgb, [SIZE, SIZE, 3], 'int32');
  try {
    const out = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(input as unknown as faceapi.TNetInput);
    assert.ok(out instanceof Float32Array, 'a single chip gives a single descriptor');
    return out;
  } finally {
    input.dispose();
  }
}

function compare(a: Float32Array, b: Float32Array): { cosine: number; maxAbsDiff: number } {
  let dot = 0,
    na = 0,
    nb = 0,
    maxAbsDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!,
      y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x - y));
  }
  return { cosine: dot / Math.sqrt(na * nb), maxAbsDiff };
}

test('ONNX rebuild of face-api recognition matches face-api computeFaceDescriptor', async (t) => {
  setWasmPaths(WASM_DIR);
  await tf.setBackend('wasm');
  await tf.ready();
  assert.equal(tf.getBackend(), 'wasm');
  await faceapi.nets.faceRecognitionNet.loadFromDisk(MODEL_DIR);
  t.after(() => faceapi.nets.faceRecognitionNet.dispose());

  const session = await ort.InferenceSession.create(await buildFaceapiRecognitionOnnx(MODEL_DIR), {
    intraOpNumThreads: 2,
  });
  t.after(() => session.release());
  assert.deepEqual(session.inputNames, ['input']);
  assert.deepEqual(session.outputNames, ['embedding']);

  const chips = [...(await Promise.all(CROPS.map(photoChip))), noiseChip(20240613)];

  // one batch through ORT: also proves the dynamic batch axis
  const batch = new Float32Array(chips.length * SIZE * SIZE * 3);
  chips.forEach((c, i) => batch.set(normalise(c.rgb), i * SIZE * SIZE * 3));
  const result = await session.run({ input: new ort.Tensor('float32', batch, [chips.length, SIZE, SIZE, 3]) });
  const embedding = result.embedding;
  assert.ok(embedding);
  assert.deepEqual(embedding.dims, [chips.length, 128]);
  const ours = embedding.data as Float32Array;

  const reference: Float32Array[] = [];
  for (const [i, chip] of chips.entries()) {
    const ref = await faceapiDescriptor(chip.rgb);
    reference.push(ref);
    const { cosine, maxAbsDiff } = compare(ref, ours.subarray(i * 128, (i + 1) * 128));
    t.diagnostic(
      `${chip.name}: cosine ${cosine.toFixed(9)} (1 - cos = ${(1 - cosine).toExponential(2)}), max abs diff ${maxAbsDiff.toExponential(2)}`,
    );
    assert.ok(cosine >= 0.99999, `${chip.name}: cosine ${cosine} < 0.99999`);
    // float32 rounding stays near 1e-7; dividing by 256 instead of 255 already gives ~3e-4
    assert.ok(maxAbsDiff < 1e-5, `${chip.name}: max abs diff ${maxAbsDiff}`);
  }

  // the chips are genuinely different faces, so agreement above is not a constant output
  const [first, second] = reference;
  assert.ok(first && second);
  assert.ok(compare(first, second).cosine < 0.99, 'two different faces give different descriptors');
});
