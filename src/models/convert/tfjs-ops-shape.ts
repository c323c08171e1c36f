// TF shape and data-movement ops as ONNX nodes. Ops whose meaning depends on element order
// (Reshape, StridedSlice, Pack, ExpandDims) take their input in TF's own NHWC order; the others map
// their axes onto the layout the input already has.
import {
  Attrs,
  TO_NCHW,
  dropKeepsOrder,
  physicalAxis,
  shapeSize,
  type ConversionContext,
  type OpConverter,
  type TfjsNode,
  type Value,
} from './tfjs-graph-context.js';
import { constAxes } from './tfjs-ops-math.js';

/** Far past any dimension; ONNX Slice clamps it. */
const END = Number.MAX_SAFE_INTEGER;

function need(node: TfjsNode, v: Value | undefined, what: string): Value {
  if (!v) throw new Error(`TFJS node '${node.name}' (${node.op}) needs ${what}`);
  return v;
}

function ints(ctx: ConversionContext, node: TfjsNode, v: Value | undefined, what: string): number[] {
  return Array.from(ctx.constData(need(node, v, what), node, what));
}

const passThrough: OpConverter = (_ctx, node, [x]) => need(node, x, 'an input');

const cast: OpConverter = (_ctx, node, [x]) => {
  for (const key of ['SrcT', 'DstT']) {
    const type = node.attr?.[key]?.type;
    if (type !== undefined && type !== 'DT_FLOAT')
      throw new Error(`Unsupported Cast ${key}=${type} in TFJS node '${node.name}'`);
  }
  return need(node, x, 'an input');
};

const reshape: OpConverter = (ctx, node, [x, shapeValue]) => {
  const input = need(node, x, 'an input');
  const target = ints(ctx, node, shapeValue, 'a shape');
  const shape = [...target];
  const infer = target.indexOf(-1);
  if (infer >= 0 && input.shape.every((d) => d >= 0)) {
    shape[infer] = shapeSize(input.shape) / shapeSize(target.filter((_, i) => i !== infer));
  }
  // TF's 0 means an empty dimension; ONNX's means "copy" unless allowzero is set.
  const attrs: Record<string, number> = target.includes(0) ? { allowzero: 1 } : {};
  const name = ctx.op('Reshape', [ctx.plain(input), ctx.int64(`${node.name}/shape`, target)], node, attrs);
  return { name, shape, nchw: false };
};

function pad(mode: 'constant' | 'mirror'): OpConverter {
  return (ctx, node, [x, paddings, fill]) => {
    const input = need(node, x, 'an input');
    const p = ints(ctx, node, paddings, 'paddings');
    const rank = input.shape.length;
    const nchw = input.nchw && !input.data;
    // ONNX pads: all begins then all ends, in the order ONNX holds the axes.
    const logical = (phys: number): number => (nchw ? TO_NCHW[phys]! : phys);
    const before = Array.from({ length: rank }, (_, i) => p[2 * logical(i)]!);
    const after = Array.from({ length: rank }, (_, i) => p[2 * logical(i) + 1]!);
    const inputs = [ctx.operand(input, nchw), ctx.int64(`${node.name}/pads`, [...before, ...after])];
    let onnxMode = 'constant';
    if (mode === 'mirror') {
      const m = new Attrs(node).str('mode');
      if (m !== 'REFLECT') throw new Error(`Unsupported MirrorPad mode '${m}' in TFJS node '${node.name}'`);
      onnxMode = 'reflect';
    } else if (fill) inputs.push(ctx.plain(fill));
    const shape = input.shape.map((d, i) => (d < 0 ? -1 : d + p[2 * i]! + p[2 * i + 1]!));
    return { name: ctx.op('Pad', inputs, node, { mode: onnxMode }), shape, nchw };
  };
}

function concat(axisFirst: boolean): OpConverter {
  return (ctx, node, inputs) => {
    const parts = axisFirst ? inputs.slice(1) : inputs.slice(0, -1);
    const first = need(node, parts[0], 'inputs');
    const rank = first.shape.length;
    const [axis] = constAxes(ctx, node, axisFirst ? inputs[0] : inputs.at(-1), rank) as [number];
    const runtime = parts.filter((v) => !v.data);
    const nchw = rank === 4 && runtime.some((v) => v.nchw);
    const shape = [...first.shape];
    shape[axis] = parts.some((v) => v.shape[axis]! < 0) ? -1 : parts.reduce((sum, v) => sum + v.shape[axis]!, 0);
    const names = parts.map((v) => ctx.operand(v, nchw, rank));
    return {
      name: ctx.op('Concat', names, node, { axis: nchw ? TO_NCHW.indexOf(axis as 0 | 1 | 2 | 3) : axis }),
      shape,
      nchw,
    };
  };
}

const pack: OpConverter = (ctx, node, parts) => {
  const first = need(node, parts[0], 'inputs');
  let axis = new Attrs(node).int('axis', 0);
  if (axis < 0) axis += first.shape.length + 1;
  const axes = ctx.int64(`${node.name}/axes`, [axis]);
  const names = parts.map((v) => ctx.op('Unsqueeze', [ctx.plain(v), axes], node));
  const shape = [...first.shape];
  shape.splice(axis, 0, parts.length);
  return { name: names.length === 1 ? names[0]! : ctx.op('Concat', names, node, { axis }), shape, nchw: false };
};

const expandDims: OpConverter = (ctx, node, [x, axisValue]) => {
  const input = need(node, x, 'an input');
  const [axis] = constAxes(ctx, node, axisValue, input.shape.length + 1) as [number];
  const shape = [...input.shape];
  shape.splice(axis, 0, 1);
  return {
    name: ctx.op('Unsqueeze', [ctx.plain(input), ctx.int64(`${node.name}/axes`, [axis])], node),
    shape,
    nchw: false,
  };
};

const squeeze: OpConverter = (ctx, node, [x]) => {
  const input = need(node, x, 'an input');
  const a = new Attrs(node);
  const rank = input.shape.length;
  let axes = (a.has('squeeze_dims') ? a.ints('squeeze_dims') : a.ints('axis', [])).map((d) => (d < 0 ? d + rank : d));
  if (axes.length === 0) {
    if (input.shape.includes(-1))
      throw new Error(`TFJS node '${node.name}' (Squeeze) needs explicit squeeze_dims for an unknown shape`);
    axes = input.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  }
  const nchw = input.nchw && !input.data && dropKeepsOrder(axes);
  const onnxAxes = axes.map((ax) => (nchw ? physicalAxis(input, ax) : ax));
  const name = ctx.op('Squeeze', [ctx.operand(input, nchw), ctx.int64(`${node.name}/axes`, onnxAxes)], node);
  return { name, shape: input.shape.filter((_, i) => !axes.includes(i)), nchw: false };
};

/** TF Transpose of a value held as NCHW folds into one ONNX Transpose. */
const transpose: OpConverter = (ctx, node, [x, permValue]) => {
  const input = need(node, x, 'an input');
  const perm = ints(ctx, node, permValue, 'perm');
  const nchw = input.nchw && !input.data;
  const onnxPerm = perm.map((p) => (nchw ? physicalAxis(input, p) : p));
  const name = ctx.op('Transpose', [ctx.operand(input, nchw)], node, { perm: onnxPerm });
  return { name, shape: perm.map((p) => input.shape[p]!), nchw: false };
};

/** Length of a Python-style slice of a dimension of size `dim`. */
function sliceLength(dim: number, begin: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
  if (step > 0) return Math.max(0, Math.ceil((clamp(end, 0, dim) - clamp(begin, 0, dim)) / step));
  return Math.max(0, Math.ceil((clamp(begin, -1, dim - 1) - clamp(end, -1, dim - 1)) / -step));
}

const stridedSlice: OpConverter = (ctx, node, [x, beginValue, endValue, stridesValue]) => {
  const input = need(node, x, 'an input');
  const a = new Attrs(node);
  if (a.int('ellipsis_mask', 0) || a.int('new_axis_mask', 0)) {
    throw new Error(`Unsupported StridedSlice ellipsis/new_axis mask in TFJS node '${node.name}'`);
  }
  const [beginMask, endMask, shrinkMask] = ['begin_mask', 'end_mask', 'shrink_axis_mask'].map((k) => a.int(k, 0)) as [
    number,
    number,
    number,
  ];
  const begin = ints(ctx, node, beginValue, 'begin');
  const end = ints(ctx, node, endValue, 'end');
  const strides = stridesValue ? ints(ctx, node, stridesValue, 'strides') : begin.map(() => 1);
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  const shape = [...input.shape];
  const shrink: number[] = [];
  begin.forEach((_, i) => {
    let step = strides[i]!;
    let b = beginMask & (1 << i) ? (step > 0 ? 0 : END) : begin[i]!;
    let e = endMask & (1 << i) ? (step > 0 ? END : -END) : end[i]!;
    if (shrinkMask & (1 << i)) {
      b = begin[i]!;
      e = b === -1 ? END : b + 1;
      step = 1;
      shrink.push(i);
    }
    starts.push(b);
    ends.push(e);
    steps.push(step);
    const dim = input.shape[i]!;
    shape[i] = dim < 0 ? -1 : sliceLength(dim, b, e, step);
  });
  const axes = begin.map((_, i) => i);
  const p = `${node.name}/`;
  let name = ctx.op(
    'Slice',
    [
      ctx.plain(input),
      ctx.int64(`${p}starts`, starts),
      ctx.int64(`${p}ends`, ends),
      ctx.int64(`${p}axes`, axes),
      ctx.int64(`${p}steps`, steps),
    ],
    node,
  );
  if (shrink.length) name = ctx.op('Squeeze', [name, ctx.int64(`${p}shrink`, shrink)], node);
  return { name, shape: shape.filter((_, i) => !shrink.includes(i)), nchw: false };
};

export const SHAPE_OPS: Record<string, OpConverter> = {
  Identity: passThrough,
  StopGradient: passThrough,
  Snapshot: passThrough,
  Cast: cast,
  Reshape: reshape,
  Pad: pad('constant'),
  PadV2: pad('constant'),
  MirrorPad: pad('mirror'),
  Concat: concat(true),
  ConcatV2: concat(false),
  Pack: pack,
  ExpandDims: expandDims,
  Squeeze: squeeze,
  Transpose: transpose,
  StridedSlice: stridedSlice,
};
