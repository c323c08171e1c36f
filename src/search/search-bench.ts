// Measures search at scale on synthetic unit vectors: build time, memory, query latency and
// recall against exact search, for the gallery exactly as the server runs it (exact store,
// or HNSW candidates rescored from the store). Used by `faceembed bench search` and by
// `npm run bench:identify`; numbers go to docs, never into code.
import { performance } from 'node:perf_hooks';
import { Gallery } from './gallery.js';

export type IndexKind = 'exact' | 'hnsw';

export interface SearchBenchOptions {
  vectors: number;
  dims: number;
  /** Query count (default 200). */
  queries?: number;
  /** Enrolment faces per person (default 5): persons, not faces, are ranked. */
  facesPerPerson?: number;
  indexes?: IndexKind[];
  seed?: number;
  /** Told after each index is measured. */
  onResult?: (r: SearchBenchResult) => void;
}

export interface SearchBenchResult {
  vectors: number;
  dims: number;
  index: IndexKind;
  build_s: number;
  p50_ms: number;
  p99_ms: number;
  recall_at_1: number;
  recall_at_10: number;
  /** RSS growth while the index was built, MB. */
  rss_mb: number;
  /** What the gallery itself reports (the /metrics figure), MB. */
  index_mb: number;
}

/** Vector number `key` of the synthetic set: the same for a given seed, without storing it. */
function vectorOf(key: number, dims: number, seed: number, out = new Float32Array(dims)): Float32Array {
  let s = (Math.imul(key, 0x9e3779b1) ^ seed) >>> 0;
  for (let i = 0; i < dims; i += 2) {
    // Box-Muller over a mulberry32 stream: Gaussian components give uniformly spread directions.
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u1 = (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
    s = (s + 0x6d2b79f5) >>> 0;
    t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u2 = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < dims) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** A probe near face `key` (cosine about 0.9 to it): what an identify query looks like. */
function queryOf(key: number, dims: number, seed: number): Float32Array {
  const base = vectorOf(key, dims, seed);
  const noise = vectorOf(key + 0x7fffffff, dims, seed ^ 0x5bd1e995);
  let nb = 0;
  let nn = 0;
  for (let i = 0; i < dims; i++) {
    nb += base[i]! * base[i]!;
    nn += noise[i]! * noise[i]!;
  }
  const scale = 0.48 * Math.sqrt(nb / nn);
  return base.map((x, i) => x + scale * noise[i]!);
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function build(kind: IndexKind, opts: Required<Omit<SearchBenchOptions, 'onResult' | 'indexes'>>) {
  gc();
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const gallery = new Gallery(opts.dims, { hnswMinFaces: kind === 'hnsw' ? 0 : Number.POSITIVE_INFINITY });
  const v = new Float32Array(opts.dims);
  gallery.bulk(() => {
    for (let key = 1; key <= opts.vectors; key++) {
      gallery.add(key, Math.ceil(key / opts.facesPerPerson), vectorOf(key, opts.dims, opts.seed, v));
    }
  });
  const buildS = (performance.now() - started) / 1000;
  gc();
  return { gallery, buildS, rssMb: (process.memoryUsage().rss - before) / 1e6 };
}

export function benchSearch(options: SearchBenchOptions): SearchBenchResult[] {
  const opts = {
    vectors: options.vectors,
    dims: options.dims,
    queries: options.queries ?? 200,
    facesPerPerson: options.facesPerPerson ?? 5,
    seed: options.seed ?? 1,
  };
  const kinds = options.indexes ?? ['exact', 'hnsw'];
  const step = Math.max(1, Math.floor(opts.vectors / opts.queries));
  const queries = Array.from({ length: opts.queries }, (_, i) =>
    queryOf(1 + ((i * step) % opts.vectors), opts.dims, opts.seed),
  );
  let truth: number[][] | undefined;
  const results: SearchBenchResult[] = [];
  // Exact first: its answers are the truth HNSW is measured against.
  for (const kind of [...kinds].sort((a) => (a === 'exact' ? -1 : 1))) {
    const { gallery, buildS, rssMb } = build(kind, opts);
    const times: number[] = [];
    const answers: number[][] = [];
    for (const q of queries.slice(0, 5)) gallery.search(q, { topK: 10 }); // warm-up
    for (const q of queries) {
      const t0 = performance.now();
      const found = gallery.search(q, { topK: 10 });
      times.push(performance.now() - t0);
      answers.push(found.map((m) => m.personId));
    }
    if (kind === 'exact') truth = answers;
    times.sort((a, b) => a - b);
    let at1 = 0;
    let at10 = 0;
    if (truth) {
      answers.forEach((a, i) => {
        const want = truth![i]!;
        if (a[0] === want[0]) at1++;
        const got = new Set(a);
        at10 += want.filter((p) => got.has(p)).length / Math.max(1, want.length);
      });
    }
    const r: SearchBenchResult = {
      vectors: opts.vectors,
      dims: opts.dims,
      index: kind,
      build_s: round(buildS, 2),
      p50_ms: round(percentile(times, 50), 3),
      p99_ms: round(percentile(times, 99), 3),
      recall_at_1: truth ? round(at1 / queries.length, 4) : Number.NaN,
      recall_at_10: truth ? round(at10 / queries.length, 4) : Number.NaN,
      rss_mb: round(rssMb, 1),
      index_mb: round(gallery.memoryBytes() / 1e6, 1),
    };
    results.push(r);
    options.onResult?.(r);
  }
  return results;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
