// TF convolution, pooling, matmul and resize ops (with TFJS's fused variants) as ONNX nodes.
// ONNX Conv/Pool/Resize run channels-first: a TF NHWC input is fed transposed (once per value) and
// the output stays NCHW, marked so, until an op needs NHWC again.
import type { AttributeValue } from '../onnx/graph-builder.js';
import { preluExpr } from './tfjs-ops-math.js';
import {
  Attrs,
  permute,
  type ConversionContext,
  type OpConverter,
  type TfjsNode,
  type Value,
} from './tfjs-graph-context.js';

const ACTIVATIONS = new Set(['relu', 'relu6', 'elu', 'selu', 'sigmoid', 'tanh', 'leakyrelu', 'prelu', 'linear']);

interface Fused {
  bias?: Value;
  activation?: string;
  alpha?: Value;
  leakyAlpha: number;
}

/** Reads `fused_ops` (e.g. ['BiasAdd', 'Prelu']) and their extra arguments, as TFJS executes them. */
function fusedOps(node: TfjsNode, args: Value[]): Fused {
  const a = new Attrs(node);
  const out: Fused = { leakyAlpha: a.float('leakyrelu_alpha', 0.2) };
  let next = 0;
  const arg = (what: string): Value => {
    const v = args[next++];
    if (!v) throw new Error(`TFJS node '${node.name}' (${node.op}) lacks the ${what} argument of its fused ops`);
    return v;
  };
  for (const op of a.strs('fused_ops').map((s) => s.toLowerCase())) {
    if (op === 'biasadd') out.bias = arg('bias');
    else if (ACTIVATIONS.has(op)) {
      out.activation = op;
      if (op === 'prelu') out.alpha = arg('prelu alpha');
    } else throw new Error(`Unsupported fused op '${op}' in TFJS node '${node.name}' (${node.op})`);
  }
  return out;
}

/** Applies a TFJS fused activation to ONNX tensor `x` held in layout `nchw`. */
function activate(ctx: ConversionContext, node: TfjsNode, x: string, f: Fused, nchw: boolean, rank: number): string {
  switch (f.activation) {
    case undefined:
    case 'linear':
      return x;
    case 'relu':
      return ctx.op('Relu', [x], node);
    case 'relu6':
      return ctx.op(
        'Clip',
        [x, ctx.floatConst('zero', Float32Array.of(0), []), ctx.floatConst('six', Float32Array.of(6), [])],
        node,
      );
    case 'elu':
      return ctx.op('Elu', [x], node, { alpha: { float: 1 } });
    case 'selu':
      return ctx.op('Selu', [x], node);
    case 'sigmoid':
      return ctx.op('Sigmoid', [x], node);
    case 'tanh':
      return ctx.op('Tanh', [x], node);
    case 'leakyrelu':
      return ctx.op('LeakyRelu', [x], node, { alpha: { float: f.leakyAlpha } });
    case 'prelu':
      return preluExpr(ctx, node, x, ctx.operand(f.alpha!, nchw, rank));
    default:
      throw new Error(`Unsupported activation '${f.activation}' in TFJS node '${node.name}'`);
  }
}

/** The two spatial entries of a 4-element TF attribute (strides, dilations, ksize). */
function spatial(a: Attrs, key: string, channelsLast: boolean): [number, number] {
  const v = a.ints(key, [1, 1, 1, 1]);
  if (v.length !== 4) throw new Error(`Attribute '${key}' must have 4 entries, has ${v.length}`);
  return channelsLast ? [v[1]!, v[2]!] : [v[2]!, v[3]!];
}

/**
 * ONNX padding attributes and output size for TF's SAME / VALID / EXPLICIT padding. SAME pads
 * asymmetrically (the extra row/column goes after), so explicit pads are computed from the static
 * input size; only an unknown size falls back to auto_pad SAME_UPPER, which means the same thing.
 */
function windowPadding(
  node: TfjsNode,
  inHW: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
  channelsLast: boolean,
) {
  const a = new Attrs(node);
  const mode = a.str('padding');
  const pads = [0, 0, 0, 0];
  const out = [-1, -1];
  for (let i = 0; i < 2; i++) {
    const n = inHW[i]!;
    const s = strides[i]!;
    const span = (kernel[i]! - 1) * dilations[i]! + 1;
    if (mode === 'SAME') {
      if (n < 0) return { attrs: { auto_pad: 'SAME_UPPER' } as Record<string, AttributeValue>, out: [-1, -1] };
      out[i] = Math.ceil(n / s);
      const total = Math.max((out[i]! - 1) * s + span - n, 0);
      pads[i] = Math.floor(total / 2);
      pads[i + 2] = total - pads[i]!;
    } else if (mode === 'VALID' || mode === 'EXPLICIT') {
      if (mode === 'EXPLICIT') {
        const e = a.ints('explicit_paddings');
        const dim = channelsLast ? 1 + i : 2 + i;
        pads[i] = e[2 * dim] ?? 0;
        pads[i + 2] = e[2 * dim + 1] ?? 0;
      }
      out[i] = n < 0 ? -1 : Math.floor((n + pads[i]! + pads[i + 2]! - span) / s) + 1;
    } else throw new Error(`Unsupported padding '${mode}' in TFJS node '${node.name}'`);
  }
  return { attrs: { pads } as Record<string, AttributeValue>, out };
}

function dataFormat(node: TfjsNode): boolean {
  const format = new Attrs(node).str('data_format', 'NHWC');
  if (format !== 'NHWC' && format !== 'NCHW')
    throw new Error(`Unsupported data_format '${format}' in TFJS node '${node.name}'`);
  return format === 'NHWC';
}

function convolution(depthwise: boolean, fused: boolean): OpConverter {
  return (ctx, node, [x, filter, ...args]) => {
    if (!x || !filter) throw new Error(`TFJS node '${node.name}' (${node.op}) needs input and filter`);
    const a = new Attrs(node);
    const channelsLast = dataFormat(node);
    const w = ctx.constData(filter, node, 'filter');
    if (!(w instanceof Float32Array) || filter.shape.length !== 4)
      throw new Error(`TFJS node '${node.name}': filter must be a 4-D float constant`);
    const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
    const strides = spatial(a, 'strides', channelsLast);
    const dilations = spatial(a, 'dilations', channelsLast);
    const inC = x.shape[channelsLast ? 3 : 1] ?? -1;
    const inHW = channelsLast ? [x.shape[1]!, x.shape[2]!] : [x.shape[2]!, x.shape[3]!];
    const pad = windowPadding(node, inHW, [kh, kw], strides, dilations, channelsLast);
    // TF filters are [H, W, in, out] (depthwise: [H, W, C, multiplier], output channel c * M + m).
    const weight = depthwise ? permute(w, filter.shape, [2, 3, 0, 1]) : permute(w, filter.shape, [3, 2, 0, 1]);
    const outC = depthwise ? ci * co : co;
    const group = depthwise ? ci : inC > ci ? inC / ci : 1;
    const f = fused ? fusedOps(node, args) : { leakyAlpha: 0.2 };
    // ONNX wants channels-first data: a channels-last TF tensor is fed as NCHW.
    const inputs = [
      ctx.operand(x, channelsLast),
      ctx.floatConst(`${node.name}/weight`, weight, [outC, depthwise ? 1 : ci, kh, kw]),
    ];
    if (f.bias) inputs.push(ctx.plain(f.bias));
    const y = ctx.op('Conv', inputs, node, { kernel_shape: [kh, kw], strides, dilations, group, ...pad.attrs });
    const [oh, ow] = pad.out as [number, number];
    const shape = channelsLast ? [x.shape[0]!, oh, ow, outC] : [x.shape[0]!, outC, oh, ow];
    return { name: activate(ctx, node, y, f, channelsLast, 4), shape, nchw: channelsLast };
  };
}

function pooling(onnxOp: 'MaxPool' | 'AveragePool'): OpConverter {
  return (ctx, node, [x]) => {
    if (!x) throw new Error(`TFJS node '${node.name}' (${node.op}) needs an input`);
    const a = new Attrs(node);
    const channelsLast = dataFormat(node);
    const kernel = spatial(a, 'ksize', channelsLast);
    const strides = spatial(a, 'strides', channelsLast);
    const inHW = channelsLast ? [x.shape[1]!, x.shape[2]!] : [x.shape[2]!, x.shape[3]!];
    const pad = windowPadding(node, inHW, kernel, strides, [1, 1], channelsLast);
    // TF's AvgPool leaves padding out of the average, as ONNX count_include_pad=0 (the default) does.
    const y = ctx.op(onnxOp, [ctx.operand(x, channelsLast)], node, { kernel_shape: kernel, strides, ...pad.attrs });
    const [oh, ow] = pad.out as [number, number];
    const c = x.shape[channelsLast ? 3 : 1]!;
    return { name: y, shape: channelsLast ? [x.shape[0]!, oh, ow, c] : [x.shape[0]!, c, oh, ow], nchw: channelsLast };
  };
}

function matMul(fused: boolean): OpConverter {
  return (ctx, node, [x, y, ...args]) => {
    if (!x || !y) throw new Error(`TFJS node '${node.name}' (${node.op}) needs two inputs`);
    const a = new Attrs(node);
    const ta = a.bool('transpose_a', a.bool('adj_x', false));
    const tb = a.bool('transpose_b', a.bool('adj_y', false));
    const f = fused ? fusedOps(node, args) : { leakyAlpha: 0.2 };
    const m = x.shape[x.shape.length - (ta ? 1 : 2)]!;
    const n = y.shape[y.shape.length - (tb ? 2 : 1)]!;
    let out: string;
    let shape: number[];
    if (x.shape.length === 2 && y.shape.length === 2) {
      const inputs = [ctx.plain(x), ctx.plain(y), ...(f.bias ? [ctx.plain(f.bias)] : [])];
      out = ctx.op('Gemm', inputs, node, { transA: ta ? 1 : 0, transB: tb ? 1 : 0 });
      shape = [m, n];
    } else {
      const swap = (v: Value): string => {
        const perm = v.shape.map((_, i) => i);
        perm.splice(-2, 2, perm.length - 1, perm.length - 2);
        return ctx.op('Transpose', [ctx.plain(v)], node, { perm });
      };
      out = ctx.op('MatMul', [ta ? swap(x) : ctx.plain(x), tb ? swap(y) : ctx.plain(y)], node);
      if (f.bias) out = ctx.op('Add', [out, ctx.plain(f.bias)], node);
      const batch = x.shape.length >= y.shape.length ? x.shape.slice(0, -2) : y.shape.slice(0, -2);
      shape = [...batch, m, n];
    }
    return { name: activate(ctx, node, out, f, false, shape.length), shape, nchw: false };
  };
}

function resize(mode: 'linear' | 'nearest'): OpConverter {
  return (ctx, node, [x, size]) => {
    if (!x || !size) throw new Error(`TFJS node '${node.name}' (${node.op}) needs images and size`);
    const a = new Attrs(node);
    const [h, w] = Array.from(ctx.constData(size, node, 'size')) as [number, number];
    const align = a.bool('align_corners', false);
    const half = a.bool('half_pixel_centers', false);
    const transform = align
      ? 'align_corners'
      : !half
        ? 'asymmetric'
        : mode === 'nearest'
          ? 'tf_half_pixel_for_nn'
          : 'half_pixel';
    const attrs: Record<string, AttributeValue> = { mode, coordinate_transformation_mode: transform };
    if (mode === 'nearest') attrs['nearest_mode'] = align ? 'round_prefer_ceil' : 'floor';
    const [n, , , c] = x.shape as [number, number, number, number];
    const input = ctx.operand(x, true);
    // Target sizes rather than scales: a float scale can round the output size down.
    const sizes =
      n >= 0 && c >= 0
        ? ctx.int64(`${node.name}/sizes`, [n, c, h, w])
        : ctx.op(
            'Concat',
            [
              ctx.op('Slice', [ctx.op('Shape', [input], node), ctx.int64('zero', [0]), ctx.int64('two', [2])], node),
              ctx.int64(`${node.name}/hw`, [h, w]),
            ],
            node,
            { axis: 0 },
          );
    return { name: ctx.op('Resize', [input, '', '', sizes], node, attrs), shape: [n, h, w, c], nchw: true };
  };
}

export const NN_OPS: Record<string, OpConverter> = {
  Conv2D: convolution(false, false),
  _FusedConv2D: convolution(false, true),
  DepthwiseConv2d: convolution(true, false),
  DepthwiseConv2dNative: convolution(true, false),
  FusedDepthwiseConv2dNative: convolution(true, true),
  MaxPool: pooling('MaxPool'),
  AvgPool: pooling('AveragePool'),
  MatMul: matMul(false),
  BatchMatMul: matMul(false),
  BatchMatMulV2: matMul(false),
  _FusedMatMul: matMul(true),
  ResizeBilinear: resize('linear'),
  ResizeNearestNeighbor: resize('nearest'),
};
