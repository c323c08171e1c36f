// One graph configuration of the search-index grid: builds the gallery's HNSW graph with M and
// the scalar kind given (and the rescoring store's, --store), measures every search expansion (ef) on it, and appends one JSON line
// per row (the exact index's too: the truth recall is measured against) to --out. One process
// per build keeps each build's RSS growth apart. Run each configuration under the bench lock, e.g.
//   flock /tmp/faceembed-bench.lock node --expose-gc dist/bench/search-grid.js --vectors 100000 --m 16 --scalar i8 --ef 160,320,640
// `--render docs/identification.md` rewrites that file's "Search at scale" section (to its end)
// and docs/benchmarks.md's search section from the rows (bench/parts/search-table.ts), as
// `npm run bench:identify` does.
import { readFileSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { StorePrecision } from '../src/search/exact-index.js';
import { DEFAULT_GRAPH_STORE } from '../src/search/gallery.js';
import type { HnswQuantization } from '../src/search/hnsw-index.js';
import { benchSearch } from '../src/search/search-bench.js';
import { load1 } from './parts/common.js';
import { writeSection } from './parts/doc-sections.js';
import { SEARCH_SECTION, searchSection, searchSummary } from './parts/search-table.js';

const { values } = parseArgs({
  options: {
    vectors: { type: 'string', default: '100000' },
    dims: { type: 'string', default: '128' },
    distribution: { type: 'string', default: 'faces' },
    m: { type: 'string', default: '16' },
    scalar: { type: 'string', default: 'i8' },
    store: { type: 'string', default: DEFAULT_GRAPH_STORE },
    ef: { type: 'string', default: '160' },
    queries: { type: 'string', default: '200' },
    out: { type: 'string', default: 'docs/search-grid.jsonl' },
    render: { type: 'string' },
    benchmarks: { type: 'string', default: 'docs/benchmarks.md' },
  },
});
if (values.render) {
  const doc = readFileSync(values.render, 'utf8');
  const at = doc.indexOf('## Search at scale');
  if (at < 0) throw new Error(`${values.render} has no "## Search at scale" section`);
  writeFileSync(values.render, `${doc.slice(0, at)}${searchSection(values.out).join('\n')}\n`);
  await writeSection(values.benchmarks, SEARCH_SECTION, searchSummary(values.out));
  process.exit(0);
}
const SCALARS: readonly string[] = ['f32', 'f16', 'i8'];
if (!SCALARS.includes(values.scalar)) throw new Error(`--scalar must be one of ${SCALARS.join(', ')}`);
if (!['f32', 'f16'].includes(values.store)) throw new Error('--store must be f32 or f16');
const command = `node --expose-gc dist/bench/search-grid.js ${process.argv.slice(2).join(' ')}`;
const measured = new Date().toISOString().slice(0, 10);
for (const r of benchSearch({
  vectors: Number(values.vectors),
  dims: Number(values.dims),
  distribution: values.distribution,
  queries: Number(values.queries),
  hnsw: { connectivity: Number(values.m), quantization: values.scalar as HnswQuantization },
  expansions: values.ef.split(',').map(Number),
  graphStore: values.store as StorePrecision,
})) {
  const line = JSON.stringify({ ...r, measured, command, load1: load1() });
  process.stdout.write(`${line}\n`);
  await appendFile(values.out, `${line}\n`);
}
