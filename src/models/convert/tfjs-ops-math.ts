// TF element-wise, activation, softmax and reduction ops as ONNX nodes. They run in whatever layout
// their runtime inputs already have, so a chain of Conv -> Add -> Relu -> Conv needs no transposes.
import type { AttributeValue } from '../onnx/graph-builder.js';
import {
  Attrs,
  TO_NCHW,
  broadcastShapes,
  dropKeepsOrder,
  type ConversionContext,
  type OpConverter,
  type TfjsNode,
  type Value,
} from './tfjs-graph-context.js';

/**
 * An n-ary broadcasting op. It computes in NCHW when every runtime input is a rank-4 tensor and one
 * of them is already NCHW; constants are then re-laid out at conversion time, so no transposes.
 */
function broadcasting(ctx: ConversionContext, node: TfjsNode, onnxOp: string, inputs: Value[]): Value {
  if (inputs.length === 0) throw new Error(`TFJS node '${node.name}' (${node.op}) has no inputs`);
  const shape = inputs.map((v) => v.shape).reduce(broadcastShapes);
  const runtime = inputs.filter((v) => !v.data);
  const nchw = shape.length === 4 && runtime.some((v) => v.nchw) && runtime.every((v) => v.shape.length === 4);
  const names = inputs.map((v) => ctx.operand(v, nchw, shape.length));
  return { name: ctx.op(onnxOp, names, node), shape, nchw };
}

function elementwise(onnxOp: string): OpConverter {
  return (ctx, node, inputs) => broadcasting(ctx, node, onnxOp, inputs);
}

/** A one-input op (or chain of them) that keeps shape and layout. */
function unary(onnxOps: string[], attrs: (a: Attrs) => Record<string, AttributeValue> = () => ({})): OpConverter {
  return (ctx, node, [x]) => {
    if (!x) throw new Error(`TFJS node '${node.name}' (${node.op}) needs an input`);
    const nchw = x.nchw && !x.data;
    let name = ctx.operand(x, nchw);
    for (const op of onnxOps) name = ctx.op(op, [name], node, attrs(new Attrs(node)));
    return { name, shape: x.shape, nchw };
  };
}

const relu6: OpConverter = (ctx, node, [x]) => {
  if (!x) throw new Error(`TFJS node '${node.name}' (${node.op}) needs an input`);
  const nchw = x.nchw && !x.data;
  const bounds = [ctx.floatConst('zero', Float32Array.of(0), []), ctx.floatConst('six', Float32Array.of(6), [])];
  return { name: ctx.op('Clip', [ctx.operand(x, nchw), ...bounds], node), shape: x.shape, nchw };
};

/**
 * PReLU written as Relu(x) + alpha * Min(x, 0): the same values, but onnxruntime's PRelu kernel took
 * FaceMesh from 1.7 to 2.9 ms per face on real crops.
 */
export function preluExpr(ctx: ConversionContext, node: TfjsNode, x: string, alpha: string): string {
  const negative = ctx.op('Min', [x, ctx.floatConst('zero', Float32Array.of(0), [])], node);
  return ctx.op('Add', [ctx.op('Relu', [x], node), ctx.op('Mul', [negative, alpha], node)], node);
}

const prelu: OpConverter = (ctx, node, [x, alpha]) => {
  if (!x || !alpha) throw new Error(`TFJS node '${node.name}' (${node.op}) needs an input and an alpha`);
  const shape = broadcastShapes(x.shape, alpha.shape);
  const nchw = shape.length === 4 && x.nchw && !x.data;
  return {
    name: preluExpr(ctx, node, ctx.operand(x, nchw, shape.length), ctx.operand(alpha, nchw, shape.length)),
    shape,
    nchw,
  };
};

const square: OpConverter = (ctx, node, [x]) => {
  if (!x) throw new Error(`TFJS node '${node.name}' (${node.op}) needs an input`);
  const nchw = x.nchw && !x.data;
  const name = ctx.operand(x, nchw);
  return { name: ctx.op('Mul', [name, name], node), shape: x.shape, nchw };
};

const squaredDifference: OpConverter = (ctx, node, inputs) => {
  const d = broadcasting(ctx, node, 'Sub', inputs);
  return { ...d, name: ctx.op('Mul', [d.name, d.name], node) };
};

/** TF Softmax works on the last axis; for a value held as NCHW that is physical axis 1. */
function softmax(onnxOp: string): OpConverter {
  return (ctx, node, [x]) => {
    if (!x) throw new Error(`TFJS node '${node.name}' (${node.op}) needs an input`);
    const nchw = x.nchw && !x.data;
    const axis = nchw ? 1 : x.shape.length - 1;
    return { name: ctx.op(onnxOp, [ctx.operand(x, nchw)], node, { axis }), shape: x.shape, nchw };
  };
}

/** Normalised, sorted, distinct axes from a constant axis tensor (scalar or vector). */
export function constAxes(ctx: ConversionContext, node: TfjsNode, v: Value | undefined, rank: number): number[] {
  if (!v) throw new Error(`TFJS node '${node.name}' (${node.op}) needs an axis input`);
  const axes = Array.from(ctx.constData(v, node, 'axis')).map((a) => (a < 0 ? a + rank : a));
  return [...new Set(axes)].sort((a, b) => a - b);
}

/** ONNX opset 17 takes ReduceSum's axes as an input and the other reductions' as an attribute. */
function reduction(onnxOp: string): OpConverter {
  return (ctx, node, [x, axesValue]) => {
    if (!x) throw new Error(`TFJS node '${node.name}' (${node.op}) needs an input`);
    const axes = constAxes(ctx, node, axesValue, x.shape.length);
    if (axes.length === 0) return x;
    const keep = new Attrs(node).bool('keep_dims', false);
    const nchw = x.nchw && !x.data && (keep || dropKeepsOrder(axes));
    const onnxAxes = axes.map((a) => (nchw ? TO_NCHW.indexOf(a as 0 | 1 | 2 | 3) : a));
    const input = ctx.operand(x, nchw);
    const name =
      onnxOp === 'ReduceSum'
        ? ctx.op(onnxOp, [input, ctx.int64(`${node.name}/axes`, onnxAxes)], node, { keepdims: keep ? 1 : 0 })
        : ctx.op(onnxOp, [input], node, { axes: onnxAxes, keepdims: keep ? 1 : 0 });
    const shape = keep
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    return { name, shape, nchw: nchw && keep };
  };
}

const biasAdd: OpConverter = (ctx, node, inputs) => {
  if (new Attrs(node).str('data_format', 'NHWC') !== 'NHWC')
    throw new Error(`Unsupported data_format in TFJS node '${node.name}' (BiasAdd)`);
  return broadcasting(ctx, node, 'Add', inputs);
};

export const MATH_OPS: Record<string, OpConverter> = {
  Add: elementwise('Add'),
  AddV2: elementwise('Add'),
  AddN: elementwise('Sum'),
  BiasAdd: biasAdd,
  Sub: elementwise('Sub'),
  Mul: elementwise('Mul'),
  Div: elementwise('Div'),
  RealDiv: elementwise('Div'),
  Maximum: elementwise('Max'),
  Minimum: elementwise('Min'),
  Pow: elementwise('Pow'),
  Prelu: prelu,
  SquaredDifference: squaredDifference,
  Relu: unary(['Relu']),
  Relu6: relu6,
  Elu: unary(['Elu']),
  Selu: unary(['Selu']),
  LeakyRelu: unary(['LeakyRelu'], (a) => ({ alpha: { float: a.float('alpha', 0.2) } })),
  Sigmoid: unary(['Sigmoid']),
  Tanh: unary(['Tanh']),
  Abs: unary(['Abs']),
  Neg: unary(['Neg']),
  Exp: unary(['Exp']),
  Log: unary(['Log']),
  Sqrt: unary(['Sqrt']),
  Rsqrt: unary(['Sqrt', 'Reciprocal']),
  Reciprocal: unary(['Reciprocal']),
  Floor: unary(['Floor']),
  Ceil: unary(['Ceil']),
  Softplus: unary(['Softplus']),
  Square: square,
  Softmax: softmax('Softmax'),
  LogSoftmax: softmax('LogSoftmax'),
  Mean: reduction('ReduceMean'),
  Sum: reduction('ReduceSum'),
  Max: reduction('ReduceMax'),
  Min: reduction('ReduceMin'),
  Prod: reduction('ReduceProd'),
};
