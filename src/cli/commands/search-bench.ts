// `faceembed bench search [--vectors N] [--dims D] [--queries Q] [--distribution faces|uniform] [--json]`:
// the search index at scale on a synthetic gallery, exact and HNSW side by side (recall against
// exact). `faces` is spread like a model's real faces (the stored statistics of the model with
// --dims dimensions, or faces:<model>); `uniform`, random directions, is the stress case.
import { benchSearch, type SearchBenchResult } from '../../search/search-bench.js';

export interface SearchBenchFlags {
  vectors: number;
  dims: number;
  queries: number;
  distribution: string;
  json: boolean;
}

export function runSearchBench(flags: SearchBenchFlags): void {
  const { vectors, dims, queries, distribution } = flags;
  const print = (r: SearchBenchResult) =>
    process.stdout.write(
      flags.json
        ? `${JSON.stringify(r)}\n`
        : `${r.index.padEnd(6)} ${r.vectors} x ${r.dims} ${r.distribution}: build ${r.build_s} s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, ` +
            `recall@1 ${r.recall_at_1}, recall@10 ${r.recall_at_10}, max score error ${r.max_score_error} (${r.store} store), RSS +${r.rss_mb} MB (index ${r.index_mb} MB)\n`,
    );
  benchSearch({ vectors, dims, queries, distribution, onResult: print });
}
