// Test fixtures for the TFJS graph converter: seeded inputs, output comparison, and a small TFJS
// graph-model writer whose graphs both tfjs-converter and our converter load.
import type { io } from '@tensorflow/tfjs';
import type { TfjsGraphModel, TfjsNode } from '../../src/models/convert/tfjs-graph-to-onnx.js';
import { decodeWeights, type WeightSpec } from '../../src/models/convert/tfjs-weights.js';

export interface Feed {
  label: string;
  data: Float32Array;
}

/** mulberry32 uniform floats in [lo, hi): the same inputs on every run. */
export function seededUniform(seed: number, n: number, lo: number, hi: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  });
}

export function compare(want: Float32Array, got: Float32Array): { cosine: number; maxAbsDiff: number; maxAbs: number } {
  if (want.length !== got.length) throw new Error(`length ${got.length}, expected ${want.length}`);
  let dot = 0,
    ww = 0,
    gg = 0,
    maxAbsDiff = 0,
    maxAbs = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!,
      g = got[i]!;
    dot += w * g;
    ww += w * w;
    gg += g * g;
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(w - g));
    maxAbs = Math.max(maxAbs, Math.abs(w));
    if (Number.isNaN(g) !== Number.isNaN(w)) maxAbsDiff = Infinity;
  }
  // Two all-zero outputs are identical.
  const cosine = ww === 0 && gg === 0 ? 1 : dot / Math.sqrt(ww * gg);
  return { cosine, maxAbsDiff, maxAbs };
}

type Attr = NonNullable<TfjsNode['attr']>[string];
export const A = {
  s: (v: string): Attr => ({ s: Buffer.from(v).toString('base64') }),
  strs: (v: string[]): Attr => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } }),
  i: (v: number): Attr => ({ i: String(v) }),
  ints: (v: number[]): Attr => ({ list: { i: v.map(String) } }),
  f: (v: number): Attr => ({ f: v }),
  b: (v: boolean): Attr => ({ b: v }),
};

/** Writes a TFJS graph model in memory, node by node. */
export class TinyGraph {
  private readonly nodes: TfjsNode[] = [];
  private readonly specs: WeightSpec[] = [];
  private readonly chunks: Buffer[] = [];
  readonly outputs: string[] = [];
  private seed = 100;

  input(name: string, shape: number[]): string {
    const dim = shape.map((s) => ({ size: String(s) }));
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim } } } });
    return name;
  }

  const(name: string, data: Float32Array | Int32Array, shape: number[]): string {
    const dtype = data instanceof Float32Array ? 'float32' : 'int32';
    this.specs.push({ name, shape, dtype });
    this.chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.nodes.push({ name, op: 'Const', attr: { dtype: { type: dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32' } } });
    return name;
  }

  ints(name: string, values: number[], shape = [values.length]): string {
    return this.const(name, Int32Array.from(values), shape);
  }

  /** Seeded weights scaled like a fan-in initialiser so activations stay near 1. */
  weight(name: string, shape: number[], fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1)): string {
    const bound = Math.sqrt(3 / Math.max(fanIn, 1));
    return this.const(
      name,
      seededUniform(
        this.seed++,
        shape.reduce((a, b) => a * b, 1),
        -bound,
        bound,
      ),
      shape,
    );
  }

  op(name: string, op: string, input: string[], attr: Record<string, Attr> = {}): string {
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  out(name: string): string {
    this.outputs.push(name);
    return name;
  }

  model(): TfjsGraphModel {
    return {
      nodes: this.nodes,
      weights: decodeWeights([{ paths: [], weights: this.specs }], Buffer.concat(this.chunks)),
    };
  }

  artifacts(): io.ModelArtifacts {
    const data = Buffer.concat(this.chunks);
    return {
      format: 'graph-model',
      modelTopology: { node: this.nodes, versions: {} },
      weightSpecs: this.specs as io.WeightsManifestEntry[],
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    };
  }

  /** A graph touching every converted op and layout path that the shipped models do not. */
  static coverage(): TinyGraph {
    const g = new TinyGraph();
    const nhwc = { data_format: A.s('NHWC') };
    const x = g.input('x', [-1, 9, 10, 4]);
    // SAME with odd sizes pads asymmetrically; fused BiasAdd + Relu6.
    const c1 = g.op('c1', '_FusedConv2D', [x, g.weight('w1', [3, 3, 4, 6]), g.weight('b1', [6])], {
      ...nhwc,
      strides: A.ints([1, 2, 2, 1]),
      padding: A.s('SAME'),
      dilations: A.ints([1, 1, 1, 1]),
      fused_ops: A.strs(['BiasAdd', 'Relu6']),
      num_args: A.i(1),
    });
    // Depthwise with channel multiplier 2, dilation 2, fused BiasAdd + Prelu.
    const d1 = g.out(
      g.op(
        'd1',
        'FusedDepthwiseConv2dNative',
        [c1, g.weight('dw', [3, 3, 6, 2], 9), g.weight('db', [12]), g.weight('alpha', [12])],
        {
          ...nhwc,
          strides: A.ints([1, 1, 1, 1]),
          padding: A.s('SAME'),
          dilations: A.ints([1, 2, 2, 1]),
          fused_ops: A.strs(['BiasAdd', 'Prelu']),
          num_args: A.i(2),
        },
      ),
    );
    const e1 = g.out(
      g.op('e1', 'Conv2D', [d1, g.weight('w2', [2, 2, 12, 8])], {
        ...nhwc,
        strides: A.ints([1, 1, 1, 1]),
        padding: A.s('EXPLICIT'),
        explicit_paddings: A.ints([0, 0, 1, 0, 0, 2, 0, 0]),
        dilations: A.ints([1, 1, 1, 1]),
      }),
    );
    const l1 = g.op('l1', 'LeakyRelu', [e1], { alpha: A.f(0.1) });
    const mp = g.op('mp', 'MaxPool', [l1], {
      ...nhwc,
      ksize: A.ints([1, 3, 3, 1]),
      strides: A.ints([1, 2, 2, 1]),
      padding: A.s('SAME'),
    });
    const ap = g.op('ap', 'AvgPool', [l1], {
      ...nhwc,
      ksize: A.ints([1, 2, 2, 1]),
      strides: A.ints([1, 1, 1, 1]),
      padding: A.s('VALID'),
    });
    const ap2 = g.op('ap2', 'AvgPool', [l1], {
      ...nhwc,
      ksize: A.ints([1, 3, 3, 1]),
      strides: A.ints([1, 2, 2, 1]),
      padding: A.s('SAME'),
    });
    g.out(g.op('softmax', 'Softmax', [g.op('add', 'AddV2', [mp, ap2])]));
    const size = g.ints('size', [7, 9]);
    const rb = g.op('rb', 'ResizeBilinear', [ap, size], { align_corners: A.b(false), half_pixel_centers: A.b(true) });
    const ra = g.op('ra', 'ResizeBilinear', [ap, size], { align_corners: A.b(true), half_pixel_centers: A.b(false) });
    g.out(
      g.op('rn', 'ResizeNearestNeighbor', [ap, g.ints('size2', [8, 11])], {
        align_corners: A.b(false),
        half_pixel_centers: A.b(false),
      }),
    );
    g.out(
      g.op('rbl', 'ResizeBilinear', [ap, g.ints('size3', [3, 4])], {
        align_corners: A.b(false),
        half_pixel_centers: A.b(false),
      }),
    );
    const cat = g.op('cat', 'ConcatV2', [rb, ra, g.ints('axis', [-1], [])]);
    // L2 normalisation over channels, written out as TF graphs do.
    const sum = g.op('sum', 'Sum', [g.op('sq', 'Square', [g.op('tanh', 'Tanh', [cat])]), g.ints('ch', [3])], {
      keep_dims: A.b(true),
    });
    const eps = g.const('eps', Float32Array.of(1e-3), []);
    const norm = g.out(g.op('norm', 'Mul', [cat, g.op('rsqrt', 'Rsqrt', [g.op('sum_eps', 'AddV2', [sum, eps])])]));
    const tr = g.op('tr', 'Transpose', [norm, g.ints('perm', [0, 3, 1, 2])]);
    // tfjs 4.22 gets shrink_axis_mask wrong when another axis has a stride > 1 (wasm returns other
    // elements, cpu throws), so strides and shrinking are covered by separate slices.
    g.out(
      g.op('slice', 'StridedSlice', [
        tr,
        g.ints('sb', [0, 1, 0, 2]),
        g.ints('se', [1, 11, 7, 9]),
        g.ints('ss', [1, 2, 1, 3]),
      ]),
    );
    g.out(
      g.op(
        'slice_shrink',
        'StridedSlice',
        [tr, g.ints('kb', [0, 1, 2, 0]), g.ints('ke', [1, 11, 3, 9]), g.ints('ks', [1, 1, 1, 1])],
        { shrink_axis_mask: A.i(5) },
      ),
    );
    g.out(
      g.op(
        'slice_back',
        'StridedSlice',
        [norm, g.ints('rb0', [0, -1, 0, 0]), g.ints('re0', [1, -8, 9, 16]), g.ints('rs0', [1, -2, 1, 4])],
        { end_mask: A.i(8) },
      ),
    );
    const mean = g.op('mean', 'Mean', [norm, g.ints('hw', [1, 2])], { keep_dims: A.b(false) });
    const sqz = g.op('sqz', 'Squeeze', [g.op('ex', 'ExpandDims', [mean, g.ints('one', [1], [])])], {
      squeeze_dims: A.ints([1]),
    });
    g.out(g.op('pack', 'Pack', [mean, sqz], { axis: A.i(1) }));
    g.out(g.op('mt', 'MatMul', [mean, sqz], { transpose_a: A.b(false), transpose_b: A.b(true) }));
    const mk = g.out(g.op('mean_keep', 'Mean', [e1, g.ints('hw2', [1, 2])], { keep_dims: A.b(true) }));
    g.out(g.op('sum_h', 'Sum', [e1, g.ints('h', [1])], { keep_dims: A.b(false) }));
    g.out(g.op('max_c', 'Max', [e1, g.ints('c', [3])], { keep_dims: A.b(false) }));
    g.out(g.op('mix', 'Sub', [g.op('abs', 'Abs', [g.op('neg', 'Neg', [mk])]), g.op('sig', 'Sigmoid', [mk])]));
    const flat = g.op('flat', 'Reshape', [mp, g.ints('flat_shape', [-1, 72])]);
    g.out(
      g.op('fc', '_FusedMatMul', [flat, g.weight('wf', [72, 10]), g.weight('bf', [10])], {
        transpose_a: A.b(false),
        transpose_b: A.b(false),
        fused_ops: A.strs(['BiasAdd', 'Relu']),
        num_args: A.i(1),
      }),
    );
    g.out(g.op('pad', 'Pad', [mp, g.ints('pads', [0, 0, 1, 0, 0, 2, 0, 3], [4, 2])]));
    g.out(
      g.op('pad_v2', 'PadV2', [
        mp,
        g.ints('pads2', [0, 0, 2, 1, 1, 0, 0, 0], [4, 2]),
        g.const('fill', Float32Array.of(0.5), []),
      ]),
    );
    g.out(
      g.op('mirror', 'MirrorPad', [mp, g.ints('pads3', [0, 0, 1, 1, 2, 1, 0, 0], [4, 2])], { mode: A.s('REFLECT') }),
    );
    const ba = g.op('ba', 'BiasAdd', [e1, g.weight('bias', [8])], nhwc);
    const clipped = g.op('clip', 'Maximum', [
      g.op('cmin', 'Minimum', [ba, g.weight('cap', [1, 1, 1, 8])]),
      g.const('floor', Float32Array.of(-0.25), []),
    ]);
    g.out(g.op('addn', 'AddN', [e1, clipped, g.op('sqd', 'SquaredDifference', [e1, ba])]));
    g.out(g.op('relu6', 'Relu6', [g.op('scaled', 'Mul', [ba, g.const('k', Float32Array.of(8), [])])]));
    return g;
  }
}
