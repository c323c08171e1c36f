// `faceembed bench search [--vectors N] [--dims D] [--queries Q] [--distribution faces|uniform] [--json]`:
// the search index at scale on a synthetic gallery, exact and HNSW side by side (recall against
// exact). `faces` is spread like a model's real faces (the stored statistics of the model with
// --dims dimensions, or faces:<model>); `uniform`, random directions, is the stress case.
import { parseArgs } from 'node:util';
import { ValueError } from '../../errors.js';
import { benchSearch, type SearchBenchResult } from '../../search/search-bench.js';

const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`--${name} must be a positive integer, got "${text}"`);
  return n;
};

export function runSearchBench(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      vectors: { type: 'string', default: '100000' },
      dims: { type: 'string', default: '128' },
      queries: { type: 'string', default: '200' },
      distribution: { type: 'string', default: 'faces' },
      json: { type: 'boolean', default: false },
    },
  });
  const vectors = positive('vectors', values.vectors);
  const dims = positive('dims', values.dims);
  const queries = positive('queries', values.queries);
  const print = (r: SearchBenchResult) =>
    process.stdout.write(
      values.json
        ? `${JSON.stringify(r)}\n`
        : `${r.index.padEnd(6)} ${r.vectors} x ${r.dims} ${r.distribution}: build ${r.build_s} s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, ` +
            `recall@1 ${r.recall_at_1}, recall@10 ${r.recall_at_10}, RSS +${r.rss_mb} MB (index ${r.index_mb} MB)\n`,
    );
  benchSearch({ vectors, dims, queries, distribution: values.distribution, onResult: print });
}
