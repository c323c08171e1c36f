// The search-at-scale table of docs/identification.md, from the JSON lines that search-grid.ts
// and identify.ts append (one row per index measured, each with the command that measured it).
import { existsSync, readFileSync } from 'node:fs';
import { HNSW_DEFAULTS } from '../../src/search/hnsw-index.js';
import type { SearchBenchResult } from '../../src/search/search-bench.js';

export type SearchRow = SearchBenchResult & { measured: string; command: string };

export function readSearchRows(file: string): SearchRow[] {
  if (!existsSync(file)) return [];
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SearchRow);
  // A configuration measured again replaces its older row.
  const latest = new Map<string, SearchRow>();
  for (const r of rows) {
    latest.set([r.distribution, r.vectors, r.dims, r.index, r.connectivity, r.quantization, r.expansion].join('|'), r);
  }
  return [...latest.values()].sort(
    (a, b) =>
      a.distribution.localeCompare(b.distribution) ||
      a.dims - b.dims ||
      a.vectors - b.vectors ||
      a.index.localeCompare(b.index) ||
      (a.connectivity ?? 0) - (b.connectivity ?? 0) ||
      (a.quantization ?? '').localeCompare(b.quantization ?? '') ||
      (a.expansion ?? 0) - (b.expansion ?? 0),
  );
}

export function searchTable(rows: readonly SearchRow[]): string[] {
  const lines = [
    '| distribution | vectors | dims | index | M | scalar | ef | build s | p50 ms | p99 ms | recall@1 | recall@10 | RSS MB | index MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.distribution} | ${r.vectors} | ${r.dims} | ${r.index} | ${r.connectivity ?? ''} | ${r.quantization ?? ''} | ` +
        `${r.expansion ?? ''} | ${r.build_s} | ${r.p50_ms} | ${r.p99_ms} | ${r.recall_at_1} | ${r.recall_at_10} | ` +
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
      'searched with a beam of ef, every hit rescored exactly from the float32 store (the gallery ships ' +
      `M=${HNSW_DEFAULTS.connectivity}, ${HNSW_DEFAULTS.quantization}, ef ${HNSW_DEFAULTS.expansionSearch}). RSS = ` +
      'growth of the process while the gallery was built (store, graph, maps; bench/search-grid.ts builds one graph ' +
      `per process); index = what /metrics reports. Rows of \`${rowsFile}\`, the latest of each configuration.`,
    '',
    ...searchTable(readSearchRows(rowsFile)),
  ];
}
