// The converted ONNX models must compute what TFJS computes: the same NHWC inputs go through the
// TFJS graph model on tfjs-wasm and through our ONNX model on onnxruntime-node, output by output.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import {
  convertTfjsGraph,
  loadTfjsGraphModel,
  type ConvertedModel,
} from '../../src/models/convert/tfjs-graph-to-onnx.js';
import { compare, seededUniform, TinyGraph, type Feed } from './tfjs-graph-fixtures.js';

// Compiled to dist/test/models/: the repository is three levels up.
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const HUMAN_MODELS = path.join(REPO, 'node_modules/@vladmandic/human/models');
const DEMO = path.join(REPO, 'node_modules/@vladmandic/face-api/demo');
const WASM_DIR = path.join(REPO, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/');
const COSINE_MIN = 0.99999;
/**
 * 1e-4 absolute, growing as 1e-5 of the output's largest magnitude past 10: float32 sums in a
 * different order differ by a few ulp of the output, and TFJS's own cpu and wasm backends disagree
 * by 1.1e-3 on blazeface's logits (|value| up to 278) and 7.6e-5 on facemesh's coordinates (up to 169).
 */
const tolerance = (maxAbs: number): number => Math.max(1e-4, 1e-5 * maxAbs);

before(async () => {
  setWasmPaths(WASM_DIR);
  await tf.setBackend('wasm');
  await tf.ready();
});

/** The TFJS reference: the model.json and shards through tfjs-converter's own loader. */
async function loadReference(jsonPath: string): Promise<tf.GraphModel> {
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as {
    modelTopology: object;
    format?: string;
    signature?: object;
    userDefinedMetadata?: Record<string, unknown>;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const shards = await Promise.all(
    json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(path.dirname(jsonPath), p))),
  );
  const data = Buffer.concat(shards);
  return tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      format: json.format,
      signature: json.signature,
      userDefinedMetadata: json.userDefinedMetadata,
    }),
  );
}

function assertClose(t: Diagnostics, what: string, want: Float32Array, got: Float32Array): void {
  const { cosine, maxAbsDiff, maxAbs } = compare(want, got);
  t.diagnostic(
    `${what}: cosine ${cosine.toFixed(9)}, max abs diff ${maxAbsDiff.toExponential(2)} (max |value| ${maxAbs.toPrecision(4)})`,
  );
  assert.ok(cosine >= COSINE_MIN, `${what}: cosine ${cosine}`);
  assert.ok(maxAbsDiff <= tolerance(maxAbs), `${what}: max abs diff ${maxAbsDiff} (max |value| ${maxAbs})`);
}

interface Diagnostics {
  diagnostic(msg: string): void;
}

/**
 * Runs TFJS and ONNX on each feed and checks every output; with a dynamic batch, the ONNX model
 * also runs all feeds as one batch, each row checked against TFJS's single-item result.
 */
async function checkAgainstTfjs(
  t: Diagnostics,
  label: string,
  reference: tf.GraphModel,
  converted: ConvertedModel,
  feeds: Feed[],
): Promise<void> {
  const session = await ort.InferenceSession.create(converted.onnx);
  try {
    assert.deepEqual(
      session.inputNames,
      converted.inputs.map((i) => i.name),
    );
    assert.deepEqual(
      session.outputNames,
      converted.outputs.map((o) => o.name),
    );
    const input = converted.inputs[0]!;
    const shape = input.shape.map((d) => (d < 0 ? 1 : d));
    const outputNames = converted.outputs.map((o) => o.name);
    const expected: { shape: number[]; data: Float32Array }[][] = [];
    for (const feed of feeds) {
      const want = tf.tidy(() => {
        const out = reference.execute({ [input.name]: tf.tensor(feed.data, shape) }, outputNames);
        return (Array.isArray(out) ? out : [out]).map((o) => ({ shape: o.shape, data: o.dataSync() as Float32Array }));
      });
      expected.push(want);
      const actual = await session.run({ [input.name]: new ort.Tensor('float32', feed.data, shape) });
      converted.outputs.forEach((o, i) => {
        const got = actual[o.name]!;
        assert.deepEqual([...got.dims], want[i]!.shape, `${label} ${o.name} shape`);
        assert.deepEqual(
          o.shape.map((d, k) => (d < 0 ? want[i]!.shape[k] : d)),
          want[i]!.shape,
          `${label} ${o.name} declared shape`,
        );
        assertClose(
          t,
          `${label} [${feed.label}] ${o.name} ${JSON.stringify(o.shape)}`,
          want[i]!.data,
          got.data as Float32Array,
        );
      });
    }
    if (input.shape[0] !== -1 || feeds.length < 2) return;
    const batch = new Float32Array(feeds.reduce((n, f) => n + f.data.length, 0));
    feeds.reduce((offset, f) => (batch.set(f.data, offset), offset + f.data.length), 0);
    const actual = await session.run({
      [input.name]: new ort.Tensor('float32', batch, [feeds.length, ...shape.slice(1)]),
    });
    converted.outputs.forEach((o, i) => {
      const rows = actual[o.name]!.data as Float32Array;
      const size = expected[0]![i]!.data.length;
      // Only outputs that carry the batch as their leading axis split into per-item rows.
      if (o.shape[0] !== -1 || actual[o.name]!.dims[0] !== feeds.length || rows.length !== size * feeds.length) return;
      feeds.forEach((_, b) =>
        assertClose(
          t,
          `${label} [batch of ${feeds.length}, row ${b}] ${o.name}`,
          expected[b]![i]!.data,
          rows.subarray(b * size, (b + 1) * size),
        ),
      );
    });
  } finally {
    await session.release();
  }
}

function countOps(onnx: Uint8Array, opType: string): number {
  return onnxProto.onnx.ModelProto.decode(onnx).graph!.node!.filter((n) => n.opType === opType).length;
}

/** A demo photo region resized to `size` square, as RGB floats mapped through `scale`. */
async function photo(
  file: string,
  region: { left: number; top: number; width: number; height: number } | null,
  size: number,
  scale: (v: number) => number,
): Promise<Float32Array> {
  let img = sharp(path.join(DEMO, file));
  if (region) img = img.extract(region);
  const rgb = await img.resize(size, size, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  return Float32Array.from(rgb, scale);
}

// Square face crops (about 1.4x the face, as Human's detector box is enlarged) of two demo photos.
const FACE_SAMPLE1 = { left: 762, top: 357, width: 336, height: 336 };
const FACE_SAMPLE2 = { left: 1365, top: 66, width: 378, height: 378 };

interface ShippedCase {
  model: string;
  size: number;
  /** Human's normalisation of 0..255 RGB for this model, and the range of the random feed. */
  scale: (v: number) => number;
  range: [number, number];
  /** null: the whole photo (detector input); else the face crop. */
  crops: (typeof FACE_SAMPLE1 | null)[];
}

const SHIPPED: ShippedCase[] = [
  // Human faceres.ts: face crop (0..1) resized to 224, times 255: RGB 0..255.
  { model: 'faceres', size: 224, scale: (v) => v, range: [0, 255], crops: [FACE_SAMPLE1, FACE_SAMPLE2] },
  // Human blazeface.ts: whole image resized to 256, / 127.5 - 1: -1..1.
  { model: 'blazeface', size: 256, scale: (v) => v / 127.5 - 1, range: [-1, 1], crops: [null] },
  // Human facemesh.ts / facemeshutil.ts cutAndResize: enlarged face box cropped to 192, / 255: 0..1.
  { model: 'facemesh', size: 192, scale: (v) => v / 255, range: [0, 1], crops: [FACE_SAMPLE1, FACE_SAMPLE2] },
];

for (const c of SHIPPED) {
  test(`${c.model}: converted ONNX matches TFJS on tfjs-wasm (random and real face inputs)`, async (t) => {
    const jsonPath = path.join(HUMAN_MODELS, `${c.model}.json`);
    const started = performance.now();
    const model = await loadTfjsGraphModel(jsonPath);
    const loaded = performance.now();
    const converted = convertTfjsGraph(model);
    const ms = performance.now() - loaded;
    const transposes = countOps(converted.onnx, 'Transpose');
    t.diagnostic(
      `${c.model}: loaded in ${(loaded - started).toFixed(0)} ms, converted in ${ms.toFixed(0)} ms, ${(converted.onnx.length / 1e6).toFixed(2)} MB, ${transposes} Transpose nodes`,
    );
    t.diagnostic(`${c.model}: inputs ${JSON.stringify(converted.inputs)} outputs ${JSON.stringify(converted.outputs)}`);

    const reference = await loadReference(jsonPath);
    // The boundary is TFJS's own: same names, same order, NHWC.
    assert.deepEqual(
      converted.inputs.map((i) => i.name),
      reference.inputs.map((i) => i.name),
    );
    assert.deepEqual(converted.inputs[0]!.shape, reference.inputs[0]!.shape);
    assert.deepEqual(
      converted.outputs.map((o) => o.name),
      reference.outputs.map((o) => o.name),
    );
    // One transpose into NCHW per input, one back per value read in NHWC (each Reshape at most).
    const reshapes = model.nodes.filter((n) => n.op === 'Reshape').length;
    assert.ok(transposes <= converted.inputs.length + reshapes, `${transposes} transposes`);

    const n = c.size * c.size * 3;
    const feeds: Feed[] = [
      { label: `uniform ${c.range[0]}..${c.range[1]} seed 1`, data: seededUniform(1, n, ...c.range) },
    ];
    for (const [i, crop] of c.crops.entries()) {
      const file = `sample${i + 1}.jpg`;
      feeds.push({
        label: crop ? `${file} face crop` : `${file} whole`,
        data: await photo(file, crop, c.size, c.scale),
      });
    }
    try {
      await checkAgainstTfjs(t, c.model, reference, converted, feeds);
    } finally {
      reference.dispose();
    }
  });
}

test('other shipped Human models (flatten after conv, ConcatV2, Relu6, AddN, 1-channel input) match TFJS', async (t) => {
  for (const [name, range] of [
    ['antispoof', [0, 1]],
    ['liveness', [0, 1]],
    ['emotion', [-1, 1]],
    ['iris', [0, 1]],
    ['handlandmark-lite', [0, 1]],
  ] as const) {
    const jsonPath = path.join(HUMAN_MODELS, `${name}.json`);
    const converted = convertTfjsGraph(await loadTfjsGraphModel(jsonPath));
    const reference = await loadReference(jsonPath);
    const n = converted.inputs[0]!.shape.reduce((a, d) => a * Math.abs(d), 1);
    try {
      await checkAgainstTfjs(t, name, reference, converted, [
        { label: 'uniform seed 2', data: seededUniform(2, n, range[0], range[1]) },
      ]);
    } finally {
      reference.dispose();
    }
  }
});

test('op coverage graph (fused/depthwise/explicit/dilated conv, pools, resizes, reductions, slicing) matches TFJS', async (t) => {
  const g = TinyGraph.coverage();
  const converted = convertTfjsGraph(g.model(), { outputs: g.outputs });
  const reference = await tf.loadGraphModel(tf.io.fromMemory(g.artifacts()));
  try {
    await checkAgainstTfjs(t, 'coverage', reference, converted, [
      { label: 'uniform -1..1 seed 3', data: seededUniform(3, 1 * 9 * 10 * 4, -1, 1) },
      { label: 'uniform -1..1 seed 4', data: seededUniform(4, 1 * 9 * 10 * 4, -1, 1) },
    ]);
  } finally {
    reference.dispose();
  }
});

test('an unsupported op fails conversion naming the op and the node; unused branches are not converted', () => {
  const g = new TinyGraph();
  const x = g.input('x', [1, 4]);
  const good = g.op('good', 'Relu', [x]);
  g.op('bad', 'Erf', [x]);
  assert.throws(
    () => convertTfjsGraph(g.model(), { outputs: ['good', 'bad'] }),
    /Unsupported TFJS op 'Erf' at node 'bad'/,
  );
  const converted = convertTfjsGraph(g.model(), { outputs: [good] });
  assert.deepEqual(converted.outputs, [{ name: 'good', shape: [1, 4] }]);
});

test('requested outputs prune the graph: faceres descriptor only, without the age and gender heads', async () => {
  const model = await loadTfjsGraphModel(path.join(HUMAN_MODELS, 'faceres.json'));
  const converted = convertTfjsGraph(model, { outputs: ['global_pooling/Mean:0'] });
  assert.deepEqual(converted.outputs, [{ name: 'global_pooling/Mean', shape: [-1, 1024] }]);
  assert.equal(countOps(converted.onnx, 'Gemm'), 0);
  assert.equal(countOps(convertTfjsGraph(model).onnx, 'Gemm'), 3);
});
