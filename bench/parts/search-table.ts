// The search-at-scale table of docs/identification.md, from the JSON lines that search-grid.ts
// and identify.ts append (one row per index measured, each with the command that measured it).
import { existsSync, readFileSync } from 'node:fs';
import { FLOAT16_SIMILARITY_BOUND } from '../../src/search/float16.js';
import { DEFAULT_GRAPH_STORE } from '../../src/search/gallery.js';
import { HNSW_DEFAULTS } from '../../src/search/hnsw-index.js';
import type { SearchBenchResult } from '../../src/search/search-bench.js';

// Rows measured before the store could be float16 have no store (it was f32) and no score error.
export type SearchRow = SearchBenchResult & { measured: string; command: string; load1?: number };

/** docs/benchmarks.md's section on search, rendered with "Search at scale" (searchSummary). */
export const SEARCH_SECTION = 'search-bench';

export function readSearchRows(file: string): SearchRow[] {
  if (!existsSync(file)) return [];
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Partial<SearchRow>)
    .map((r) => ({ ...r, store: r.store ?? 'f32' }) as SearchRow);
  // A configuration measured again replaces its older row.
  const latest = new Map<string, SearchRow>();
  for (const r of rows) {
    const config = [r.distribution, r.vectors, r.dims, r.index, r.connectivity, r.quantization, r.expansion, r.store];
    // Exact search runs in every process (it is the truth): one row per run, with its command.
    latest.set([...config, r.index === 'exact' ? r.command : ''].join('|'), r);
  }
  return [...latest.values()].sort(
    (a, b) =>
      a.distribution.localeCompare(b.distribution) ||
      a.dims - b.dims ||
      a.vectors - b.vectors ||
      a.index.localeCompare(b.index) ||
      (a.connectivity ?? 0) - (b.connectivity ?? 0) ||
      (a.quantization ?? '').localeCompare(b.quantization ?? '') ||
      (a.expansion ?? 0) - (b.expansion ?? 0) ||
      a.store.localeCompare(b.store),
  );
}

export function searchTable(rows: readonly SearchRow[]): string[] {
  const lines = [
    '| distribution | vectors | dims | index | M | scalar | ef | store | build s | p50 ms | exact p50 ms, same run | ' +
      'p99 ms | recall@1 | recall@10 | max score error | RSS MB | index MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const exact = exactOf(rows, r);
    lines.push(
      `| ${r.distribution} | ${r.vectors} | ${r.dims} | ${r.index} | ${r.connectivity ?? ''} | ${r.quantization ?? ''} | ` +
        `${r.expansion ?? ''} | ${r.store} | ${r.build_s} | ${r.p50_ms} | ${r.index === 'hnsw' ? (exact?.p50_ms ?? '') : ''} | ` +
        `${r.p99_ms} | ${r.recall_at_1} | ${r.recall_at_10} | ${r.index === 'hnsw' ? (r.max_score_error ?? '') : ''} | ` +
        `${r.rss_mb} | ${r.index_mb} |`,
    );
  }
  const commands = [...new Set(rows.map((r) => `${r.measured}: \`${r.command}\``))];
  return [
    ...lines,
    '',
    'Measured by (each under `flock /tmp/faceembed-bench.lock`):',
    '',
    ...commands.map((c) => `- ${c}`),
  ];
}

/** The "Search at scale" section of docs/identification.md, to the end of the file. */
export function searchSection(rowsFile: string): string[] {
  return [
    '## Search at scale',
    '',
    'Synthetic galleries, 5 faces per person, 200 probes, top-10 persons; recall against exact search on the same ' +
      'gallery in the same process. `faces:<model>` spreads identities and their faces as that model spreads real ' +
      "ones (src/search/face-distribution.ts, fitted to the dev photos' statistics in src/search/face-stats/), a " +
      'probe being a new draw of its person; `uniform` draws random directions, a probe being its face plus noise ' +
      '(cosine ~0.9): the stress case. HNSW: usearch graph with M links and the scalar kind given, built with ef 128, ' +
      'searched with a beam of ef, every hit rescored from the store of the kind given (f16: scores within 2^-11 of ' +
      'float32; max score error = the largest |similarity - exact similarity| over the persons both answered; ' +
      `the gallery ships M=${HNSW_DEFAULTS.connectivity}, ${HNSW_DEFAULTS.quantization}, ef ` +
      `${HNSW_DEFAULTS.expansionSearch}, store ${DEFAULT_GRAPH_STORE}). RSS = ` +
      'growth of the process while the gallery was built (store, graph, maps; bench/search-grid.ts builds one graph ' +
      `per process); index = what /metrics reports. Rows of \`${rowsFile}\`, the latest of each configuration; ` +
      'the section is rendered from them by `npm run bench:identify` or by ' +
      `\`node dist/bench/search-grid.js --out ${rowsFile} --render docs/identification.md\`.`,
    '',
    ...targetsTable(readSearchRows(rowsFile)),
    '',
    ...searchTable(readSearchRows(rowsFile)),
  ];
}

const { connectivity, quantization, expansionSearch } = HNSW_DEFAULTS;
const SHIPPED = `M=${connectivity}, ${quantization}, ef ${expansionSearch}, store ${DEFAULT_GRAPH_STORE}`;

/** The latest row of the shipped graph at 1M x 128 on the faces distribution. */
function shippedRow(rows: readonly SearchRow[]): SearchRow | undefined {
  return rows.find(
    (r) =>
      r.distribution.startsWith('faces') &&
      r.vectors === 1_000_000 &&
      r.dims === 128 &&
      r.index === 'hnsw' &&
      r.connectivity === connectivity &&
      r.quantization === quantization &&
      r.expansion === expansionSearch &&
      r.store === DEFAULT_GRAPH_STORE,
  );
}

/** The exact index measured in the same process (same command and day): the ratio that holds on a shared machine. */
const exactOf = (rows: readonly SearchRow[], r: SearchRow) =>
  rows.find((e) => e.index === 'exact' && e.command === r.command && e.measured === r.measured);

/** The targets for the shipped graph at 1M x 128 on the faces distribution. */
function targetsTable(rows: readonly SearchRow[]): string[] {
  const shipped = shippedRow(rows);
  if (!shipped) return [`No row of the shipped graph (${SHIPPED}) at 1M x 128.`];
  const exact = exactOf(rows, shipped);
  const met = (ok: boolean) => (ok ? 'yes' : '**no**');
  const load = shipped.load1 === undefined ? '' : `, load average ${shipped.load1}`;
  return [
    `| target, 1M x 128, ${shipped.distribution}, shipped graph (${SHIPPED}) | measured | met |`,
    '|---|---|---|',
    `| recall@1 >= 0.99 | ${shipped.recall_at_1} (recall@10 ${shipped.recall_at_10}) | ${met(shipped.recall_at_1 >= 0.99)} |`,
    `| p50 <= 5 ms | ${shipped.p50_ms} ms, exact ${exact?.p50_ms ?? '?'} ms in the same run${load} | ` +
      `${met(shipped.p50_ms <= 5)} |`,
    `| RSS growth <= 1 GB | ${shipped.rss_mb} MB (build ${shipped.build_s} s) | ${met(shipped.rss_mb <= 1000)} |`,
    `| scores within ${FLOAT16_SIMILARITY_BOUND.toPrecision(2)} of float32 | largest error ${shipped.max_score_error} | ` +
      `${met(shipped.max_score_error <= FLOAT16_SIMILARITY_BOUND)} |`,
  ];
}

/** docs/benchmarks.md's section: the targets at 1M, what the figures mean, where the rest is. */
export function searchSummary(rowsFile: string): string {
  const rows = readSearchRows(rowsFile);
  const shipped = shippedRow(rows);
  return [
    '## Search at 1M faces',
    '',
    `From the rows of \`${rowsFile}\` (the tables, their commands and the distributions are in ` +
      '[identification.md](identification.md), "Search at scale"; both rendered by ' +
      `\`node dist/bench/search-grid.js --out ${rowsFile} --render docs/identification.md\`)` +
      (shipped ? `, measured ${shipped.measured} by \`${shipped.command}\`` : '') +
      '. Times on the shared 2 cores drift with the load: compare the graph with the exact row of the same run.',
    '',
    ...targetsTable(rows),
    '',
    ...(shipped ? [memoryNote(rows, shipped)] : []),
    ...SCORES_NOTE,
  ].join('\n');
}

/** What the shipped gallery's RSS holds, against the exact gallery of its run and the float32 store's row. */
function memoryNote(rows: readonly SearchRow[], shipped: SearchRow): string {
  const exact = exactOf(rows, shipped);
  const f32 = rows.find(
    (r) =>
      r.index === 'hnsw' &&
      r.store === 'f32' &&
      r.distribution === shipped.distribution &&
      r.vectors === shipped.vectors &&
      r.dims === shipped.dims &&
      r.quantization === shipped.quantization &&
      r.connectivity === shipped.connectivity &&
      r.expansion === shipped.expansion,
  );
  return (
    `- RSS: ${shipped.rss_mb} MB for the shipped gallery (graph, float16 store, keys and person columns)` +
    (exact ? `; ${exact.rss_mb} MB for the exact one of the same run (float32 store, keys and person columns)` : '') +
    (f32
      ? `; ${f32.rss_mb} MB for the same graph with a float32 store and Map-based person maps (${f32.measured})`
      : '') +
    '.'
  );
}

/** What the float16 store does to scores and decisions. */
const SCORES_NOTE = [
  '- Past `hnswMinFaces` (200k faces) the gallery rounds its rescoring store to float16 (src/search/float16.ts): ' +
    'half the bytes of float32 (256 MB instead of 512 MB at 1M x 128). Every similarity it gives is then within ' +
    '2^-11 = 4.9e-4 of the float32 one (round to nearest errs by at most 2^-11 relatively, so a stored unit vector ' +
    'moves by at most 2^-11 and, by Cauchy-Schwarz, so does its dot product with a unit probe); "largest error" ' +
    'is the measured worst over every person both searches returned. Smaller galleries keep float32 and answer ' +
    'exactly as before; `graphStore: "f32"` (GalleryOptions) keeps a large one exact at twice the store memory.',
  '- Decisions: only a face whose float32 score lies within 4.9e-4 of its threshold can land on the other side of ' +
    'it (accepted instead of unknown, or the reverse); the thresholds themselves are chosen at a stated false-accept ' +
    'rate on held-out data and stated to three decimals, coarser than this. Ranks can swap only between persons whose ' +
    'scores are within 9.8e-4 of each other.',
  '- The person maps are typed columns of the store (a label and a next-of-label key per face, one Map from ' +
    'person to first face) instead of a Map and a Set per person: at 1M faces 16 MB of columns and a 200k-entry ' +
    'Map against 83 MB of V8 heap for the Map and the Sets.',
];
