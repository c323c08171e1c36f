// Exact search over one contiguous array (row per key, grown by doubling, a removed row refilled
// by the last one). Rows are float32, or float16 (float16.ts) for half the memory at a bounded
// score error. Each key may carry a label (the gallery's person), its keys chained through typed
// columns: at 1M faces a Map and a Set per person cost ~80 MB more. The full float32 scan runs in usearch's native SIMD kernel; a scan over a subset
// (one group's faces, a graph's candidates) or over float16 rows is a plain loop over those rows.
import { createRequire } from 'node:module';
import { l2Normalize } from '../domain/vector.js';
import { FLOAT16_VALUES, toFloat16Bits } from './float16.js';
import { TopK, type SearchHit, type VectorIndex } from './vector-index.js';

// usearch's ESM entry recurses forever on import; its CommonJS build is fine.
const usearch = createRequire(import.meta.url)('usearch') as typeof import('usearch');

const INITIAL_ROWS = 1024;

/** f32: scores exact to float32; f16: within FLOAT16_SIMILARITY_BOUND of them. */
export type StorePrecision = 'f32' | 'f16';

export class ExactIndex implements VectorIndex {
  private data: Float32Array | Uint16Array;
  private keys: Float64Array;
  private labels: Float64Array;
  /** The next key of the same label, NaN for the last: keys, not slots, so moving a row keeps the chain. */
  private nextOfLabel: Float64Array;
  private readonly firstOfLabel = new Map<number, number>();
  private readonly slots = new Map<number, number>();
  private rows = 0;

  constructor(
    readonly dimensions: number,
    precision: StorePrecision = 'f32',
  ) {
    this.data =
      precision === 'f16' ? new Uint16Array(INITIAL_ROWS * dimensions) : new Float32Array(INITIAL_ROWS * dimensions);
    this.keys = new Float64Array(INITIAL_ROWS);
    this.labels = new Float64Array(INITIAL_ROWS);
    this.nextOfLabel = new Float64Array(INITIAL_ROWS);
  }

  get precision(): StorePrecision {
    return this.data instanceof Uint16Array ? 'f16' : 'f32';
  }

  /** Rounds every row to float16 from now on (the float32 rows are freed). */
  toFloat16(): void {
    if (this.data instanceof Uint16Array) return;
    // A loop, not Uint16Array.from(data, fn): that lists every value first.
    const half = new Uint16Array(this.data.length);
    for (let i = 0; i < this.rows * this.dimensions; i++) half[i] = toFloat16Bits(this.data[i]!);
    this.data = half;
  }

  /** Adds or replaces the key's vector, under `label`. */
  add(key: number, vector: Float32Array, label = 0): void {
    if (vector.length !== this.dimensions)
      throw new RangeError(`Vector has ${vector.length} dimensions, the index ${this.dimensions}`);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      if (this.rows === this.keys.length) this.grow();
      slot = this.rows++;
      this.slots.set(key, slot);
      this.keys[slot] = key;
    } else this.unlink(slot);
    this.labels[slot] = label;
    this.nextOfLabel[slot] = this.firstOfLabel.get(label) ?? NaN;
    this.firstOfLabel.set(label, key);
    const unit = l2Normalize(vector);
    const at = slot * this.dimensions;
    if (this.data instanceof Float32Array) this.data.set(unit, at);
    else for (let j = 0; j < unit.length; j++) this.data[at + j] = toFloat16Bits(unit[j]!);
  }

  remove(key: number): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.unlink(slot);
    const last = --this.rows;
    if (slot !== last) {
      const d = this.dimensions;
      this.data.copyWithin(slot * d, last * d, (last + 1) * d);
      const moved = this.keys[last]!;
      this.keys[slot] = moved;
      this.labels[slot] = this.labels[last]!;
      this.nextOfLabel[slot] = this.nextOfLabel[last]!;
      this.slots.set(moved, slot);
    }
    this.slots.delete(key);
    return true;
  }

  has(key: number): boolean {
    return this.slots.has(key);
  }

  labelOf(key: number): number | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.labels[slot];
  }

  /** The keys under `label`, latest first. */
  keysOf(label: number): number[] {
    const keys: number[] = [];
    for (let k = this.firstOfLabel.get(label); k !== undefined && !Number.isNaN(k);) {
      keys.push(k);
      k = this.nextOfLabel[this.slots.get(k)!];
    }
    return keys;
  }

  /** How many labels hold keys. */
  labelCount(): number {
    return this.firstOfLabel.size;
  }

  /** The stored (normalised) vector, as float32: a copy. */
  vector(key: number): Float32Array | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    return this.float32Rows(slot, slot + 1);
  }

  /**
   * Every stored row (normalised, as float32) and its key, `chunk` rows at a time: float32 rows
   * are views into the store (no copy of a large gallery), float16 rows decoded chunk by chunk.
   */
  *allRows(chunk = 65_536): Generator<{ keys: Float64Array; vectors: Float32Array }> {
    for (let from = 0; from < this.rows; from += chunk) {
      const to = Math.min(this.rows, from + chunk);
      yield { keys: this.keys.subarray(from, to), vectors: this.float32Rows(from, to) };
    }
  }

  search(query: Float32Array, k: number): SearchHit[] {
    if (this.rows === 0 || k <= 0) return [];
    const q = l2Normalize(query);
    if (this.data instanceof Uint16Array) {
      const top = new TopK(k);
      for (let slot = 0; slot < this.rows; slot++) top.offer(this.keys[slot]!, this.similarity(slot, q));
      return top.hits;
    }
    const count = Math.min(k, this.rows);
    const found = usearch.exactSearch(
      this.data.subarray(0, this.rows * this.dimensions),
      q,
      this.dimensions,
      count,
      usearch.MetricKind.IP,
      1,
    );
    const hits: SearchHit[] = [];
    for (let i = 0; i < count; i++) {
      const slot = Number(found.keys[i]);
      if (slot < 0 || slot >= this.rows) continue;
      // usearch reports inner-product distance as 1 - dot.
      hits.push({ key: this.keys[slot]!, similarity: clamp(1 - found.distances[i]!) });
    }
    return hits;
  }

  /** Top k among the given keys only (absent keys are skipped), scored as `precision` allows. */
  searchAmong(query: Float32Array, k: number, keys: Iterable<number>): SearchHit[] {
    const q = l2Normalize(query);
    const top = new TopK(k);
    for (const key of keys) {
      const slot = this.slots.get(key);
      if (slot !== undefined) top.offer(key, this.similarity(slot, q));
    }
    return top.hits;
  }

  /** Similarity of the query to the stored vectors of these keys, most similar first. */
  rescore(query: Float32Array, keys: readonly number[]): SearchHit[] {
    const q = l2Normalize(query);
    const out: SearchHit[] = [];
    for (const key of keys) {
      const slot = this.slots.get(key);
      if (slot !== undefined) out.push({ key, similarity: this.similarity(slot, q) });
    }
    return out.sort((a, b) => b.similarity - a.similarity);
  }

  size(): number {
    return this.rows;
  }

  memoryBytes(): number {
    // The arrays plus the maps (about 30 bytes per entry in V8).
    const columns = this.keys.byteLength + this.labels.byteLength + this.nextOfLabel.byteLength;
    return this.data.byteLength + columns + (this.slots.size + this.firstOfLabel.size) * 30;
  }

  /** Takes the row at `slot` out of its label's chain (a label holds few keys: walked from its first). */
  private unlink(slot: number): void {
    const label = this.labels[slot]!;
    const key = this.keys[slot]!;
    const next = this.nextOfLabel[slot]!;
    let k = this.firstOfLabel.get(label)!;
    if (k === key) {
      if (Number.isNaN(next)) this.firstOfLabel.delete(label);
      else this.firstOfLabel.set(label, next);
      return;
    }
    for (;;) {
      const at = this.slots.get(k)!;
      if (this.nextOfLabel[at] === key) {
        this.nextOfLabel[at] = next;
        return;
      }
      k = this.nextOfLabel[at]!;
    }
  }

  private similarity(slot: number, q: Float32Array): number {
    const offset = slot * this.dimensions;
    return clamp(this.data instanceof Float32Array ? dot(this.data, offset, q) : dotFloat16(this.data, offset, q));
  }

  private float32Rows(from: number, to: number): Float32Array {
    const d = this.dimensions;
    if (this.data instanceof Float32Array) return this.data.subarray(from * d, to * d);
    const out = new Float32Array((to - from) * d);
    for (let i = 0, j = from * d; i < out.length; i++, j++) out[i] = FLOAT16_VALUES[this.data[j]!]!;
    return out;
  }

  private grow(): void {
    const data =
      this.data instanceof Float32Array
        ? new Float32Array(this.data.length * 2)
        : new Uint16Array(this.data.length * 2);
    data.set(this.data);
    this.data = data;
    this.keys = doubled(this.keys);
    this.labels = doubled(this.labels);
    this.nextOfLabel = doubled(this.nextOfLabel);
  }
}

function doubled(column: Float64Array): Float64Array {
  const out = new Float64Array(column.length * 2);
  out.set(column);
  return out;
}

function dot(data: Float32Array, offset: number, q: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = q.length;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += data[offset + j]! * q[j]!;
    s1 += data[offset + j + 1]! * q[j + 1]!;
    s2 += data[offset + j + 2]! * q[j + 2]!;
    s3 += data[offset + j + 3]! * q[j + 3]!;
  }
  for (; j < n; j++) s0 += data[offset + j]! * q[j]!;
  return s0 + s1 + s2 + s3;
}

function dotFloat16(data: Uint16Array, offset: number, q: Float32Array): number {
  const values = FLOAT16_VALUES;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = q.length;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += values[data[offset + j]!]! * q[j]!;
    s1 += values[data[offset + j + 1]!]! * q[j + 1]!;
    s2 += values[data[offset + j + 2]!]! * q[j + 2]!;
    s3 += values[data[offset + j + 3]!]! * q[j + 3]!;
  }
  for (; j < n; j++) s0 += values[data[offset + j]!]! * q[j]!;
  return s0 + s1 + s2 + s3;
}

const clamp = (x: number): number => Math.max(-1, Math.min(1, x));
