// How docs/benchmarks.md prints its figures: numbers with fixed decimals ('n/a' when missing),
// markdown tables, the runs behind a median, and the per-column "other" and efficiency pairs.
import type { Throughput } from './common.js';

export const f = (v: number | undefined, d = 1) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));
export const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join(
    '\n',
  );
export const runs = (t: Throughput) => (t.runs.length > 1 ? ` (runs: ${t.runs.join(', ')})` : '');
export const other = (...ts: { otherCores?: number | undefined }[]) => ts.map((t) => f(t.otherCores, 2)).join(' / ');
export const eff = (...ts: { efficiency?: number | undefined }[]) => ts.map((t) => f(t.efficiency, 2)).join(' / ');
