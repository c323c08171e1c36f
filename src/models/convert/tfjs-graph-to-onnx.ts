// Converts a TFJS graph model (model.json + weight shards) to ONNX. The ONNX model keeps the TFJS
// boundary: the same input and output names (TF node names, which ONNX Runtime accepts as they are)
// and NHWC tensors in and out, so callers feed both runtimes the same data. Inside, convolutions and
// pooling run NCHW with transposes only where the layout has to change (see tfjs-graph-context.ts).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GraphBuilder } from '../onnx/graph-builder.js';
import {
  ConversionContext,
  tfShapeDims,
  type OpConverter,
  type TfShape,
  type TfjsNode,
  type Value,
} from './tfjs-graph-context.js';
import { MATH_OPS } from './tfjs-ops-math.js';
import { NN_OPS } from './tfjs-ops-nn.js';
import { SHAPE_OPS } from './tfjs-ops-shape.js';
import { decodeWeights, readShards, type DecodedTensor, type WeightsManifestGroup } from './tfjs-weights.js';

export type { TfjsNode } from './tfjs-graph-context.js';

export interface TfjsSignatureEntry {
  name: string;
  dtype?: string;
  tensorShape?: TfShape;
}
export interface TfjsSignature {
  inputs?: Record<string, TfjsSignatureEntry>;
  outputs?: Record<string, TfjsSignatureEntry>;
}

export interface TfjsGraphModel {
  nodes: TfjsNode[];
  weights: ReadonlyMap<string, DecodedTensor>;
  signature?: TfjsSignature;
  /** Where the model came from; used in the ONNX doc string. */
  source?: string;
}

export interface ConvertedModel {
  onnx: Uint8Array;
  /** Shapes are TF's (NHWC); -1 is the dynamic batch (or another unknown size). */
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape: number[] }[];
}

interface ModelJson {
  format?: string;
  modelTopology?: { node?: TfjsNode[] };
  weightsManifest?: WeightsManifestGroup[];
  signature?: TfjsSignature;
  userDefinedMetadata?: { signature?: TfjsSignature };
}

const OPS: Readonly<Record<string, OpConverter>> = { ...MATH_OPS, ...NN_OPS, ...SHAPE_OPS };

/** Reads a TFJS graph model.json and its weight shards (dequantised to float32/int32). */
export async function loadTfjsGraphModel(modelJsonPath: string): Promise<TfjsGraphModel> {
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  const nodes = json.modelTopology?.node;
  if (!Array.isArray(nodes)) throw new Error(`${modelJsonPath} is not a TFJS graph model (no modelTopology.node)`);
  const manifest = json.weightsManifest ?? [];
  const weights = decodeWeights(manifest, await readShards(path.dirname(modelJsonPath), manifest));
  // TFJS's GraphModel prefers the signature kept in userDefinedMetadata over the top-level one.
  const signature = json.userDefinedMetadata?.signature ?? json.signature;
  return { nodes, weights, signature, source: path.basename(modelJsonPath) };
}

/**
 * Converts `model` to ONNX. Outputs default to TFJS's own choice (the signature's outputs in order,
 * else the nodes nothing consumes); `opts.outputs` may name nodes (`name` or `name:0`) or signature keys.
 * Only the part of the graph the outputs need is converted. An unsupported op throws, naming op and node.
 */
export function convertTfjsGraph(model: TfjsGraphModel, opts: { outputs?: string[] } = {}): ConvertedModel {
  return new GraphConversion(model).run(opts.outputs);
}

/** `node:0` -> `node`; other output indices mean multi-output ops, which are not supported. */
function nodeName(ref: string): string {
  const m = /^\^?(.*?)(?::(\d+))?$/.exec(ref);
  if (!m || (m[2] !== undefined && m[2] !== '0'))
    throw new Error(`Unsupported reference to output ${m?.[2]} of TFJS node '${m?.[1] ?? ref}'`);
  return m[1]!;
}

class GraphConversion {
  private readonly byName = new Map<string, TfjsNode>();
  private readonly values = new Map<string, Value>();
  private readonly visiting = new Set<string>();
  private readonly b = new GraphBuilder('tfjs_graph');
  private readonly ctx = new ConversionContext(this.b);
  private unknownDims = 0;

  constructor(private readonly model: TfjsGraphModel) {
    for (const node of model.nodes) this.byName.set(node.name, node);
  }

  run(requested: string[] | undefined): ConvertedModel {
    const inputs = this.inputNodes().map((node) => this.declareInput(node));
    const outputNames = requested ? requested.map((r) => this.resolveOutput(r)) : this.defaultOutputs();
    if (outputNames.length === 0) throw new Error('TFJS graph has no outputs');
    // Reserve the boundary names so no inner tensor takes them.
    for (const name of outputNames) {
      if (this.b.unique(name) !== name) throw new Error(`Output '${name}' is also a graph input or listed twice`);
    }
    const outputs = outputNames.map((name) => {
      const v = this.convert(name);
      this.b.node('Identity', [this.ctx.plain(v)], {}, { name: `${name}/output`, outputs: [name] });
      this.b.output(name, this.dims(v.shape));
      return { name, shape: v.shape };
    });
    const onnx = this.b.toBytes(`Converted from TFJS graph model ${this.model.source ?? ''}`.trim());
    return { onnx, inputs, outputs };
  }

  private inputNodes(): TfjsNode[] {
    const fromSignature = Object.values(this.model.signature?.inputs ?? {}).map((e) => nodeName(e.name));
    const names = fromSignature.length
      ? [...new Set(fromSignature)]
      : this.model.nodes.filter((n) => n.op.startsWith('Placeholder')).map((n) => n.name);
    return names.map((name) => {
      const node = this.byName.get(name);
      if (!node) throw new Error(`TFJS signature input '${name}' is not a node of the graph`);
      return node;
    });
  }

  private declareInput(node: TfjsNode): { name: string; shape: number[] } {
    const dtype = node.attr?.['dtype']?.type;
    if (dtype !== undefined && dtype !== 'DT_FLOAT')
      throw new Error(`Unsupported input dtype ${dtype} of '${node.name}'`);
    const entry = Object.values(this.model.signature?.inputs ?? {}).find((e) => nodeName(e.name) === node.name);
    const shape = tfShapeDims(node.attr?.['shape']?.shape) ?? tfShapeDims(entry?.tensorShape);
    if (!shape) throw new Error(`TFJS input '${node.name}' has no known rank`);
    this.b.input(node.name, this.dims(shape));
    this.values.set(node.name, { name: node.name, shape, nchw: false });
    return { name: node.name, shape };
  }

  private resolveOutput(ref: string): string {
    const entry = this.model.signature?.outputs?.[ref];
    const name = nodeName(entry ? entry.name : ref);
    if (!this.byName.has(name)) throw new Error(`TFJS graph has no node '${name}'`);
    return name;
  }

  private defaultOutputs(): string[] {
    const fromSignature = Object.values(this.model.signature?.outputs ?? {}).map((e) => nodeName(e.name));
    if (fromSignature.length) return [...new Set(fromSignature)].filter((n) => this.byName.has(n));
    const consumed = new Set(
      this.model.nodes.flatMap((n) => (n.input ?? []).map((i) => nodeName(i.replace(/:\d+$/, '')))),
    );
    return this.model.nodes
      .filter((n) => !consumed.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp')
      .map((n) => n.name);
  }

  /** Converts the node `ref` names (after its inputs), once. */
  private convert(ref: string): Value {
    const name = nodeName(ref);
    const done = this.values.get(name);
    if (done) return done;
    const node = this.byName.get(name);
    if (!node) throw new Error(`TFJS graph has no node '${name}'`);
    if (this.visiting.has(name)) throw new Error(`TFJS graph has a cycle through '${name}'`);
    let value: Value;
    if (node.op === 'Const') {
      const w = this.model.weights.get(name);
      if (!w) throw new Error(`TFJS constant '${name}' has no weights`);
      value = { name, shape: w.shape, nchw: false, data: w.data };
    } else {
      const op = OPS[node.op];
      if (!op || node.op.startsWith('Placeholder'))
        throw new Error(`Unsupported TFJS op '${node.op}' at node '${name}'`);
      this.visiting.add(name);
      const inputs = (node.input ?? []).filter((i) => !i.startsWith('^')).map((i) => this.convert(i));
      this.visiting.delete(name);
      value = op(this.ctx, node, inputs);
    }
    this.values.set(name, value);
    return value;
  }

  /** ONNX dims: a -1 batch becomes the 'batch' parameter, other unknown sizes their own parameter. */
  private dims(shape: readonly number[]): (number | string)[] {
    return shape.map((d, i) => (d >= 0 || i === 0 ? d : `unknown_${++this.unknownDims}`));
  }
}
