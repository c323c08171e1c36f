// A small typed builder for ONNX graphs, serialised with onnx-proto (protobufjs). Both model
// converters (TFJS graph models and face-api's code-defined network) build through it.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Opset every generated model declares; ORT 1.30 supports it fully. */
export const OPSET = 17;

export type AttributeValue = number | string | number[] | string[] | Float32Array | { float: number };

const ELEM_FLOAT = onnx.TensorProto.DataType.FLOAT;
const ELEM_INT64 = onnx.TensorProto.DataType.INT64;

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: Buffer.from(value) };
  if (value instanceof Float32Array) return { name, type: T.FLOATS, floats: Array.from(value) };
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) {
      return { name, type: T.STRINGS, strings: (value as string[]).map((s) => Buffer.from(s)) };
    }
    return { name, type: T.INTS, ints: value as number[] };
  }
  return { name, type: T.FLOAT, f: value.float };
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(private readonly graphName: string) {}

  /** A fresh tensor name with a readable prefix. */
  unique(prefix: string): string {
    let name = prefix;
    while (this.names.has(name)) name = `${prefix}__${++this.counter}`;
    this.names.add(name);
    return name;
  }

  input(name: string, dims: readonly (number | string)[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: readonly (number | string)[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 constant stored as an initializer; returns its name. */
  constant(prefix: string, data: Float32Array, dims: readonly number[]): string {
    const name = this.unique(prefix);
    this.initializers.push({ name, dims: [...dims], dataType: ELEM_FLOAT, rawData: toBytes(data) });
    return name;
  }

  /** An int64 constant (shapes, axes, pads). */
  int64(prefix: string, values: readonly number[]): string {
    const name = this.unique(prefix);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], dataType: ELEM_INT64, rawData: toBytes(data) });
    return name;
  }

  /** Adds one node; returns the names of its outputs (one unless `outputCount` says more). */
  node(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttributeValue> = {},
    opts: { name?: string; outputs?: readonly string[]; outputCount?: number } = {},
  ): string[] {
    const name = this.unique(opts.name ?? opType);
    const outputs = opts.outputs
      ? opts.outputs.map((o) => {
          this.names.add(o);
          return o;
        })
      : Array.from({ length: opts.outputCount ?? 1 }, (_, i) => (i === 0 ? name : this.unique(`${name}:${i}`)));
    this.nodes.push({
      name,
      opType,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** `node` for the common single-output case. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttributeValue> = {}, name?: string): string {
    return this.node(opType, inputs, attrs, name === undefined ? {} : { name })[0]!;
  }

  /** The serialised ModelProto. */
  toBytes(docString = ''): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'faceembed',
      docString,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: readonly (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_FLOAT,
        shape: {
          dim: dims.map((d) =>
            typeof d === 'number' && d >= 0 ? { dimValue: d } : { dimParam: String(d === -1 ? 'batch' : d) },
          ),
        },
      },
    },
  };
}

function toBytes(data: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian, as are all the machines we run on.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}
