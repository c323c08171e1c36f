// ms per face for the 128-D face-api recognition network: our ONNX rebuild on onnxruntime-node
// (2 and 1 intra-op threads) against face-api's computeFaceDescriptor on tfjs-wasm, same chip.
// Run: node dist/bench/facenet-vs-faceapi.js [--runs 50] [--warmup 5]
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { buildFaceapiRecognitionOnnx, FACEAPI_RECOGNITION_INPUT } from '../src/models/convert/faceapi-recognition.js';

const require = createRequire(import.meta.url);
const FACEAPI_DIR = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
const MODEL_DIR = path.join(FACEAPI_DIR, 'model');
const WASM_DIR = `${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
const SIZE = FACEAPI_RECOGNITION_INPUT.size;

interface Row {
  runtime: string;
  threads: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
}

async function timeIt(runs: number, warmup: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

function row(runtime: string, threads: number, sorted: number[]): Row {
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const round = (v: number) => Math.round(v * 100) / 100;
  return { runtime, threads, medianMs: round(at(0.5)), p90Ms: round(at(0.9)), minMs: round(sorted[0] ?? NaN) };
}

function normalise(rgb: Uint8Array): Float32Array {
  const { mean, std } = FACEAPI_RECOGNITION_INPUT;
  return Float32Array.from(rgb, (v, i) => (v - mean[i % 3]!) / std[i % 3]!);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '50' }, warmup: { type: 'string', default: '5' } },
  });
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);

  // the face of demo/sample1.jpg, as a 150x150 RGB chip
  const chip = new Uint8Array(
    await sharp(path.join(FACEAPI_DIR, 'demo', 'sample1.jpg'))
      .extract({ left: 370, top: 343, width: 264, height: 264 })
      .resize(SIZE, SIZE)
      .removeAlpha()
      .raw()
      .toBuffer(),
  );

  const onnx = await buildFaceapiRecognitionOnnx(MODEL_DIR);
  const rows: Row[] = [];
  let ortDescriptor: Float32Array | undefined;
  for (const threads of [2, 1]) {
    const session = await ort.InferenceSession.create(onnx, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    const run = async () => {
      const input = new ort.Tensor('float32', normalise(chip), [1, SIZE, SIZE, 3]);
      const out = await session.run({ input });
      return out.embedding?.data as Float32Array;
    };
    ortDescriptor = await run();
    rows.push(row('onnxruntime-node', threads, await timeIt(runs, warmup, run)));
    await session.release();
  }

  setWasmPaths(WASM_DIR);
  await tf.setBackend('wasm');
  await tf.ready();
  await faceapi.nets.faceRecognitionNet.loadFromDisk(MODEL_DIR);
  const describe = async () => {
    const input = tf.tensor3d(chip, [SIZE, SIZE, 3], 'int32');
    try {
      return (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(
        input as unknown as faceapi.TNetInput,
      )) as Float32Array;
    } finally {
      input.dispose();
    }
  };
  const faceapiDescriptor = await describe();
  rows.push(row(`face-api tfjs-${tf.getBackend()}`, 1, await timeIt(runs, warmup, describe)));
  faceapi.nets.faceRecognitionNet.dispose();

  let dot = 0,
    na = 0,
    nb = 0;
  faceapiDescriptor.forEach((x, i) => {
    const y = ortDescriptor?.[i] ?? NaN;
    dot += x * y;
    na += x * x;
    nb += y * y;
  });
  const cosine = dot / Math.sqrt(na * nb);

  console.log(`face-api recognition (150x150 -> 128-D), ms per face, ${runs} runs after ${warmup} warm-up`);
  console.log('runtime                  threads  median     p90     min');
  for (const r of rows) {
    console.log(
      `${r.runtime.padEnd(24)} ${String(r.threads).padStart(7)} ${r.medianMs.toFixed(2).padStart(7)} ${r.p90Ms.toFixed(2).padStart(7)} ${r.minMs.toFixed(2).padStart(7)}`,
    );
  }
  console.log(`cosine(onnx, face-api) on the bench chip: ${cosine.toFixed(9)}`);
  console.log(JSON.stringify({ bench: 'facenet-vs-faceapi', runs, warmup, cosine, rows }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
