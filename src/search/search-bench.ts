// Measures search at scale on a synthetic gallery (synthetic-vectors.ts: `uniform` directions or
// `faces` spread like a model's real faces): build time, memory, query latency and recall against
// exact search, for the gallery exactly as the server runs it (exact store, or HNSW candidates
// rescored from the store). Used by `faceembed bench search` and by `npm run bench:identify`
// (which sweeps the graph's settings); numbers go to docs, never into code.
import { performance } from 'node:perf_hooks';
import { ValueError } from '../errors.js';
import { facesGallery, loadFaceStatistics } from './face-distribution.js';
import type { StorePrecision } from './exact-index.js';
import { Gallery, type PersonMatch } from './gallery.js';
import { HNSW_DEFAULTS, type HnswOptions, type HnswQuantization } from './hnsw-index.js';
import { uniformGallery, type SyntheticGallery } from './synthetic-vectors.js';

export type IndexKind = 'exact' | 'hnsw';

export interface SearchBenchOptions {
  vectors: number;
  dims: number;
  /** `uniform`, `faces` (the stored statistics of the model of `dims` dimensions) or `faces:<model>`. */
  distribution?: string;
  /** Query count (default 200). */
  queries?: number;
  /** Enrolment faces per person (default 5): persons, not faces, are ranked. */
  facesPerPerson?: number;
  indexes?: IndexKind[];
  /** The graph's build settings (default: the gallery's own). */
  hnsw?: HnswOptions;
  /** The store's rows beside the graph (default: the gallery's own, f16). */
  graphStore?: StorePrecision;
  /** Search expansions (ef) measured on the one graph (default: the gallery's own). */
  expansions?: number[];
  seed?: number;
  /** Told after each index is measured. */
  onResult?: (r: SearchBenchResult) => void;
}

export interface SearchBenchResult {
  distribution: string;
  vectors: number;
  dims: number;
  index: IndexKind;
  /** The graph's settings (null for exact); expansion is the beam searched and rescored (ef). */
  connectivity: number | null;
  quantization: HnswQuantization | null;
  expansion: number | null;
  /** The rescoring store's scalar kind (f32 for exact). */
  store: StorePrecision;
  build_s: number;
  p50_ms: number;
  p99_ms: number;
  recall_at_1: number;
  recall_at_10: number;
  /** Largest |similarity - exact similarity| over the persons both answered, all probes. */
  max_score_error: number;
  /** RSS growth while the index was built, MB. */
  rss_mb: number;
  /** What the gallery itself reports (the /metrics figure), MB. */
  index_mb: number;
}

export const DISTRIBUTIONS = ['faces', 'uniform'] as const;

/** The synthetic gallery a `--distribution` value names. */
export function syntheticGallery(
  distribution: string,
  dims: number,
  facesPerPerson: number,
  seed: number,
): SyntheticGallery {
  const [kind, model] = distribution.split(':', 2);
  if (kind === 'uniform' && model === undefined) return uniformGallery(dims, seed);
  if (kind === 'faces')
    return facesGallery(loadFaceStatistics(model, dims), { dimensions: dims, facesPerPerson, seed });
  throw new ValueError(`--distribution must be faces, faces:<model> or uniform, got "${distribution}"`);
}

/** Persons asked of each search. */
const TOP_K = 10;

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function build(
  kind: IndexKind,
  data: SyntheticGallery,
  vectors: number,
  facesPerPerson: number,
  hnsw: HnswOptions,
  graphStore: StorePrecision | undefined,
) {
  gc();
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const gallery = new Gallery(data.dimensions, {
    hnswMinFaces: kind === 'hnsw' ? 0 : Number.POSITIVE_INFINITY,
    hnsw,
    graphStore,
  });
  const v = new Float32Array(data.dimensions);
  gallery.bulk(() => {
    for (let key = 1; key <= vectors; key++) gallery.add(key, Math.ceil(key / facesPerPerson), data.face(key, v));
  });
  const buildS = (performance.now() - started) / 1000;
  gc();
  return { gallery, buildS, rssMb: (process.memoryUsage().rss - before) / 1e6 };
}

function measure(gallery: Gallery, queries: Float32Array[], expansion: number | undefined) {
  const times: number[] = [];
  const answers: PersonMatch[][] = [];
  for (const q of queries.slice(0, 5)) gallery.search(q, { topK: TOP_K, expansion }); // warm-up
  for (const q of queries) {
    const t0 = performance.now();
    const found = gallery.search(q, { topK: TOP_K, expansion });
    times.push(performance.now() - t0);
    answers.push(found);
  }
  return { times: times.sort((a, b) => a - b), answers };
}

function compare(answers: PersonMatch[][], truth: PersonMatch[][]) {
  let at1 = 0;
  let at10 = 0;
  let maxError = 0;
  answers.forEach((a, i) => {
    const want = truth[i]!;
    if (a[0]?.personId === want[0]?.personId) at1++;
    const got = new Map(a.map((m) => [m.personId, m.similarity]));
    at10 += want.filter((m) => got.has(m.personId)).length / Math.max(1, want.length);
    for (const m of want) {
      const s = got.get(m.personId);
      if (s !== undefined) maxError = Math.max(maxError, Math.abs(s - m.similarity));
    }
  });
  return { at1: round(at1 / answers.length, 4), at10: round(at10 / answers.length, 4), maxError };
}

export function benchSearch(options: SearchBenchOptions): SearchBenchResult[] {
  const { vectors, dims } = options;
  const queryCount = options.queries ?? 200;
  const facesPerPerson = options.facesPerPerson ?? 5;
  const hnsw = options.hnsw ?? {};
  // What the gallery builds with (its threads default stays the gallery's).
  const settings = { ...HNSW_DEFAULTS, ...hnsw };
  const data = syntheticGallery(options.distribution ?? 'faces', dims, facesPerPerson, options.seed ?? 1);
  const kinds = options.indexes ?? ['exact', 'hnsw'];
  const step = Math.max(1, Math.floor(vectors / queryCount));
  const queries = Array.from({ length: queryCount }, (_, i) => data.probe(1 + ((i * step) % vectors)));
  // The graph first, in a fresh process heap, so its RSS growth is not hidden by pages the exact
  // store freed; exact search always runs, its answers being the truth recall is measured against.
  const pending: (Omit<SearchBenchResult, 'recall_at_1' | 'recall_at_10' | 'max_score_error'> & {
    answers: PersonMatch[][];
  })[] = [];
  for (const kind of ['hnsw', 'exact'] as const) {
    if (kind === 'hnsw' && !kinds.includes('hnsw')) continue;
    const { gallery, buildS, rssMb } = build(kind, data, vectors, facesPerPerson, hnsw, options.graphStore);
    const expansions = kind === 'hnsw' ? (options.expansions ?? [settings.expansionSearch]) : [undefined];
    for (const expansion of expansions) {
      const { times, answers } = measure(gallery, queries, expansion);
      pending.push({
        distribution: data.name,
        vectors,
        dims,
        index: kind,
        connectivity: kind === 'hnsw' ? settings.connectivity : null,
        quantization: kind === 'hnsw' ? settings.quantization : null,
        expansion: kind === 'hnsw' ? gallery.graphCandidates(TOP_K, expansion) : null,
        store: gallery.store.precision,
        build_s: round(buildS, 2),
        p50_ms: round(percentile(times, 50), 3),
        p99_ms: round(percentile(times, 99), 3),
        rss_mb: round(rssMb, 1),
        index_mb: round(gallery.memoryBytes() / 1e6, 1),
        answers,
      });
    }
  }
  const truth = pending.find((p) => p.index === 'exact')!.answers;
  const results: SearchBenchResult[] = [];
  for (const { answers, ...r } of pending.sort((a, b) => (a.index === 'exact' ? -1 : b.index === 'exact' ? 1 : 0))) {
    if (!kinds.includes(r.index)) continue;
    const { at1, at10, maxError } = compare(answers, truth);
    const result = { ...r, recall_at_1: at1, recall_at_10: at10, max_score_error: Number(maxError.toPrecision(2)) };
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
