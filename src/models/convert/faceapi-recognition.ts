// Rebuilds face-api's 128-D face recognition network (ResNet-34-like, dlib recipe) as ONNX.
// face-api defines the network in code, not as a graph: the layers below follow
// @vladmandic/face-api src/faceRecognitionNet/{FaceRecognitionNet,residualLayer,convLayer,scaleLayer}.ts.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FACEAPI_RECOGNITION_INPUT } from '../faceapi-input.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { decodeWeights, readShards, type DecodedTensor, type WeightsManifestGroup } from './tfjs-weights.js';

// What the ONNX input expects: a 150x150 RGB chip as FACEAPI_RECOGNITION_INPUT says, NHWC.
// toBatchTensor zero-pads a non-square input to a centred square, then
// resizeBilinear(align_corners=false, half_pixel=false) to 150.
export { FACEAPI_RECOGNITION_INPUT };

export const FACEAPI_RECOGNITION_MODEL_NAME = 'face_recognition_model';
export const FACEAPI_RECOGNITION_DIMENSIONS = 128;

/** Residual stages in face-api's order; `down` halves the size through a strided "valid" conv. */
const STAGES: readonly { name: string; down: boolean }[] = [
  ...['conv32_1', 'conv32_2', 'conv32_3'].map((name) => ({ name, down: false })),
  { name: 'conv64_down', down: true },
  ...['conv64_1', 'conv64_2', 'conv64_3'].map((name) => ({ name, down: false })),
  { name: 'conv128_down', down: true },
  ...['conv128_1', 'conv128_2'].map((name) => ({ name, down: false })),
  { name: 'conv256_down', down: true },
  ...['conv256_1', 'conv256_2'].map((name) => ({ name, down: false })),
  { name: 'conv256_down_out', down: true },
];

/** A tensor flowing through the graph, with its static NCHW channel count and square side. */
interface Flow {
  name: string;
  channels: number;
  side: number;
}

/** Reads face_recognition_model manifest + shards from `modelDir` and returns the ONNX model bytes. */
export async function buildFaceapiRecognitionOnnx(modelDir: string): Promise<Uint8Array> {
  const manifestPath = path.join(modelDir, `${FACEAPI_RECOGNITION_MODEL_NAME}-weights_manifest.json`);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as WeightsManifestGroup[];
  const weights = decodeWeights(manifest, await readShards(modelDir, manifest));
  return new RecognitionGraph(weights).build();
}

class RecognitionGraph {
  private readonly g = new GraphBuilder('faceapi_recognition');

  constructor(private readonly weights: ReadonlyMap<string, DecodedTensor>) {}

  build(): Uint8Array {
    const { size } = FACEAPI_RECOGNITION_INPUT;
    const input = this.g.input('input', [-1, size, size, 3]);
    let x: Flow = { name: this.g.op('Transpose', [input], { perm: [0, 3, 1, 2] }, 'to_nchw'), channels: 3, side: size };

    x = this.convLayer(x, 'conv32_down', { stride: 2, relu: true });
    x = this.pool(x, 'MaxPool', 3);
    for (const stage of STAGES) x = stage.down ? this.residualDown(x, stage.name) : this.residual(x, stage.name);

    // face-api: mean over H and W, then matMul with fc [256, 128]
    const pooled = this.g.op('Flatten', [this.g.op('GlobalAveragePool', [x.name], {}, 'global_avg')], { axis: 1 });
    const fc = this.tensor('fc');
    const fcName = this.g.constant('fc', toFloat32(fc), fc.shape);
    this.g.node('MatMul', [pooled, fcName], {}, { name: 'fc', outputs: ['embedding'] });
    this.g.output('embedding', [-1, FACEAPI_RECOGNITION_DIMENSIONS]);
    return this.g.toBytes('face-api FaceRecognitionNet (128-D descriptor), rebuilt from @vladmandic/face-api weights');
  }

  /** face-api `residual`: conv+relu, conv, add input, relu. */
  private residual(x: Flow, prefix: string): Flow {
    const a = this.convLayer(x, `${prefix}/conv1`, { stride: 1, relu: true });
    const b = this.convLayer(a, `${prefix}/conv2`, { stride: 1, relu: false });
    return { ...b, name: this.g.op('Relu', [this.g.op('Add', [b.name, x.name])]) };
  }

  /**
   * face-api `residualDown`: the shortcut is avgPool(2, 2, valid), zero-padded in channels when the
   * block widens; when the strided valid conv comes out one smaller than the pooled shortcut
   * (8 -> 3 vs 4, 4 -> 1 vs 2) face-api appends a zero row and a zero column to the conv branch.
   */
  private residualDown(x: Flow, prefix: string): Flow {
    const a = this.convLayer(x, `${prefix}/conv1`, { stride: 2, relu: true });
    let b = this.convLayer(a, `${prefix}/conv2`, { stride: 1, relu: false });
    let shortcut = this.pool(x, 'AveragePool', 2);
    if (shortcut.side !== b.side) {
      const grow = shortcut.side - b.side;
      if (grow !== 1)
        throw new Error(`${prefix}: face-api pads by one row/column only, got ${b.side} vs ${shortcut.side}`);
      b = { ...b, name: this.zeroPad(b.name, [0, 0, 0, 0, 0, 0, 1, 1]), side: shortcut.side };
    }
    if (shortcut.channels !== b.channels) {
      // face-api concatenates zeros shaped like the pooled shortcut: channels double
      if (b.channels !== 2 * shortcut.channels)
        throw new Error(`${prefix}: cannot widen ${shortcut.channels} to ${b.channels} channels`);
      shortcut = {
        ...shortcut,
        name: this.zeroPad(shortcut.name, [0, 0, 0, 0, 0, shortcut.channels, 0, 0]),
        channels: b.channels,
      };
    }
    return { ...b, name: this.g.op('Relu', [this.g.op('Add', [shortcut.name, b.name])]) };
  }

  /**
   * face-api `convLayer`: conv2d (+bias), then the scale layer x * w + b, then optional relu.
   * The scale layer is folded into the conv (W*w, bias*w + b), as onnxruntime would fuse it anyway.
   * Stride 1 is tf "same" (pad 1 for 3x3); stride 2 is "valid" in face-api (convDown).
   */
  private convLayer(x: Flow, prefix: string, opts: { stride: 1 | 2; relu: boolean }): Flow {
    const filters = this.tensor(`${prefix}/conv/filters`); // HWIO
    const bias = toFloat32(this.tensor(`${prefix}/conv/bias`));
    const scaleW = toFloat32(this.tensor(`${prefix}/scale/weights`));
    const scaleB = toFloat32(this.tensor(`${prefix}/scale/biases`));
    const [kh, kw, cin, cout] = filters.shape as [number, number, number, number];
    if (kh !== kw || cin !== x.channels)
      throw new Error(`${prefix}: filters ${filters.shape.join('x')} do not fit ${x.channels} channels`);

    const hwio = toFloat32(filters);
    const oihw = new Float32Array(hwio.length);
    for (let h = 0; h < kh; h++) {
      for (let w = 0; w < kw; w++) {
        for (let i = 0; i < cin; i++) {
          for (let o = 0; o < cout; o++) {
            oihw[((o * cin + i) * kh + h) * kw + w] = hwio[((h * kw + w) * cin + i) * cout + o]! * scaleW[o]!;
          }
        }
      }
    }
    const foldedBias = bias.map((v, o) => v * scaleW[o]! + scaleB[o]!);

    const same = opts.stride === 1;
    const pad = same ? (kh - 1) / 2 : 0;
    if (!Number.isInteger(pad)) throw new Error(`${prefix}: even kernel with "same" padding is not supported`);
    const conv = this.g.op(
      'Conv',
      [
        x.name,
        this.g.constant(`${prefix}/W`, oihw, [cout, cin, kh, kw]),
        this.g.constant(`${prefix}/B`, foldedBias, [cout]),
      ],
      { kernel_shape: [kh, kw], strides: [opts.stride, opts.stride], pads: [pad, pad, pad, pad] },
      prefix,
    );
    const side = same ? x.side : Math.floor((x.side - kh) / opts.stride) + 1;
    return { name: opts.relu ? this.g.op('Relu', [conv]) : conv, channels: cout, side };
  }

  /** tf "valid" pooling with stride 2 (floor mode, no padding). */
  private pool(x: Flow, op: 'MaxPool' | 'AveragePool', kernel: number): Flow {
    const name = this.g.op(op, [x.name], { kernel_shape: [kernel, kernel], strides: [2, 2] });
    return { ...x, name, side: Math.floor((x.side - kernel) / 2) + 1 };
  }

  /** Zero padding; `pads` is ONNX order [n, c, h, w begins, n, c, h, w ends]. */
  private zeroPad(x: string, pads: readonly number[]): string {
    return this.g.op('Pad', [x, this.g.int64('pads', pads)], { mode: 'constant' });
  }

  private tensor(name: string): DecodedTensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`face-api recognition weights lack ${name}`);
    return t;
  }
}

function toFloat32(t: DecodedTensor): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new Error('face-api recognition weights must be float32');
  return t.data;
}
