// Exact search over one contiguous Float32Array (row per key, grown by doubling, a removed
// row refilled by the last one). The full scan runs in usearch's native SIMD kernel; a scan
// over a subset (one group's faces) is a plain loop over those rows.
import { createRequire } from 'node:module';
import { l2Normalize } from '../domain/vector.js';
import { TopK, type SearchHit, type VectorIndex } from './vector-index.js';

// usearch's ESM entry recurses forever on import; its CommonJS build is fine.
const usearch = createRequire(import.meta.url)('usearch') as typeof import('usearch');

const INITIAL_ROWS = 1024;

export class ExactIndex implements VectorIndex {
  private data: Float32Array;
  private keys: Float64Array;
  private readonly slots = new Map<number, number>();
  private rows = 0;

  constructor(readonly dimensions: number) {
    this.data = new Float32Array(INITIAL_ROWS * dimensions);
    this.keys = new Float64Array(INITIAL_ROWS);
  }

  add(key: number, vector: Float32Array): void {
    if (vector.length !== this.dimensions)
      throw new RangeError(`Vector has ${vector.length} dimensions, the index ${this.dimensions}`);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      if (this.rows === this.keys.length) this.grow();
      slot = this.rows++;
      this.slots.set(key, slot);
      this.keys[slot] = key;
    }
    this.data.set(l2Normalize(vector), slot * this.dimensions);
  }

  remove(key: number): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    const last = --this.rows;
    if (slot !== last) {
      const d = this.dimensions;
      this.data.copyWithin(slot * d, last * d, (last + 1) * d);
      const moved = this.keys[last]!;
      this.keys[slot] = moved;
      this.slots.set(moved, slot);
    }
    this.slots.delete(key);
    return true;
  }

  has(key: number): boolean {
    return this.slots.has(key);
  }

  /** The stored (normalised) vector, a view into the store: copy it to keep it. */
  vector(key: number): Float32Array | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    return this.data.subarray(slot * this.dimensions, (slot + 1) * this.dimensions);
  }

  /** Every stored row (normalised) and its key, as views into the store: no copy of a large gallery. */
  allRows(): { keys: Float64Array; vectors: Float32Array } {
    return { keys: this.keys.subarray(0, this.rows), vectors: this.data.subarray(0, this.rows * this.dimensions) };
  }

  search(query: Float32Array, k: number): SearchHit[] {
    if (this.rows === 0 || k <= 0) return [];
    const q = l2Normalize(query);
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

  /** Exact top k among the given keys only (absent keys are skipped). */
  searchAmong(query: Float32Array, k: number, keys: Iterable<number>): SearchHit[] {
    const q = l2Normalize(query);
    const top = new TopK(k);
    const d = this.dimensions;
    for (const key of keys) {
      const slot = this.slots.get(key);
      if (slot === undefined) continue;
      top.offer(key, clamp(dot(this.data, slot * d, q)));
    }
    return top.hits;
  }

  /** Exact similarity of the query to the stored vectors of these keys. */
  rescore(query: Float32Array, keys: readonly number[]): SearchHit[] {
    const q = l2Normalize(query);
    const out: SearchHit[] = [];
    for (const key of keys) {
      const slot = this.slots.get(key);
      if (slot !== undefined) out.push({ key, similarity: clamp(dot(this.data, slot * this.dimensions, q)) });
    }
    return out.sort((a, b) => b.similarity - a.similarity);
  }

  size(): number {
    return this.rows;
  }

  memoryBytes(): number {
    // The arrays plus the key map (about 40 bytes per entry in V8).
    return this.data.byteLength + this.keys.byteLength + this.slots.size * 40;
  }

  private grow(): void {
    const data = new Float32Array(this.data.length * 2);
    data.set(this.data);
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.data = data;
    this.keys = keys;
  }
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

const clamp = (x: number): number => Math.max(-1, Math.min(1, x));
