// Gives a shipped fixed-batch graph a batch axis: its input and output declare a batch of 1 and
// one Reshape flattens to [1, -1], so onnxruntime refuses a [N, ...] tensor. Convolutions,
// PRelu and Add do not care about the batch; the Reshape's leading 1 becomes 0 ("copy the input's
// dimension"). Anything else batch-bound is refused, so an edit never silently changes a result.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Ops that treat each image of a batch alone, whatever the batch size. */
const BATCH_FREE = new Set(['Conv', 'PRelu', 'Relu', 'Add', 'Mul', 'BatchNormalization', 'Reshape']);

/** `bytes` (an ONNX model) with a symbolic batch dimension `axis` on its input and outputs. */
export function withBatchAxis(bytes: Uint8Array, axis = 'N'): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new Error('The ONNX model has no graph');
  const nodes = graph.node ?? [];
  const unknown = nodes.filter((n) => !BATCH_FREE.has(n.opType ?? ''));
  if (unknown.length) throw new Error(`Cannot add a batch axis across ${unknown.map((n) => n.opType).join(', ')}`);
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name, t]));
  for (const node of nodes.filter((n) => n.opType === 'Reshape')) {
    const shape = initializers.get(node.input?.[1] ?? '');
    const raw = shape?.rawData;
    if (!shape || shape.dataType !== onnx.TensorProto.DataType.INT64 || !raw || raw.length < 8)
      throw new Error(`Reshape ${node.name ?? ''} has no constant int64 shape`);
    const data = Buffer.from(raw);
    if (data.readBigInt64LE(0) !== 1n) throw new Error(`Reshape ${node.name ?? ''} does not keep a batch of 1`);
    data.writeBigInt64LE(0n, 0);
    shape.rawData = data;
  }
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name ?? ''));
  for (const value of [...inputs, ...(graph.output ?? [])]) {
    const first = value.type?.tensorType?.shape?.dim?.[0];
    if (!first || Number(first.dimValue) !== 1) throw new Error(`${value.name ?? ''} does not declare a batch of 1`);
    delete (first as { dimValue?: unknown }).dimValue;
    first.dimParam = axis;
  }
  return onnx.ModelProto.encode(model).finish();
}
