// Decodes TFJS weight shards (weightsManifest) into float32/int32 arrays, dequantising exactly as
// tfjs-core's io.decodeWeights does: uint8/uint16 as q * scale + min, float16 bit-exact.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | 'string';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}

export interface DecodedTensor {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Reads every shard of a manifest, in manifest order, into one buffer. */
export async function readShards(dir: string, manifest: readonly WeightsManifestGroup[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const group of manifest) {
    for (const p of group.paths) parts.push(await readFile(path.join(dir, p)));
  }
  return Buffer.concat(parts);
}

export function decodeWeights(manifest: readonly WeightsManifestGroup[], buffer: Buffer): Map<string, DecodedTensor> {
  const out = new Map<string, DecodedTensor>();
  let offset = 0;
  for (const spec of manifest.flatMap((g) => g.weights)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const byteLength = size * (BYTES[q ? q.dtype : spec.dtype] ?? 0);
    if (!byteLength && size) throw new Error(`Unsupported weight dtype for ${spec.name}: ${q?.dtype ?? spec.dtype}`);
    if (offset + byteLength > buffer.length) throw new Error(`Weight shards too short for ${spec.name}`);
    const bytes = buffer.subarray(offset, offset + byteLength);
    offset += byteLength;
    out.set(spec.name, { shape: spec.shape, ...decodeOne(spec, bytes, size) });
  }
  return out;
}

function decodeOne(spec: WeightSpec, bytes: Buffer, size: number): Pick<DecodedTensor, 'dtype' | 'data'> {
  const q = spec.quantization;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (q?.dtype === 'float16') {
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = halfToFloat(view.getUint16(i * 2, true));
    return { dtype: 'float32', data };
  }
  if (q) {
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    const read = q.dtype === 'uint8' ? (i: number) => view.getUint8(i) : (i: number) => view.getUint16(i * 2, true);
    const data = spec.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = read(i) * scale + min;
    return { dtype: spec.dtype === 'int32' ? 'int32' : 'float32', data };
  }
  if (spec.dtype === 'int32') {
    const data = new Int32Array(size);
    for (let i = 0; i < size; i++) data[i] = view.getInt32(i * 4, true);
    return { dtype: 'int32', data };
  }
  if (spec.dtype === 'float32') {
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = view.getFloat32(i * 4, true);
    return { dtype: 'float32', data };
  }
  throw new Error(`Unsupported weight dtype for ${spec.name}: ${spec.dtype}`);
}

/** IEEE 754 half -> float, as tfjs-core's float16 decoder (subnormals, inf, NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
