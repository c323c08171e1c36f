// `faceembed bench search [--vectors N] [--dims D] [--queries Q] [--json]`: the search index
// at scale on synthetic unit vectors, exact and HNSW side by side (recall against exact).
import { benchSearch, type SearchBenchResult } from '../../search/search-bench.js';

export interface SearchBenchFlags {
  vectors: number;
  dims: number;
  queries: number;
  json: boolean;
}

export function runSearchBench(flags: SearchBenchFlags): void {
  const { vectors, dims, queries } = flags;
  const print = (r: SearchBenchResult) =>
    process.stdout.write(
      flags.json
        ? `${JSON.stringify(r)}\n`
        : `${r.index.padEnd(6)} ${r.vectors} x ${r.dims}: build ${r.build_s} s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, ` +
            `recall@1 ${r.recall_at_1}, recall@10 ${r.recall_at_10}, RSS +${r.rss_mb} MB (index ${r.index_mb} MB)\n`,
    );
  benchSearch({ vectors, dims, queries, onResult: print });
}
