// The search-at-scale table of docs/identification.md, from the JSON lines that search-grid.ts
// and identify.ts append (one row per index measured, each with the command that measured it).
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_GRAPH_STORE } from '../../src/search/gallery.js';
import { HNSW_DEFAULTS } from '../../src/search/hnsw-index.js';
import type { SearchBenchResult } from '../../src/search/search-bench.js';

// Rows measured before the store could be float16 have no store (it was f32) and no score error.
export type SearchRow = SearchBenchResult & { measured: string; command: string };

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
    // The exact index measured in the same process (same command and day): the ratio that holds on a shared machine.
    const exact = rows.find((e) => e.index === 'exact' && e.command === r.command && e.measured === r.measured);
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
      'float32; max score error = the largest |similarity - exact similarity| over the persons both answered) ' +
      `(the gallery ships M=${HNSW_DEFAULTS.connectivity}, ${HNSW_DEFAULTS.quantization}, ef ` +
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

/** The targets for the shipped graph at 1M x 128 on the faces distribution. */
function targetsTable(rows: readonly SearchRow[]): string[] {
  const { connectivity, quantization, expansionSearch } = HNSW_DEFAULTS;
  const shipped = rows.find(
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
  const graph = `M=${connectivity}, ${quantization}, ef ${expansionSearch}, store ${DEFAULT_GRAPH_STORE}`;
  if (!shipped) return [`No row of the shipped graph (${graph}) at 1M x 128.`];
  const met = (ok: boolean) => (ok ? 'yes' : '**no**');
  return [
    `| target, 1M x 128, ${shipped.distribution}, shipped graph (${graph}) | measured | met |`,
    '|---|---|---|',
    `| recall@1 >= 0.99 | ${shipped.recall_at_1} | ${met(shipped.recall_at_1 >= 0.99)} |`,
    `| p50 <= 5 ms | ${shipped.p50_ms} ms | ${met(shipped.p50_ms <= 5)} |`,
    `| RSS growth <= 1 GB | ${shipped.rss_mb} MB | ${met(shipped.rss_mb <= 1000)} |`,
  ];
}
