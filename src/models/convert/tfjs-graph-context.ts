// Shared state of one TFJS graph -> ONNX conversion: the values flowing through the graph, their
// layout, constants, and TF attribute decoding. TF tensors are NHWC; Conv/pooling in ONNX want NCHW.
// Rather than transposing around every op, each rank-4 value records whether ONNX holds it
// channels-first (`nchw`), and a transpose is emitted (once per value) only where an op needs the
// other layout.
import type { AttributeValue, GraphBuilder } from '../onnx/graph-builder.js';

/** A node of a TFJS graph model (model.json modelTopology.node[]). */
export interface TfjsNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

export interface TfShape {
  dim?: { size?: string | number }[];
  unknownRank?: boolean;
}

/** TF AttrValue as TFJS stores it in JSON (strings base64, int64 as strings). */
export interface TfAttr {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: TfShape;
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[] };
}

/** A tensor in the converted graph. `shape` is always the TF (logical) shape; -1 is unknown. */
export interface Value {
  /** ONNX tensor name of a runtime value; for a constant (`data` set), only a naming hint. */
  name: string;
  shape: number[];
  /** Rank-4 value that ONNX holds as NCHW (its TF shape stays NHWC). */
  nchw: boolean;
  /** Known constant contents in TF layout. */
  data?: Float32Array | Int32Array;
}

/** Physical position of each logical NHWC axis when held as NCHW: physical axis p holds logical TO_NCHW[p]. */
export const TO_NCHW = [0, 3, 1, 2] as const;
export const TO_NHWC = [0, 2, 3, 1] as const;

export function physicalAxis(v: Value, axis: number): number {
  return v.nchw ? TO_NCHW.indexOf(axis as 0 | 1 | 2 | 3) : axis;
}

/** Whether dropping logical `axes` from a rank-4 value held as NCHW leaves the rest in TF order. */
export function dropKeepsOrder(axes: readonly number[]): boolean {
  const rest = TO_NCHW.filter((a) => !axes.includes(a));
  return rest.every((a, i) => i === 0 || rest[i - 1]! < a);
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Reorders an N-d row-major array: output axis i is input axis perm[i]. */
export function permute<T extends Float32Array | Int32Array>(
  data: T,
  shape: readonly number[],
  perm: readonly number[],
): T {
  const rank = shape.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  const outShape = perm.map((p) => shape[p]!);
  const strides = perm.map((p) => inStrides[p]!);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i]! * strides[i]!;
    out[o] = data[src]!;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i]! < outShape[i]!) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** NumPy-style broadcast of two TF shapes; -1 (unknown) yields to a known size. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === 1) return y;
    if (y === 1) return x;
    return x === -1 ? y : x;
  });
}

/** Reads typed attributes of one node; errors name the node. */
export class Attrs {
  constructor(private readonly node: TfjsNode) {}

  has(key: string): boolean {
    return this.node.attr?.[key] !== undefined;
  }

  str(key: string, fallback?: string): string {
    const s = this.node.attr?.[key]?.s;
    if (s !== undefined) return Buffer.from(s, 'base64').toString('utf8');
    return this.required(key, fallback);
  }

  strs(key: string): string[] {
    return (this.node.attr?.[key]?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
  }

  int(key: string, fallback?: number): number {
    const i = this.node.attr?.[key]?.i;
    return i !== undefined ? Number(i) : this.required(key, fallback);
  }

  ints(key: string, fallback?: number[]): number[] {
    const list = this.node.attr?.[key]?.list;
    if (list) return (list.i ?? []).map(Number);
    return this.required(key, fallback);
  }

  float(key: string, fallback?: number): number {
    const f = this.node.attr?.[key]?.f;
    return f !== undefined ? Number(f) : this.required(key, fallback);
  }

  bool(key: string, fallback?: boolean): boolean {
    const b = this.node.attr?.[key]?.b;
    return b !== undefined ? b : this.required(key, fallback);
  }

  private required<T>(key: string, fallback: T | undefined): T {
    if (fallback === undefined)
      throw new Error(`TFJS node '${this.node.name}' (${this.node.op}) lacks attribute '${key}'`);
    return fallback;
  }
}

/** Dims of a TF shape attribute; unknown sizes become -1. */
export function tfShapeDims(shape: TfShape | undefined): number[] | undefined {
  if (!shape || shape.unknownRank || !shape.dim) return undefined;
  return shape.dim.map((d) => (d.size === undefined ? -1 : Number(d.size)));
}

export class ConversionContext {
  private readonly transposed = new Map<string, string>();
  private readonly stored = new WeakMap<Value, Map<string, string>>();

  constructor(readonly b: GraphBuilder) {}

  /** One ONNX node named after the TF node it comes from. */
  op(opType: string, inputs: readonly string[], node: TfjsNode, attrs: Record<string, AttributeValue> = {}): string {
    return this.b.op(opType, inputs, attrs, node.name);
  }

  /** Runtime `v` in the requested layout, transposed at most once per direction. */
  private inLayout(v: Value, nchw: boolean): Value {
    if (v.nchw === nchw || v.shape.length !== 4) return v;
    const key = `${v.name}|${nchw ? 'nchw' : 'nhwc'}`;
    let name = this.transposed.get(key);
    if (!name) {
      name = this.b.op(
        'Transpose',
        [v.name],
        { perm: [...(nchw ? TO_NCHW : TO_NHWC)] },
        `${v.name}/${nchw ? 'to_nchw' : 'to_nhwc'}`,
      );
      this.transposed.set(key, name);
    }
    return { name, shape: v.shape, nchw };
  }

  /**
   * ONNX name of `v` for an op computing in `nchw` layout at output rank `rank`: runtime values are
   * transposed if needed; constants are right-aligned to rank 4 and permuted so ONNX broadcasting
   * against NCHW tensors matches TF broadcasting against NHWC ones.
   */
  operand(v: Value, nchw: boolean, rank = v.shape.length): string {
    if (!v.data) return this.inLayout(v, nchw).name;
    if (!nchw || rank !== 4 || v.shape.length === 0) return this.store(v, 'as-is', v.shape, v.data);
    const shape4 = [...new Array<number>(4 - v.shape.length).fill(1), ...v.shape];
    return this.store(
      v,
      'nchw',
      TO_NCHW.map((a) => shape4[a]!),
      permute(v.data, shape4, TO_NCHW),
    );
  }

  /** ONNX name of `v` in TF's own (NHWC) layout. */
  plain(v: Value): string {
    return this.operand(v, false);
  }

  /** A constant Value whose contents the conversion needs (shapes, axes, paddings, weights). */
  constData(v: Value, node: TfjsNode, what: string): Float32Array | Int32Array {
    if (!v.data) throw new Error(`TFJS node '${node.name}' (${node.op}): ${what} must be a constant`);
    return v.data;
  }

  floatConst(prefix: string, data: Float32Array, dims: readonly number[]): string {
    return this.b.constant(prefix, data, dims);
  }

  int64(prefix: string, values: readonly number[]): string {
    return this.b.int64(prefix, values);
  }

  private store(v: Value, variant: string, dims: readonly number[], data: Float32Array | Int32Array): string {
    let byVariant = this.stored.get(v);
    if (!byVariant) this.stored.set(v, (byVariant = new Map()));
    let name = byVariant.get(variant);
    if (!name) {
      if (!(data instanceof Float32Array))
        throw new Error(`int32 tensor '${v.name}' used as a runtime operand is not supported`);
      name = this.b.constant(v.name, data, dims);
      byVariant.set(variant, name);
    }
    return name;
  }
}

/** Translates one TF node whose inputs are already converted; returns its (single) output. */
export type OpConverter = (ctx: ConversionContext, node: TfjsNode, inputs: Value[]) => Value;
