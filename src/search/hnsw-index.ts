// Approximate nearest neighbours: usearch's HNSW graph (native, prebuilt for linux-x64).
// Used by the gallery for candidates only; similarities are then recomputed from the gallery's
// store (float16 beside a graph: within 2^-11 of float32), so a quantized graph costs recall only.
import { createRequire } from 'node:module';
import { l2Normalize } from '../domain/vector.js';
import type { SearchHit, VectorIndex } from './vector-index.js';

const usearch = createRequire(import.meta.url)('usearch') as typeof import('usearch');

export type HnswQuantization = 'f32' | 'f16' | 'i8';

export interface HnswOptions {
  /** Links per node (M). */
  connectivity?: number;
  /** Candidate list while inserting (efConstruction). */
  expansionAdd?: number;
  /** Candidate list while searching (ef): the gallery rescores all of it, whatever top k asks. */
  expansionSearch?: number;
  quantization?: HnswQuantization;
  /** Native threads for a bulk add. */
  threads?: number;
}

const SCALAR_BYTES: Record<HnswQuantization, number> = { f32: 4, f16: 2, i8: 1 };

/**
 * Chosen from the grid in docs/identification.md ("Search at scale"): on the faces distribution
 * i8 with M=16 and a beam of 160 already gives recall@1 1 at 1M x 128 (and at 100k, where f16 and
 * f32 gave the same recall with a larger graph), and wider beams cost time for recall@10 only.
 */
export const HNSW_DEFAULTS: Required<HnswOptions> = {
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 160,
  quantization: 'i8',
  threads: 1,
};

export class HnswIndex implements VectorIndex {
  private readonly index: InstanceType<typeof usearch.Index>;
  private readonly opts: Required<HnswOptions>;
  private count = 0;

  constructor(
    readonly dimensions: number,
    opts: HnswOptions = {},
  ) {
    this.opts = { ...HNSW_DEFAULTS, ...opts };
    this.index = new usearch.Index({
      dimensions,
      metric: usearch.MetricKind.Cos,
      quantization: {
        f32: usearch.ScalarKind.F32,
        f16: usearch.ScalarKind.F16,
        i8: usearch.ScalarKind.I8,
      }[this.opts.quantization],
      connectivity: this.opts.connectivity,
      expansion_add: this.opts.expansionAdd,
      expansion_search: this.opts.expansionSearch,
      multi: false,
    });
  }

  add(key: number, vector: Float32Array): void {
    const k = BigInt(key);
    if (this.index.contains(k)) this.index.remove(k);
    this.index.add(k, l2Normalize(vector));
    this.count = this.index.size();
  }

  /** Many at once: rows of `matrix` (n x dimensions, normalised already) under `keys`. */
  addMany(keys: ArrayLike<number>, matrix: Float32Array): void {
    if (keys.length === 0) return;
    this.index.add(
      BigUint64Array.from(keys, (k) => BigInt(k)),
      matrix,
      this.opts.threads,
    );
    this.count = this.index.size();
  }

  remove(key: number): boolean {
    const removed = Number(this.index.remove(BigInt(key))) > 0;
    this.count = this.index.size();
    return removed;
  }

  search(query: Float32Array, k: number): SearchHit[] {
    if (this.count === 0 || k <= 0) return [];
    const found = this.index.search(l2Normalize(query), Math.min(k, this.count), 1);
    const hits: SearchHit[] = [];
    for (let i = 0; i < found.keys.length; i++) {
      const distance = found.distances[i]!;
      if (!Number.isFinite(distance)) continue;
      hits.push({ key: Number(found.keys[i]), similarity: 1 - distance });
    }
    return hits;
  }

  size(): number {
    return this.count;
  }

  /**
   * usearch does not report its memory: this estimates it from the layout (vector bytes, about
   * 2M links on the base layer, level links and per-node overhead). The benchmark measures RSS.
   */
  memoryBytes(): number {
    const capacity = Math.max(this.index.capacity(), this.count);
    const perNode = this.dimensions * SCALAR_BYTES[this.opts.quantization] + this.opts.connectivity * 2 * 4 * 1.1 + 24;
    return Math.round(capacity * perNode);
  }
}
