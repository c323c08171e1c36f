// The search-index port: unit vectors under integer keys (face crop ids), nearest by cosine.
// Small on purpose, so that a gallery can be refreshed from elsewhere (another server's change
// notifications) by add/remove alone.

export interface SearchHit {
  key: number;
  /** Cosine similarity, [-1, 1]. */
  similarity: number;
}

export interface VectorIndex {
  readonly dimensions: number;
  /** Adds or replaces; the vector is L2-normalised on the way in. */
  add(key: number, vector: Float32Array): void;
  /** True when the key was present. */
  remove(key: number): boolean;
  /** Up to k hits, most similar first. */
  search(query: Float32Array, k: number): SearchHit[];
  size(): number;
  /** Bytes held for vectors and links (an estimate where the native side does not say). */
  memoryBytes(): number;
}

/** Keeps the k best hits seen so far, most similar first (k is small: insertion is cheapest). */
export class TopK {
  readonly hits: SearchHit[] = [];
  constructor(private readonly k: number) {}

  /** The similarity a newcomer must beat, -Infinity until k hits are held. */
  get floor(): number {
    return this.hits.length < this.k ? -Infinity : this.hits[this.hits.length - 1]!.similarity;
  }

  offer(key: number, similarity: number): void {
    if (this.k <= 0 || similarity <= this.floor) return;
    let i = this.hits.length;
    while (i > 0 && this.hits[i - 1]!.similarity < similarity) i--;
    this.hits.splice(i, 0, { key, similarity });
    if (this.hits.length > this.k) this.hits.pop();
  }
}
